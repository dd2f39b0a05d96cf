import Foundation
import Replica

/// A replica held in memory: the reference model of the CRDT, used by tests and
/// the in-memory benchmark.
///
/// It follows the same rules as the SQLite store (`Storage.ReplicaStore`): one
/// dot per local transaction, a replica clock raised only by local writes and
/// page coverage, and pages cut by `cutPage`. Its dots index is built on
/// demand by a scan, which is fine for a model; the store keeps a real index.
public struct MemoryReplica: Sendable {
    /// This replica's id.
    public let id: ReplicaID
    /// The last counter used by a local write.
    public private(set) var counter: UInt64 = 0
    /// The last hybrid logical timestamp used or seen.
    public private(set) var hlc: HLC = .zero
    /// For each replica, the highest counter whose changes this replica has all of.
    public private(set) var clock = VectorClock()
    /// Every record, tombstones included.
    public private(set) var records: [String: Record] = [:]
    /// The wall clock, in milliseconds (tests may pin it).
    public var now: @Sendable () -> UInt64 = { HLC.wallMilliseconds() }

    /// A new empty replica.
    public init(id: ReplicaID = .random()) { self.id = id }

    /// Takes the next dot and timestamp for a local transaction.
    public mutating func stamp() -> (Dot, HLC) {
        counter += 1
        hlc = HLC.next(after: hlc, nowMilliseconds: now())
        clock[id] = counter
        return (Dot(replica: id, counter: counter), hlc)
    }

    /// Writes fields of a record as one local transaction (creating it if needed).
    public mutating func write(id rid: String, kind: RecordKind, _ values: [String: String], revive: Bool = false) {
        let (dot, t) = stamp()
        var r = records[rid] ?? Record(id: rid, kind: kind)
        r.write(values, dot: dot, hlc: t, revive: revive)
        records[rid] = r
    }

    /// Deletes a record as one local transaction; no-op if unknown.
    public mutating func delete(id rid: String) {
        guard var r = records[rid] else { return }
        let (dot, t) = stamp()
        r.delete(dot: dot, hlc: t)
        records[rid] = r
    }

    /// The changes a peer whose replica clock is `peer` lacks, one page of at most `limit` records.
    public func changes(since peer: VectorClock, limit: Int) -> ChangePage {
        // Positions order the records of one dot: their order by id, numbered.
        var index: [ReplicaID: [(counter: UInt64, position: Int64, id: String)]] = [:]
        for r in records.values {
            for d in r.dots where d.counter > peer[d.replica] { index[d.replica, default: []].append((d.counter, 0, r.id)) }
        }
        for k in index.keys {
            index[k]!.sort { $0.counter != $1.counter ? $0.counter < $1.counter : $0.id < $1.id }
            for i in index[k]!.indices { index[k]![i].position = Int64(i) }
        }
        let (items, coverage, more, partial) = cutPage(
            replicaClock: clock, peerClock: peer, limit: limit,
            dots: { o, after, position, upTo, n in
                Array((index[o] ?? []).lazy.filter { ($0.counter > after || ($0.counter == after && $0.position > position)) && $0.counter <= upTo }.prefix(n))
            },
            item: { records[$0].map(EncodedRecord.init) })
        return ChangePage(records: items, coverage: coverage, more: more, base: peer, partial: partial)
    }

    /// Merges remote records (all or none), without touching the replica clock.
    ///
    /// One hash lookup per record: the slot is modified in place; an undo log
    /// restores the previous states if a record is refused part-way.
    @discardableResult
    public mutating func merge(_ remote: [Record]) throws -> MergeSummary {
        var summary = MergeSummary()
        var undo: [(String, Record?)] = []
        var maxSeen = HLC.zero
        records.reserveCapacity(records.count + remote.count)
        do {
            for r in remote {
                try r.validate()
                let previous = try Self.absorb(r, into: &records[r.id, default: Self.vacant], summary: &summary)
                switch previous {
                case .unchanged: continue
                case .inserted: undo.append((r.id, nil))
                case .replaced(let old): undo.append((r.id, old))
                }
                let h = r.maxHLC
                if h > maxSeen { maxSeen = h }
            }
        } catch {
            for (id, old) in undo.reversed() { records[id] = old }
            records = records.filter { $0.value.id != Self.vacant.id }
            throw error
        }
        if maxSeen > hlc { hlc = maxSeen }
        return summary
    }

    /// A slot's marker for "no record here yet" (its id is empty, which no real record has).
    static let vacant = Record(id: "", kind: .link)

    /// What merging one record did to its slot, for the undo log.
    enum Absorbed {
        /// The slot already held the remote state.
        case unchanged
        /// The slot was vacant.
        case inserted
        /// The slot held this record before.
        case replaced(Record)
    }

    /// Merges `remote` into a dictionary slot (which may be `vacant`).
    static func absorb(_ remote: Record, into slot: inout Record, summary: inout MergeSummary) throws -> Absorbed {
        if slot.id.isEmpty {
            slot = remote
            summary.inserted += 1
            summary.changed += 1
            return .inserted
        }
        guard let merged = try mergeRecord(local: slot, remote: remote, summary: &summary) else { return .unchanged }
        let old = slot
        slot = merged
        return .replaced(old)
    }

    /// Applies a page: decodes and merges its records, then raises the replica clock by its coverage.
    @discardableResult
    public mutating func apply(_ page: ChangePage) throws -> MergeSummary {
        let s = try merge(try page.decodedRecords())
        clock = page.advance(clock)
        return s
    }

    /// The state digest: the replica clock and every live record (see `StateDigest`).
    public var digest: String { StateDigest.of(records.values, clock: clock) }

    /// Records that exist for users (not deleted).
    public var liveRecords: [Record] { records.values.filter(\.isLive) }
}
