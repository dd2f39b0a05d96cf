import Foundation
import Replica

/// Who sent a page, as the message says: what its peer-input checks are made against.
public struct PeerSender: Sendable {
    /// The sending replica, if the message names it.
    public var replica: ReplicaID?
    /// The sender's replica clock as it declares it (its own entry is its counter), if sent.
    public var clock: VectorClock?

    /// A sender.
    public init(replica: ReplicaID?, clock: VectorClock?) {
        self.replica = replica
        self.clock = clock
    }
}

extension ReplicaStore {
    /// The changes a peer whose replica clock is `peer` lacks: one page of at most `limit` records,
    /// cut in the order of the dots index, read from one snapshot, in their stored encodings.
    ///
    /// Costs one indexed range query per replica the peer is behind on (each reads the
    /// dots and the bodies together): proportional to the answer, not the replica.
    ///
    /// A page holds at most `maxBytes` of records past its first one; a change larger than
    /// a page crosses in parts (`ChangePage.partial`), the next part asked for with `cursor`.
    public func changes(since peer: VectorClock, limit: Int, maxBytes: Int = ChangePage.maxBytes,
                        wholeChange: Int = ChangePage.wholeChange, cursor: PageCursor? = nil) throws -> ChangePage {
        try wrap {
            try db.transaction(immediate: false) {
                let mine = try loadClock()
                // Row values: a dot's records in row order, resumable after any of them (a cursor).
                let q = try db.prepare("""
                    SELECT d.counter, d.rid, r.id, r.body FROM dots d JOIN records r ON r.rid = d.rid
                    WHERE d.rix=?1 AND (d.counter, d.rid) > (?2, ?3) AND d.counter<=?4 ORDER BY d.counter, d.rid LIMIT ?5
                    """)
                var bodies: [String: [UInt8]] = [:]
                let (items, coverage, more, partial) = try cutPage(
                    replicaClock: mine, peerClock: peer, limit: limit, maxBytes: maxBytes, wholeChange: wholeChange, cursor: cursor,
                    dots: { o, after, position, upTo, n in
                        guard let r = try rix(o, create: false) else { return [] }
                        q.reset()
                        q.bind(int: r, at: 1)
                        q.bind(int: Int64(bitPattern: after), at: 2)
                        q.bind(int: position, at: 3)
                        q.bind(int: Int64(bitPattern: upTo), at: 4)
                        q.bind(int: Int64(min(n, Int(Int64.max))), at: 5)
                        var out: [(counter: UInt64, position: Int64, id: String)] = []
                        while try q.step() {
                            let id = q.text(2)
                            if bodies[id] == nil { bodies[id] = q.withBlob(3) { Array($0) } }
                            out.append((UInt64(q.int(0)), q.int(1), id))
                        }
                        return out
                    },
                    item: { id -> EncodedRecord? in bodies[id].map { EncodedRecord(id: id, bytes: $0) } },
                    size: { $0.bytes.count + $0.id.utf8.count })
                return ChangePage(records: items, coverage: coverage, more: more, base: peer, partial: partial)
            }
        }
    }

    /// Merges a page of remote records and raises the replica clock by its coverage,
    /// in one transaction: all or nothing. Re-applying a page changes nothing.
    ///
    /// With `sender`, the page is peer input: it is checked first (`PeerInput`,
    /// against this replica's counter and wall clock) and refused whole with a
    /// `PeerInputError` naming the field. A record that is unknown here and whose
    /// clock is below the purge floor is a stale copy of a purged tombstone: it is
    /// dropped, not revived.
    @discardableResult
    public func apply(_ page: ChangePage, from sender: PeerSender? = nil) throws -> MergeSummary {
        try apply([page], from: sender)
    }

    /// Applies several pages, in order, in one transaction: all or nothing.
    ///
    /// A sync groups the pages it has already received: one transaction writes
    /// each B-tree page of the id index once instead of once per received page,
    /// which is most of the cost of small transactions.
    @discardableResult
    public func apply(_ pages: [ChangePage], from sender: PeerSender? = nil) throws -> MergeSummary {
        try wrap {
            do {
                return try db.transaction {
                    var total = MergeSummary()
                    var seen: [Int64]?
                    let session = "from:" + (sender?.replica?.hex ?? "local")
                    for page in pages { total = total + (try applyStaging(page, from: sender, prepared: nil, seen: &seen, session: session)) }
                    return total
                }
            } catch {
                resetReplicaCache()
                throw error
            }
        }
    }

    /// Applies pages pulled from `peer`, in order, in one transaction: all or nothing.
    ///
    /// Each page comes with the peer's clock when it was cut, and is peer input
    /// checked against it (`PeerInput`). A page cut from a state older than what
    /// the peer had acknowledged (a page still in flight when this replica purged
    /// on that acknowledgement, or a peer restored from a backup) may hold live
    /// copies of purged records: it is refused with `StaleReplicaError`, and
    /// nothing is applied.
    @discardableResult
    public func apply(pulled pages: [(page: ChangePage, peerClock: VectorClock)], from peer: ReplicaID) throws -> MergeSummary {
        try apply(pulled: pages.map { ($0.page, $0.peerClock, nil) }, from: peer)
    }

    /// Applies pulled pages as `apply(pulled:from:)` does, each with its records prepared
    /// ahead (`mergePreparer()`) where given: the merge then only does what needs the file.
    ///
    /// `more` is asked for further pages after each group, inside the same transaction
    /// (so under the store's lock and SQLite's write lock: it must answer at once,
    /// never wait on the network); an empty answer commits. A sync uses it to make
    /// transactions larger than what its fetcher holds in memory: each transaction
    /// rewrites every index leaf it touches, so fewer, larger ones write less.
    ///
    /// With `resync`, the records of every page are noted as received (`finishResync`).
    @discardableResult
    public func apply(pulled pages: [(page: ChangePage, peerClock: VectorClock, prepared: PreparedRecords?)],
                      from peer: ReplicaID, resync: Bool = false,
                      more: () -> [(page: ChangePage, peerClock: VectorClock, prepared: PreparedRecords?)] = { [] }) throws -> MergeSummary {
        try wrap {
            do {
                return try db.transaction {
                    var total = MergeSummary()
                    var group = pages
                    var seen: [Int64]? = resync ? [] : nil
                    while !group.isEmpty {
                        for (page, peerClock, prepared) in group {
                            try checkNotBehindAcknowledgement(peer, holds: peerClock, side: .peer)
                            total = total + (try applyStaging(page, from: PeerSender(replica: peer, clock: peerClock),
                                                              prepared: prepared, seen: &seen, session: Self.pullSession(peer)))
                            if let s = seen, s.count >= 10_000 {
                                try noteResyncSeen(s)
                                seen = []
                            }
                        }
                        group = more()
                    }
                    if let seen { try noteResyncSeen(seen) }
                    return total
                }
            } catch {
                resetReplicaCache()
                throw error
            }
        }
    }

    /// Prepares records for this store's merges on another thread (see `MergePreparer`).
    /// Records prepared before indexes are installed again are prepared again by the merge.
    public func mergePreparer() -> MergePreparer {
        lock.withLock {
            MergePreparer(plan: indexPlan, hasher: recordKeys.copy(), store: instance, generation: indexGeneration, rules: recordRules)
        }
    }

    /// Merges one page inside the caller's transaction.
    ///
    /// A sync's pages are mostly new records, so the work is done in chunks with
    /// few statements: one query finds which ids of a chunk exist (by their
    /// integer keys), then the new records, their dots and their index keys are
    /// each inserted with one multi-row statement. Records that exist are merged
    /// one by one (re-delivery costs a clock comparison; a concurrent state, a join).
    func applyInTransaction(_ page: ChangePage, from sender: PeerSender?, prepared: PreparedRecords? = nil) throws -> MergeSummary {
        var seen: [Int64]?
        return try applyInTransaction(page, from: sender, prepared: prepared, seen: &seen)
    }

    /// `applyInTransaction(_:from:prepared:)`, appending to `seen` (when not `nil`) the row of
    /// every record of the page that is stored here afterwards.
    func applyInTransaction(_ page: ChangePage, from sender: PeerSender?, prepared: PreparedRecords?,
                            seen: inout [Int64]?) throws -> MergeSummary {
        try checkIndexesWritable()
        let floor = try loadFloor()
        // Tombstones arriving make this replica's acknowledgement due (`announceIfDue`).
        var sawTombstone = false
        let before = try loadClock()
        var check: PeerInput?
        if let sender {
            var c = PeerInput(receiver: replicaID, receiverCounter: before[replicaID], now: now(), corrections: try loadCorrections())
            if let declared = sender.clock {
                try c.check(clock: declared, field: "clock")
            }
            c.sender = sender.replica
            c.senderCounter = sender.replica.flatMap { sender.clock?[$0] }
            try c.check(page: page)
            check = c
        } else {
            // Pages from this process (tests, tools) are cut from one snapshot too: one state per id.
            var seen = Set<String>(minimumCapacity: page.records.count)
            for r in page.records where !seen.insert(r.id).inserted {
                throw MergeError.invalidRecord(id: r.id, reason: "appears twice in one page")
            }
        }
        let plan = indexPlan
        // Records prepared from this page, for this store and these indexes; otherwise each chunk is prepared here.
        let given = prepared.flatMap { p in p.fit(page, store: instance, generation: indexGeneration) ? p : nil }
        var summary = MergeSummary()
        // Records changed per kind (by raw code), folded into the summary at the end: an array
        // increment per record rather than a dictionary's.
        var kinds = [Int](repeating: 0, count: 256)
        var maxSeen = HLC.zero
        let chunk = 100
        var start = 0
        var nextRid: Int64?
        while start < page.records.count {
            let end = min(page.records.count, start + chunk)
            let pre = given ?? MergePreparer.prepare(page, start..<end, plan: plan, hasher: recordKeys,
                                                     store: instance, generation: indexGeneration,
                                                     rules: check != nil ? recordRules : nil)
            // Check each record of the chunk, in order; the first that cannot be read refuses the page.
            var at: [Int] = []
            at.reserveCapacity(end - start)
            for i in start..<end {
                let k = try pre.index(of: i)
                if let check {
                    try check.check(record: pre.facts[k], of: page, at: i)
                    if pre.rulesChecked {
                        if let v = pre.violations[k] { throw RecordRule.refusal(v, at: i) }
                    } else if recordRules != nil {
                        try checkRules(page.records[i], kind: pre.facts[k].kind, at: i)
                    }
                }
                at.append(k)
            }
            let keys = at.map { pre.keys[$0] }
            // Which of them exist here: one query for the chunk.
            let existing = try existingRows(keys: keys)
            var fresh: [Int] = []
            for k in 0..<(end - start) {
                let r = page.records[start + k], f = pre.facts[at[k]]
                if !f.isLive { sawTombstone = true; tombstoneEpoch &+= 1 }
                if let rid = existing.first(where: { $0.key == keys[k] && $0.id == r.id })?.rid {
                    seen?.append(rid)
                    if try mergeExisting(r, facts: f, rid: rid, summary: &summary) {
                        kinds[Int(f.kind.rawValue)] += 1
                        if f.maxHLC > maxSeen { maxSeen = f.maxHLC }
                    }
                } else if !floor.isEmpty && f.clock.isDominated(by: floor) {
                    // Under the purge floor, unknown here: a stale copy of a purged tombstone.
                    summary.dropped += 1
                } else {
                    fresh.append(k)
                    kinds[Int(f.kind.rawValue)] += 1
                    if f.maxHLC > maxSeen { maxSeen = f.maxHLC }
                }
            }
            if !fresh.isEmpty {
                if nextRid == nil { nextRid = try nextRowNumber() }
                try insertNew(fresh.map { (page.records[start + $0], at[$0]) }, from: pre, firstRid: nextRid!)
                if seen != nil { seen!.append(contentsOf: nextRid!..<(nextRid! + Int64(fresh.count))) }
                nextRid! += Int64(fresh.count)
                summary.inserted += fresh.count
                summary.changed += fresh.count
            }
            start = end
        }
        let after = page.advance(before)
        for e in after.entries where e.counter > before[e.replica] { try raiseClock(e.replica, to: e.counter) }
        // A member record may have brought a retirement (`member retire`): pin it.
        if summary.changed > 0, page.records.contains(where: { $0.bytes.count > 1 && $0.bytes[1] == RecordKind.replica.rawValue }) {
            var report = Repair()
            try absorbRetirements(&report)
        }
        if maxSeen > (try loadHLC()) { try setHLC(maxSeen) }
        if sawTombstone { try markAnnouncementDue() }
        if !summary.discarded.isEmpty { try recordDiscarded(summary.discarded) }
        for (raw, n) in kinds.enumerated() where n > 0 { summary.changedByKind[UInt8(raw)] = n }
        return summary
    }

    /// The rows whose keys are among `keys` (one query): a sync's pages are mostly
    /// new records, so this is usually empty, and a scan of it beats hashing ids.
    func existingRows(keys: [Int64]) throws -> [(key: Int64, id: String, rid: Int64)] {
        let s = try rowsStatement("SELECT idk, id, rid FROM records WHERE idk IN (", "?", ",", ")", rows: keys.count)
        defer { s.reset() }
        for (i, k) in keys.enumerated() { s.bind(int: k, at: Int32(i + 1)) }
        var out: [(key: Int64, id: String, rid: Int64)] = []
        while try s.step() { out.append((s.int(0), s.text(1), s.int(2))) }
        return out
    }

    /// Merges a remote record into the stored one at `rid`; returns whether it changed anything.
    func mergeExisting(_ r: EncodedRecord, facts: RecordFacts, rid: Int64, summary: inout MergeSummary) throws -> Bool {
        let s = try db.prepare("SELECT body FROM records WHERE rid=?")
        s.bind(int: rid, at: 1)
        defer { s.reset() }
        guard try s.step() else { throw StoreError.invalid("record \(r.id) vanished during a merge") }
        // The stored clock tells whether the remote state is already contained (re-delivery).
        var p = ClockProbe(remote: facts.clock)
        do { try s.withBlob(0) { try walkEncodedRecord($0, &p) } } catch let e as RecordDecodingError {
            throw StoreError.corruptRecord(path: path, id: r.id, reason: e.description)
        }
        if p.covers { return false }
        // A remote state that follows the stored one replaces it whole (`Record.merged`): with no
        // concurrent values (no conflict to count), that needs neither state decoded, only what
        // the index and the dots hold (a sync of updates, a large delete: most merges of existing records).
        if p.coveredByRemote && !facts.hasConcurrentVersions {
            try replaceFollowed(rid: rid, with: r, facts: facts, stored: s)
            summary.changed += 1
            return true
        }
        let stored = try decode(id: r.id, s, column: 0)
        s.reset()
        let remote: Record
        do { remote = try r.decoded() } catch { throw MergeError.invalidRecord(id: r.id, reason: error.description) }
        guard let m = try mergeRecord(local: stored, remote: remote, summary: &summary) else { return false }
        try store(m, replacing: stored, rid: rid)
        return true
    }

    /// Replaces the stored state at `rid` (the current row of `stored`) with a remote state
    /// that follows it, from both encodings: the row, its dots, its index keys.
    func replaceFollowed(rid: Int64, with r: EncodedRecord, facts: RecordFacts, stored: Statement) throws {
        let plan = indexPlan
        let (oldDots, oldKeys): ([Dot], IndexKeys) = try stored.withBlob(0) { bytes in
            let f: RecordFacts
            do throws(RecordDecodingError) { f = try RecordFacts(encoded: bytes, winnersOf: plan?.wanted ?? []) } catch {
                throw StoreError.corruptRecord(path: path, id: r.id, reason: error.description)
            }
            return (f.dots, plan?.keys(facts: f, bytes: bytes) ?? .none)
        }
        stored.reset()
        let newKeys = plan.map { p in r.bytes.withUnsafeBytes { p.keys(facts: facts, bytes: $0) } } ?? .none
        let s = try statement(.updateRecord)
        s.bind(int: rid, at: 1)
        s.bind(int: Int64(facts.kind.rawValue), at: 2)
        s.bind(int: facts.isLive ? 1 : 0, at: 3)
        r.bytes.withUnsafeBytes { _ = s.bind(blob: $0, at: 4) }
        while try s.step() {}
        if !facts.isLive { tombstoneEpoch &+= 1 }
        for d in oldDots where !facts.dots.contains(d) { try removeDot(d, rid: rid) }
        for d in facts.dots where !oldDots.contains(d) { try addDot(d, rid: rid) }
        if plan != nil { try updateKeys(rid: rid, old: oldKeys, new: newKeys) }
    }

    /// Inserts new records with row numbers from `firstRid` on, their dots and their index keys,
    /// each with multi-row statements; each comes with its position in `pre`, which read it.
    func insertNew(_ rows: [(EncodedRecord, Int)], from pre: PreparedRecords, firstRid: Int64) throws {
        var dotRows: [(Int64, Int64, Int64)] = []
        var keyRows: [(entry: Int, rid: Int64)] = []
        dotRows.reserveCapacity(rows.count)
        keyRows.reserveCapacity(rows.count * 3)
        for batch in stride(from: 0, to: rows.count, by: 50) {
            let part = rows[batch..<min(rows.count, batch + 50)]
            // OR FAIL, not the default ABORT: a multi-row statement that may abort keeps a statement
            // journal (the old image of every page it touches, in a temporary file), which wrote
            // three times the WAL's bytes; any failure here rolls back the whole transaction anyway.
            let s = try rowsStatement("INSERT OR FAIL INTO records(rid, idk, id, kind, live, body) VALUES ", "(?,?,?,?,?,?)", ",", "",
                                      rows: part.count)
            var p: Int32 = 1
            for (k, row) in part.enumerated() {
                let (r, at) = row
                let f = pre.facts[at]
                let rid = firstRid + Int64(batch + k)
                s.bind(int: rid, at: p)
                s.bind(int: pre.keys[at], at: p + 1)
                s.bind(text: r.id, at: p + 2)
                s.bind(int: Int64(f.kind.rawValue), at: p + 3)
                s.bind(int: f.isLive ? 1 : 0, at: p + 4)
                r.bytes.withUnsafeBytes { _ = s.bind(blob: $0, at: p + 5) }
                p += 6
                for e in pre.keyStarts[at]..<pre.keyStarts[at + 1] { keyRows.append((e, rid)) }
                for d in f.dots { dotRows.append((try rix(d.replica, create: true)!, Int64(d.counter), rid)) }
            }
            defer { s.reset() }
            while try s.step() {}
        }
        for batch in stride(from: 0, to: dotRows.count, by: 100) {
            let part = dotRows[batch..<min(dotRows.count, batch + 100)]
            let s = try rowsStatement("INSERT OR IGNORE INTO dots(rix, counter, rid) VALUES ", "(?,?,?)", ",", "", rows: part.count)
            defer { s.reset() }
            var p: Int32 = 1
            for (r, c, rid) in part {
                s.bind(int: r, at: p); s.bind(int: c, at: p + 1); s.bind(int: rid, at: p + 2)
                p += 3
            }
            while try s.step() {}
        }
        if !keyRows.isEmpty { keysTouched = true }
        try pre.keyBytes.withUnsafeBytes { flat in
            for batch in stride(from: 0, to: keyRows.count, by: 100) {
                let end = min(keyRows.count, batch + 100)
                let s = try rowsStatement("INSERT OR IGNORE INTO keys(ix, key, rid) VALUES ", "(?,?,?)", ",", "", rows: end - batch)
                defer { s.reset() }
                var p: Int32 = 1
                for (e, rid) in keyRows[batch..<end] {
                    let entry = pre.keyEntries[e]
                    s.bind(int: Int64(entry.ix), at: p)
                    _ = s.bind(blob: UnsafeRawBufferPointer(rebasing: flat[entry.range]), at: p + 1)
                    s.bind(int: rid, at: p + 2)
                    p += 3
                }
                while try s.step() {}
            }
        }
    }

    /// A statement of `head`, then `row` `rows` times separated by `separator`, then `tail`,
    /// prepared once per shape and kept: building and hashing the SQL of a 100-row
    /// statement cost more than binding its rows.
    func rowsStatement(_ head: String, _ row: String, _ separator: String, _ tail: String, rows: Int) throws -> Statement {
        let name = "\(head)\(rows)"
        if let s = rowsStatements[name] {
            s.reset()
            return s
        }
        let s = try db.prepare(head + Array(repeating: row, count: rows).joined(separator: separator) + tail)
        rowsStatements[name] = s
        return s
    }
}

/// Whether a stored encoding's clock covers a remote clock (equal or later): then
/// merging the remote state changes nothing; and whether the remote clock covers the
/// stored one (the remote state follows it). Reads the clock only.
struct ClockProbe: EncodedRecordVisitor {
    let remote: VectorClock
    let want: [VectorClock.Entry]
    var j = 0
    var ok = true
    /// Whether every stored entry is covered by the remote clock.
    var coveredByRemote = true

    init(remote: VectorClock) {
        self.remote = remote
        want = remote.entries
    }

    var covers: Bool { ok && j == want.count }

    mutating func kind(_ kind: RecordKind) {}
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) {
        // Entries are sorted by replica on both sides: walk them together.
        while j < want.count && want[j].replica < replica {
            ok = false
            j += 1
        }
        if j < want.count && want[j].replica == replica {
            if counter < want[j].counter { ok = false }
            if counter > want[j].counter { coveredByRemote = false }
            j += 1
        } else {
            coveredByRemote = false
        }
    }
    mutating func clockEnd() -> Bool { false }
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
    mutating func field(_ name: UnsafeRawBufferPointer) {}
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
}
