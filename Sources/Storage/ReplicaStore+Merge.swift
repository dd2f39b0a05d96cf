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
    public func changes(since peer: VectorClock, limit: Int) throws -> ChangePage {
        try wrap {
            try db.transaction(immediate: false) {
                let mine = try loadClock()
                let q = try db.prepare("""
                    SELECT d.counter, r.id, r.body FROM dots d JOIN records r ON r.rid = d.rid
                    WHERE d.rix=?1 AND d.counter>?2 AND d.counter<=?3 ORDER BY d.counter, d.rid LIMIT ?4
                    """)
                var bodies: [String: [UInt8]] = [:]
                let (items, coverage, more) = try cutPage(replicaClock: mine, peerClock: peer, limit: limit, dots: { o, after, upTo, n in
                    guard let r = try rix(o, create: false) else { return [] }
                    q.reset()
                    q.bind(int: r, at: 1)
                    q.bind(int: Int64(bitPattern: after), at: 2)
                    q.bind(int: Int64(bitPattern: upTo), at: 3)
                    q.bind(int: Int64(min(n, Int(Int64.max))), at: 4)
                    var out: [(UInt64, String)] = []
                    while try q.step() {
                        let id = q.text(1)
                        if bodies[id] == nil { bodies[id] = q.withBlob(2) { Array($0) } }
                        out.append((UInt64(q.int(0)), id))
                    }
                    return out
                }, item: { id -> EncodedRecord? in bodies[id].map { EncodedRecord(id: id, bytes: $0) } })
                return ChangePage(records: items, coverage: coverage, more: more, base: peer)
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
                    for page in pages { total = total + (try applyInTransaction(page, from: sender)) }
                    return total
                }
            } catch {
                resetReplicaCache()
                throw error
            }
        }
    }

    /// Merges one page inside the caller's transaction.
    func applyInTransaction(_ page: ChangePage, from sender: PeerSender?) throws -> MergeSummary {
        try checkIndexesWritable()
        let floor = VectorClock(encoded: try meta("purge_floor") ?? "") ?? VectorClock()
        let before = try loadClock()
        var check: PeerInput?
        if let sender {
            var c = PeerInput(receiver: replicaID, receiverCounter: before[replicaID], now: now(),
                              sender: sender.replica, senderCounter: sender.replica.flatMap { sender.clock?[$0] })
            if let declared = sender.clock {
                // The declared clock itself claims nothing beyond the sender's own counter by construction;
                // it is checked against this replica's counter and the bounds.
                c.senderCounter = nil
                try c.check(clock: declared, field: "clock")
                c.senderCounter = sender.replica.map { declared[$0] }
            }
            try c.check(page: page)
            check = c
        }
        let specs = indexSpecs ?? []
        let wanted = specs.isEmpty ? [] : Self.indexedFields(specs)
        let wantedUTF8 = wanted.map { Array($0.utf8) }
        var summary = MergeSummary()
        var maxSeen = HLC.zero
        for (i, r) in page.records.enumerated() {
            guard !r.id.isEmpty, r.id.utf8.count <= 256 else { throw MergeError.invalidRecord(id: r.id, reason: "bad id") }
            let facts: RecordFacts
            do { facts = try r.facts(winnersOf: wantedUTF8) } catch {
                throw MergeError.invalidRecord(id: r.id, reason: "not a canonical record encoding: \(error.description)")
            }
            try check?.check(record: facts, of: page, at: i)
            // Known here? The stored clock tells whether the remote state is already contained.
            let probe = try statement(.selectBody)
            probe.bind(int: key(r.id), at: 1)
            let existing = try probe.withText(r.id, at: 2) { () throws -> (covered: Bool, record: Record?, rid: Int64)? in
                guard try probe.step() else { return nil }
                let rid = probe.int(1)
                var p = ClockProbe(remote: facts.clock)
                do { try probe.withBlob(0) { try walkEncodedRecord($0, &p) } } catch let e as RecordDecodingError {
                    throw StoreError.corruptRecord(path: path, id: r.id, reason: e.description)
                }
                if p.covers { return (true, nil, rid) }
                return (false, try decode(id: r.id, probe, column: 0), rid)
            }
            if let existing {
                if existing.covered { continue }
                let stored = existing.record!
                let remote: Record
                do { remote = try r.decoded() } catch { throw MergeError.invalidRecord(id: r.id, reason: error.description) }
                guard let m = try mergeRecord(local: stored, remote: remote, summary: &summary) else { continue }
                try store(m, replacing: stored, rid: existing.rid)
            } else {
                // Under the purge floor, unknown here: a stale copy of a purged tombstone.
                if !floor.isEmpty && facts.clock.isDominated(by: floor) {
                    summary.dropped += 1
                    continue
                }
                let insert = try statement(.insertRecord)
                insert.bind(int: key(r.id), at: 1)
                insert.bind(text: r.id, at: 2)
                insert.bind(int: Int64(facts.kind.rawValue), at: 3)
                insert.bind(int: facts.isLive ? 1 : 0, at: 4)
                r.bytes.withUnsafeBytes { _ = insert.bind(blob: $0, at: 5) }
                while try insert.step() {}
                let rid = db.lastInsertRowID
                summary.inserted += 1
                summary.changed += 1
                for d in facts.dots { try addDot(d, rid: rid) }
                if facts.isLive && specs.contains(where: { $0.kind == facts.kind }) {
                    try updateKeys(rid: rid, old: .none, new: IndexKeys.of(facts: facts, specs: specs, wanted: wanted))
                }
            }
            if facts.maxHLC > maxSeen { maxSeen = facts.maxHLC }
        }
        let after = page.advance(before)
        for e in after.entries where e.counter > before[e.replica] { try raiseClock(e.replica, to: e.counter) }
        if maxSeen > (try loadHLC()) { try setMeta("hlc", String(maxSeen.rawValue)) }
        return summary
    }

    /// Every field any index reads (what a merge collects while it checks a record).
    static func indexedFields(_ specs: [IndexSpec]) -> [String] {
        var out: [String] = []
        for s in specs { for f in s.fields where !out.contains(f) { out.append(f) } }
        return out
    }
}

/// Whether a stored encoding's clock covers a remote clock (equal or later): then
/// merging the remote state changes nothing. Reads the clock only.
struct ClockProbe: EncodedRecordVisitor {
    let want: [VectorClock.Entry]
    var j = 0
    var ok = true

    init(remote: VectorClock) { want = remote.entries }

    var covers: Bool { ok && j == want.count }

    mutating func kind(_ kind: RecordKind) {}
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) {
        // Entries are sorted by replica on both sides: walk them together.
        if j < want.count && want[j].replica < replica { ok = false }
        if j < want.count && want[j].replica == replica {
            if counter < want[j].counter { ok = false }
            j += 1
        }
    }
    mutating func clockEnd() -> Bool { false }
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
    mutating func field(_ name: UnsafeRawBufferPointer) {}
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
}
