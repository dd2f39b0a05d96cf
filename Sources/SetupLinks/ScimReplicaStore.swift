import Replica
import Storage
import Synchronization

/// `ScimStore` inside one `ReplicaStore.write` transaction: what a SCIM
/// request that changes something runs on.
///
/// The store must have `ScimIndex.specs` installed (beside the other domain
/// indexes: see `Sources/Scim/NOTES.md`).
public struct ScimReplicaTransaction: ScimStore {
    /// The replica.
    public let store: ReplicaStore
    /// The transaction the writes join.
    public let tx: LocalTransaction

    /// The SCIM store of transaction `tx` of `store`.
    public init(store: ReplicaStore, tx: LocalTransaction) {
        self.store = store
        self.tx = tx
    }

    /// The record as this transaction sees it.
    public func record(_ id: String) throws -> Record? { try tx.record(id) }

    /// Writes in the transaction.
    @discardableResult
    public func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool) throws -> Record {
        try tx.write(id: id, kind: kind, values, revive: revive)
    }

    /// Deletes in the transaction.
    public func delete(id: String) throws { try tx.delete(id: id) }

    /// An exact index lookup, as this transaction sees it.
    public func lookup(_ index: ScimIndex, key: String) throws -> [Record] { try tx.lookup(index.rawValue, key: key) }

    /// A range scan (the store's connection sees the transaction's writes).
    public func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [Record] {
        try ScimReplicaReader(store: store).scan(index, prefix: prefix, offset: offset, limit: limit)
    }

    /// A full scan (the store's connection sees the transaction's writes).
    public func scanAll(_ index: ScimIndex, prefix: String, _ body: (Record) throws -> Void) throws {
        try ScimReplicaReader(store: store).scanAll(index, prefix: prefix, body)
    }

    /// An entry count.
    public func count(_ index: ScimIndex, prefix: String) throws -> Int { try store.count(index.rawValue, prefix: prefix) }
}

/// `ScimStore` for requests that only read (GET, list, search): no write
/// transaction, no lock held between the calls. Writing through it is a
/// programming error and throws.
public struct ScimReplicaReader: ScimStore {
    /// The replica.
    public let store: ReplicaStore
    /// Counts and page ends remembered across requests, if the caller keeps some.
    let cache: ScimListCache?

    /// A reader of `store`, remembering counts and page ends in `cache` when given one.
    public init(store: ReplicaStore, cache: ScimListCache? = nil) {
        self.store = store
        self.cache = cache
    }

    /// The record, tombstones included.
    public func record(_ id: String) throws -> Record? { try store.record(id: id) }

    /// Refused: a reader does not write.
    public func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool) throws -> Record {
        throw StoreError.invalid("a SCIM read tried to write record \(id)")
    }

    /// Refused: a reader does not write.
    public func delete(id: String) throws { throw StoreError.invalid("a SCIM read tried to delete record \(id)") }

    /// An exact index lookup.
    public func lookup(_ index: ScimIndex, key: String) throws -> [Record] { try store.lookup(index.rawValue, key: key) }

    /// A range scan in key order: the first `offset` entries are skipped inside
    /// the index (no record is read for them), so a SCIM `startIndex` deep into a
    /// list costs an index walk plus the page.
    ///
    /// With a cache, a page that starts where an earlier page of the same data ended
    /// (a client paging through with `startIndex` 1, 101, 201, …) continues from that
    /// page's cursor instead of walking the offset.
    public func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [Record] {
        guard limit > 0 else { return [] }
        let offset = max(0, offset)
        guard let cache else { return try store.scan(index.rawValue, prefix: prefix, offset: offset, limit: limit).map(\.record) }
        let version = try store.dataVersion()
        let entries: [IndexEntry]
        if offset > 0, let cursor = cache.cursor(version, index, prefix, offset) {
            entries = try store.scan(index.rawValue, prefix: prefix, after: cursor, limit: limit)
        } else {
            entries = try store.scan(index.rawValue, prefix: prefix, offset: offset, limit: limit)
        }
        if let last = entries.last { cache.remember(version, index, prefix, offset + entries.count, last.cursor) }
        return entries.map(\.record)
    }

    /// A full scan, page by page with cursors.
    public func scanAll(_ index: ScimIndex, prefix: String, _ body: (Record) throws -> Void) throws {
        var cursor: IndexCursor?
        let pageSize = 500
        while true {
            let page = try store.scan(index.rawValue, prefix: prefix, after: cursor, limit: pageSize)
            for e in page { try body(e.record) }
            guard page.count == pageSize, let last = page.last else { return }
            cursor = last.cursor
        }
    }

    /// An entry count (counted once per data version with a cache).
    public func count(_ index: ScimIndex, prefix: String) throws -> Int {
        guard let cache else { return try store.count(index.rawValue, prefix: prefix) }
        let version = try store.dataVersion()
        if let n = cache.count(version, index, prefix) { return n }
        let n = try store.count(index.rawValue, prefix: prefix)
        cache.remember(version, index, prefix, count: n)
        return n
    }
}

/// What SCIM list requests learn of an index that the next request may reuse while
/// the replica's data stays the same (`ReplicaStore.dataVersion`): the number of
/// entries under a prefix (`totalResults`) and where a page ended (the next page's
/// start). Anything written to the replica, here or by another process, makes it
/// all stale, so it is dropped. Bounded: past `capacity` entries it starts over.
public final class ScimListCache: Sendable {
    private struct Key: Hashable {
        var index: ScimIndex
        var prefix: String
        var offset: Int
    }

    private struct State {
        var version: DataVersion?
        var counts: [Key: Int] = [:]
        var cursors: [Key: IndexCursor] = [:]

        /// Forgets everything learnt of another data version.
        mutating func use(_ v: DataVersion) {
            if version != v {
                version = v
                counts.removeAll()
                cursors.removeAll()
            }
        }
    }

    /// The most cursors and counts kept.
    static let capacity = 4096
    private let state = Mutex(State())

    /// An empty cache.
    public init() {}

    func count(_ v: DataVersion, _ index: ScimIndex, _ prefix: String) -> Int? {
        state.withLock { s in s.version == v ? s.counts[Key(index: index, prefix: prefix, offset: -1)] : nil }
    }

    func remember(_ v: DataVersion, _ index: ScimIndex, _ prefix: String, count: Int) {
        state.withLock { s in
            s.use(v)
            if s.counts.count >= Self.capacity { s.counts.removeAll() }
            s.counts[Key(index: index, prefix: prefix, offset: -1)] = count
        }
    }

    func cursor(_ v: DataVersion, _ index: ScimIndex, _ prefix: String, _ offset: Int) -> IndexCursor? {
        state.withLock { s in s.version == v ? s.cursors[Key(index: index, prefix: prefix, offset: offset)] : nil }
    }

    func remember(_ v: DataVersion, _ index: ScimIndex, _ prefix: String, _ offset: Int, _ cursor: IndexCursor) {
        state.withLock { s in
            s.use(v)
            if s.cursors.count >= Self.capacity { s.cursors.removeAll() }
            s.cursors[Key(index: index, prefix: prefix, offset: offset)] = cursor
        }
    }
}
