import Storage

/// Pages of an index for the API's lists: `pageOffset` rows skipped (inside the index:
/// only the page's records are read), or continued after a `pageToken`, over one or
/// more key prefixes in turn (a tenant and product's users span its directories).
struct IndexPager {
    let store: ReplicaStore
    let index: String

    /// Up to `paging.limit` entries under `prefixes` (in that order), and the token of the
    /// next page when this one is full. `keep` drops entries that do not count (a removed
    /// membership): the offset then counts kept entries only, walking the ones before it.
    func page(prefixes: [String], _ paging: Paging, keep: ((IndexEntry) -> Bool)? = nil) throws -> ([IndexEntry], String?) {
        var out: [IndexEntry] = []
        var start = 0
        var cursor: IndexCursor?
        var skip = paging.offset
        if let token = paging.token {
            guard let i = prefixes.firstIndex(where: { token.keyText.hasPrefix($0) }) else {
                throw APIError.badRequest("pageToken belongs to another list; use the pageToken of the previous page of this one")
            }
            start = i
            cursor = token
            skip = 0
        }
        for i in start..<prefixes.count where out.count < paging.limit {
            let prefix = prefixes[i]
            let after = i == start ? cursor : nil
            if keep == nil, skip > 0, after == nil {
                // Whole prefixes are skipped by their counts; within one, the index skips.
                let n = try store.count(index, prefix: prefix)
                if skip >= n { skip -= n; continue }
            }
            var position = after
            while out.count < paging.limit {
                let want = paging.limit - out.count
                let batch: [IndexEntry]
                if keep == nil {
                    batch = try store.scan(index, prefix: prefix, after: position, offset: skip, limit: want)
                    skip = 0
                } else {
                    batch = try store.scan(index, prefix: prefix, after: position, limit: max(want, 200))
                }
                for e in batch {
                    if let keep, !keep(e) { continue }
                    if skip > 0 { skip -= 1; continue }
                    out.append(e)
                    if out.count == paging.limit { break }
                }
                guard let end = batch.last, batch.count == (keep == nil ? want : max(want, 200)) else { break }
                if out.count == paging.limit { break }
                position = end.cursor
            }
        }
        // A full page may have more after it: its last entry's position is the next page's start.
        guard out.count == paging.limit, let end = out.last else { return (out, nil) }
        return (out, PageToken.encode(end.cursor, key: end.key))
    }
}
