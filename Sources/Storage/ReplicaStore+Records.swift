import Foundation
import Replica

/// One local transaction: a single dot and timestamp for every record it saves.
public final class LocalTransaction {
    /// The dot of this transaction's writes.
    public let dot: Dot
    /// The timestamp of this transaction's writes.
    public let hlc: HLC
    let store: ReplicaStore
    /// Records read or written by this transaction, with their row numbers (`nil` rid: not stored yet).
    var loaded: [String: (record: Record, rid: Int64?)?] = [:]
    var saved = 0
    var wroteTombstone = false

    init(store: ReplicaStore, dot: Dot, hlc: HLC) {
        self.store = store
        self.dot = dot
        self.hlc = hlc
    }

    /// The current state of a record (tombstones included), as this transaction sees it.
    public func record(_ id: String) throws -> Record? { try row(id)?.record }

    func row(_ id: String) throws -> (record: Record, rid: Int64?)? {
        if let r = loaded[id] { return r }
        let r = try store.loadRow(id).map { (record: $0.record, rid: Optional($0.rid)) }
        loaded[id] = r
        return r
    }

    private var floor: VectorClock?

    func purgeFloor() throws -> VectorClock {
        if let floor { return floor }
        let f = try store.loadFloor()
        floor = f
        return f
    }

    /// The live records whose key in `index` is `key`, as this transaction sees them.
    public func lookup(_ index: String, key: String) throws -> [Record] {
        try store.lookupIDs(index, key: key).compactMap { try record($0) }
    }

    /// Writes fields of a record (creating it if needed), stamped with this transaction's dot.
    @discardableResult
    public func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool = false) throws -> Record {
        // A record new here may have been purged here: the new state must follow
        // everything under the purge floor, or replicas still holding the old
        // tombstone would keep its values as concurrent ones that never come back.
        let existing = try row(id)
        var r = try existing?.record ?? Record(id: id, kind: kind, fields: [], deleted: Register(), clock: purgeFloor())
        guard r.kind == kind else { throw StoreError.invalid("record \(id) is a \(r.kind), not a \(kind)") }
        r.write(values, dot: dot, hlc: hlc, revive: revive)
        let rid = try store.store(r, replacing: existing?.record, rid: existing?.rid)
        loaded[id] = (r, rid)
        saved += 1
        return r
    }

    /// Deletes a record (a tombstone that replicates), stamped with this transaction's dot.
    public func delete(id: String) throws {
        guard let existing = try row(id) else { throw StoreError.invalid("no record \(id)") }
        var r = existing.record
        r.delete(dot: dot, hlc: hlc)
        let rid = try store.store(r, replacing: existing.record, rid: existing.rid)
        loaded[id] = (r, rid)
        saved += 1
        wroteTombstone = true
    }

    /// Replaces a stored record's state with one this transaction built (e.g. `Record.rebased`).
    func replace(_ old: Record, with new: Record) throws {
        let existing = try row(old.id)
        let rid = try store.store(new, replacing: existing?.record ?? old, rid: existing?.rid)
        loaded[new.id] = (new, rid)
        saved += 1
    }
}

extension ReplicaStore {
    /// Runs `body` as one local transaction: one dot, one timestamp, all or nothing.
    ///
    /// The counter and clock are read inside the write lock, so two processes
    /// writing the same file never reuse a dot. A transaction that saved nothing
    /// leaves no trace.
    @discardableResult
    public func write<T>(_ body: (LocalTransaction) throws -> T) throws -> T {
        try wrap {
            do {
                return try db.transaction { try localWrite(body) }
            } catch {
                // A rolled-back transaction may have interned replica ids that no longer exist.
                resetReplicaCache()
                throw error
            }
        }
    }

    /// One local transaction (one dot, one timestamp) inside the caller's SQLite transaction.
    @discardableResult
    func localWrite<T>(_ body: (LocalTransaction) throws -> T) throws -> T {
        try checkIndexesWritable()
        let counter = try counter(of: replicaID) + 1
        let hlc = HLC.next(after: try loadHLC(), nowMilliseconds: now())
        let tx = LocalTransaction(store: self, dot: Dot(replica: replicaID, counter: counter), hlc: hlc)
        let result = try body(tx)
        if tx.saved > 0 {
            try raiseClock(replicaID, to: counter)
            try setHLC(hlc)
        }
        if tx.wroteTombstone { try markAnnouncementDue() }
        return result
    }


    /// One record by id, tombstones included.
    public func record(id: String) throws -> Record? { try wrap { try loadRecord(id) } }

    /// Every record of a kind, sorted by id; tombstones only with `includeDeleted`.
    public func records(kind: RecordKind, includeDeleted: Bool = false) throws -> [Record] {
        try wrap {
            let s = try db.prepare(includeDeleted
                ? "SELECT id, body FROM records WHERE kind=? ORDER BY id"
                : "SELECT id, body FROM records WHERE kind=? AND live=1 ORDER BY id")
            // (Sorted by SQLite: the id index is keyed by integers, not ids; see RecordKeyHasher.)
            s.bind(int: Int64(kind.rawValue), at: 1)
            var out: [Record] = []
            while try s.step() { out.append(try decode(id: s.text(0), s, column: 1)) }
            return out
        }
    }

    /// Every record that holds conflicts (concurrent values that lost), sorted by id.
    public func recordsWithConflicts() throws -> [Record] {
        try wrap {
            let s = try db.prepare("SELECT id, body FROM records WHERE live=1 ORDER BY id")
            var out: [Record] = []
            while try s.step() {
                let r = try decode(id: s.text(0), s, column: 1)
                if r.conflictCount > 0 { out.append(r) }
            }
            return out
        }
    }

    /// Stored records by kind: live ones and tombstones (for metrics), from the state summary.
    public func countsByKind() throws -> [(kind: RecordKind, live: Int, tombstones: Int)] {
        try wrap {
            let by = try StateSums.stored(db)
            return RecordKind.allCases.map { k in (k, Int(by[Int64(k.rawValue)]?.live ?? 0), Int(by[Int64(k.rawValue)]?.dead ?? 0)) }
        }
    }

    /// Live links, directories, users and groups, and tombstones (member records, kind `replica`,
    /// are not counted), from the state summary: a few rows read, whatever the replica's size.
    public func counts() throws -> (links: Int, directories: Int, users: Int, groups: Int, tombstones: Int) {
        try wrap {
            let by = try StateSums.stored(db)
            func live(_ k: RecordKind) -> Int { Int(by[Int64(k.rawValue)]?.live ?? 0) }
            let dead = by.filter { $0.key != Int64(RecordKind.replica.rawValue) }.reduce(0) { $0 + Int($1.value.dead) }
            return (live(.link), live(.directory), live(.user), live(.group), dead)
        }
    }

    /// The state digest (`StateDigest`): SHA-256 over the replica clock and the sum of every
    /// live record's hash, which triggers keep as records are written (`StateSums`): a few rows
    /// read, whatever the replica's size. Tombstones are left out, so two replicas that have
    /// exchanged everything agree whatever each has purged.
    public func digest() throws -> String {
        try wrap {
            try db.transaction(immediate: false) {
                var sum = StateSum.zero
                for row in try StateSums.stored(db).values { sum.add(row.sum) }
                return StateDigest.digest(clock: try loadClock(), sum: sum)
            }
        }
    }

    /// The replica clock: for each replica, the counter up to which this replica has all its changes.
    public func clock() throws -> VectorClock { try wrap { try loadClock() } }

    /// How many entries of the dots index a replica with clock `acked` lacks: the changes it has not acknowledged.
    public func unacknowledged(by acked: VectorClock) throws -> Int {
        try wrap {
            var n = 0
            let mine = try loadClock()
            for e in mine.entries where e.counter > acked[e.replica] {
                guard let r = try rix(e.replica, create: false) else { continue }
                n += Int(try db.scalar("SELECT count(*) FROM dots WHERE rix=? AND counter>?",
                                       .int(r), .int(Int64(acked[e.replica])))?.int ?? 0)
            }
            return n
        }
    }

    /// Runs `PRAGMA integrity_check`; returns "ok" or SQLite's findings.
    public func integrityCheck() throws -> String {
        try wrap { try db.scalar("PRAGMA integrity_check")?.text ?? "no answer" }
    }
}
