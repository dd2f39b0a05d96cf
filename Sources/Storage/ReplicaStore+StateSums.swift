import CSQLite
import Crypto
import Glibc
import Replica

/// The state summary a replica keeps up to date as it writes: per record kind, how many records
/// are live and how many are tombstones, and the `StateSum` of the live ones. `status`, the
/// digest and `/metrics` read it (a few rows) instead of every record, so they cost the same at
/// ten million records as at ten.
///
/// SQLite's pre-update hook reports every row change of `records` on the store's connection,
/// whatever made it (a local write, a merge, a purge, a correction), with the old and new rows;
/// `StateSumTracker` adds the change to the transaction's pending delta, and the connection
/// writes the delta into `state_sums` just before COMMIT, in the same transaction. A rollback
/// drops it, and a batch body rolled back to its savepoint drops its part. (Triggers did the
/// same in SQL and cost 40% of a merge: measured in `Benchmarks/HISTORY.md`.)
///
/// It is built from the records once: by the migration that adds it, and for every snapshot a
/// clone adopts (a hub's file is not trusted to carry a true one).
enum StateSums {
    /// The schema version that adds the summary.
    static let version = 11

    /// Schema version 11: the table. (Triggers of an early build of it are dropped.)
    static let migration = """
        CREATE TABLE IF NOT EXISTS state_sums(
            kind INTEGER PRIMARY KEY,
            live INTEGER NOT NULL DEFAULT 0,
            dead INTEGER NOT NULL DEFAULT 0,
            acc BLOB
        );
        DROP TRIGGER IF EXISTS state_sums_insert;
        DROP TRIGGER IF EXISTS state_sums_update;
        DROP TRIGGER IF EXISTS state_sums_delete;
        """

    typealias Summary = [Int64: (live: Int64, dead: Int64, sum: StateSum)]

    /// The summary as computed from every record (one scan): per kind, live and dead counts
    /// and the sum of the live records.
    static func computed(_ db: SQLiteConnection) throws -> Summary {
        var out: Summary = [:]
        let hasher = StateSumTracker()
        let s = try db.prepare("SELECT kind, live, id, body FROM records")
        defer { s.reset() }
        while try s.step() {
            let kind = s.int(0), live = s.int(1) != 0
            var row = out[kind] ?? (0, 0, .zero)
            if live {
                row.live += 1
                var id = s.text(2)
                row.sum.add(s.withBlob(3) { body in id.withUTF8 { hasher.hash(id: UnsafeRawBufferPointer($0), body: body) } })
            } else {
                row.dead += 1
            }
            out[kind] = row
        }
        return out
    }

    /// The summary as stored.
    static func stored(_ db: SQLiteConnection) throws -> Summary {
        var out: Summary = [:]
        let s = try db.prepare("SELECT kind, live, dead, acc FROM state_sums")
        defer { s.reset() }
        while try s.step() {
            let sum = s.isNull(3) ? StateSum.zero : s.withBlob(3) { StateSum(bytes: $0) }
            out[s.int(0)] = (s.int(1), s.int(2), sum)
        }
        return out
    }

    /// Adds `delta` to the stored summary (in the caller's transaction).
    static func add(_ delta: Summary, _ db: SQLiteConnection) throws {
        guard !delta.isEmpty else { return }
        var rows = try stored(db)
        for (kind, d) in delta {
            var row = rows[kind] ?? (0, 0, .zero)
            row.live += d.live
            row.dead += d.dead
            row.sum.add(d.sum)
            rows[kind] = row
            try db.run("INSERT INTO state_sums(kind, live, dead, acc) VALUES (?, ?, ?, ?)"
                       + " ON CONFLICT(kind) DO UPDATE SET live=excluded.live, dead=excluded.dead, acc=excluded.acc",
                       .int(kind), .int(row.live), .int(row.dead), .blob(row.sum.bytes))
        }
    }

    /// Replaces the stored summary by one computed from the records (in the caller's transaction).
    static func rebuild(_ db: SQLiteConnection) throws {
        let computed = try computed(db)
        try db.exec("DELETE FROM state_sums")
        try add(computed, db)
    }

    /// Whether two summaries say the same (kinds with nothing in them count as absent).
    static func same(_ a: Summary, _ b: Summary) -> Bool {
        for k in Set(a.keys).union(b.keys) {
            let x = a[k] ?? (0, 0, .zero), y = b[k] ?? (0, 0, .zero)
            if x.live != y.live || x.dead != y.dead || x.sum != y.sum { return false }
        }
        return true
    }
}

/// What the pre-update hook gathered in the open transaction, written by `flush` before COMMIT.
final class StateSumTracker {
    /// The changes of the open transaction, by kind code (kinds are one byte; 16 slots hold
    /// every kind there is, so a row's change is an array update, not a dictionary's).
    var pending = Pending()

    struct Pending {
        var slots = [(live: Int64, dead: Int64, sum: StateSum)](repeating: (0, 0, .zero), count: 16)
        var other: StateSums.Summary = [:]
        var touched = false

        var summary: StateSums.Summary {
            var out = other
            for (k, row) in slots.enumerated() where row.live != 0 || row.dead != 0 || row.sum != .zero { out[Int64(k)] = row }
            return out
        }

        mutating func apply(kind: Int64, live: Int64, dead: Int64, add: StateSum?, subtract: StateSum?) {
            touched = true
            if kind >= 0 && kind < 16 {
                let k = Int(kind)
                slots[k].live += live
                slots[k].dead += dead
                if let add { slots[k].sum.add(add) }
                if let subtract { slots[k].sum.subtract(subtract) }
            } else {
                var row = other[kind] ?? (0, 0, .zero)
                row.live += live
                row.dead += dead
                if let add { row.sum.add(add) }
                if let subtract { row.sum.subtract(subtract) }
                other[kind] = row
            }
        }
    }
    /// A change to `records` seen outside a transaction (none is made so; a guard): the
    /// summary is then computed again from the records at the next commit.
    var untrusted = false
    /// A record's hash (`PrefixedSHA256`, no prefix): contexts and frame reused row after row.
    private let sha = PrefixedSHA256(frameCapacity: 4096)

    /// Installs the hook on `db`; the tracker must outlive the connection's use of it.
    func install(on db: SQLiteConnection) {
        sqlite3_preupdate_hook(db.handle, { ctx, handle, op, _, table, _, _ in
            guard let ctx, let table, let handle, strcmp(table, "records") == 0 else { return }
            let tracker = Unmanaged<StateSumTracker>.fromOpaque(ctx).takeUnretainedValue()
            if sqlite3_get_autocommit(handle) != 0 { tracker.untrusted = true }
            if op == SQLITE_UPDATE, tracker.unchanged(handle) { return }
            if op == SQLITE_DELETE || op == SQLITE_UPDATE { tracker.note(handle, old: true) }
            if op == SQLITE_INSERT || op == SQLITE_UPDATE { tracker.note(handle, old: false) }
        }, Unmanaged.passUnretained(self).toOpaque())
        db.beforeCommit = { [unowned self, unowned db] in try flush(db) }
        db.afterRollback = { [unowned self] in pending = Pending() }
    }

    /// Writes the pending delta (or, after a change outside a transaction, the whole summary again).
    func flush(_ db: SQLiteConnection) throws {
        if untrusted {
            pending = Pending()
            try StateSums.rebuild(db)
            untrusted = false
            return
        }
        guard pending.touched else { return }
        let delta = pending.summary
        pending = Pending()
        try StateSums.add(delta, db)
    }

    // Columns of `records`: rid, idk, id, kind, live, body.
    private static let idColumn: Int32 = 2, kindColumn: Int32 = 3, liveColumn: Int32 = 4, bodyColumn: Int32 = 5

    private func value(_ db: OpaquePointer, old: Bool, _ column: Int32) -> OpaquePointer? {
        var v: OpaquePointer?
        _ = old ? sqlite3_preupdate_old(db, column, &v) : sqlite3_preupdate_new(db, column, &v)
        return v
    }

    /// An UPDATE that leaves kind, liveness, id and body as they were changes nothing summed.
    private func unchanged(_ db: OpaquePointer) -> Bool {
        for column in [Self.kindColumn, Self.liveColumn] {
            guard let a = value(db, old: true, column), let b = value(db, old: false, column),
                  sqlite3_value_int64(a) == sqlite3_value_int64(b) else { return false }
        }
        for column in [Self.idColumn, Self.bodyColumn] {
            guard let a = value(db, old: true, column), let b = value(db, old: false, column) else { return false }
            let pa = sqlite3_value_blob(a), pb = sqlite3_value_blob(b)
            let na = sqlite3_value_bytes(a), nb = sqlite3_value_bytes(b)
            guard na == nb else { return false }
            if na == 0 { continue }
            guard let pa, let pb, memcmp(pa, pb, Int(na)) == 0 else { return false }
        }
        return true
    }

    /// Adds (new row) or subtracts (old row) one row's counts and, if live, its hash.
    private func note(_ db: OpaquePointer, old: Bool) {
        guard let k = value(db, old: old, Self.kindColumn), let l = value(db, old: old, Self.liveColumn) else { return }
        let kind = sqlite3_value_int64(k), live = sqlite3_value_int64(l) != 0
        let sign: Int64 = old ? -1 : 1
        guard live else {
            pending.apply(kind: kind, live: 0, dead: sign, add: nil, subtract: nil)
            return
        }
        var one = StateSum.zero
        if let i = value(db, old: old, Self.idColumn), let b = value(db, old: old, Self.bodyColumn) {
            // Text first, then its byte count (the count is of the last form asked for).
            let id = sqlite3_value_text(i), idCount = Int(sqlite3_value_bytes(i))
            let body = sqlite3_value_blob(b), bodyCount = Int(sqlite3_value_bytes(b))
            one = hash(id: UnsafeRawBufferPointer(start: id, count: id == nil ? 0 : idCount),
                       body: UnsafeRawBufferPointer(start: body, count: body == nil ? 0 : bodyCount))
        }
        pending.apply(kind: kind, live: sign, dead: 0, add: old ? nil : one, subtract: old ? one : nil)
    }

    /// `StateSum.of(id:encoded:)`, with the reused contexts and buffer.
    func hash(id: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) -> StateSum {
        sha.startFrame()
        putVarint(UInt64(id.count), &sha.frame)
        sha.frame.append(contentsOf: id)
        putVarint(UInt64(body.count), &sha.frame)
        sha.frame.append(contentsOf: body)
        return sha.digest()
    }
}

extension ReplicaStore {
    /// Whether the stored state summary (counts and sum) equals one computed from every record:
    /// a check for tests and for an operator in doubt (it reads every record).
    public func stateSummaryIsTrue() throws -> Bool {
        try wrap { try db.transaction(immediate: false) { StateSums.same(try StateSums.stored(db), try StateSums.computed(db)) } }
    }
}
