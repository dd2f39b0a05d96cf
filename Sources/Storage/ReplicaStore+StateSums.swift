import CSQLite
import Replica

/// The state summary a replica keeps up to date as it writes: per record kind, how many records
/// are live and how many are tombstones, and the `StateSum` of the live ones. `status`, the
/// digest and `/metrics` read it (a few rows) instead of every record, so they cost the same at
/// ten million records as at ten.
///
/// Triggers on `records` keep it, in the transaction of the write, whatever wrote it (a local
/// write, a merge, a purge, a correction, a rolled-back savepoint of a batch), calling
/// `setuplink_state_add`, which every connection of a replica registers. It is built from the
/// records once: by the migration that adds it, and for every snapshot a clone adopts (a hub's
/// file is not trusted to carry a true one).
enum StateSums {
    /// The schema version that adds the summary.
    static let version = 11

    /// Schema version 11: the table, its triggers, and a row per kind.
    static let migration = """
        CREATE TABLE IF NOT EXISTS state_sums(
            kind INTEGER PRIMARY KEY,
            live INTEGER NOT NULL DEFAULT 0,
            dead INTEGER NOT NULL DEFAULT 0,
            acc BLOB
        );
        INSERT INTO state_sums(kind) VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9) ON CONFLICT(kind) DO NOTHING;
        CREATE TRIGGER IF NOT EXISTS state_sums_insert AFTER INSERT ON records BEGIN
            INSERT INTO state_sums(kind) SELECT NEW.kind WHERE NOT EXISTS(SELECT 1 FROM state_sums WHERE kind=NEW.kind);
            UPDATE state_sums SET live = live + NEW.live, dead = dead + 1 - NEW.live,
                acc = CASE WHEN NEW.live THEN setuplink_state_add(acc, NEW.id, NEW.body, 1) ELSE acc END
                WHERE kind = NEW.kind;
        END;
        CREATE TRIGGER IF NOT EXISTS state_sums_delete AFTER DELETE ON records BEGIN
            UPDATE state_sums SET live = live - OLD.live, dead = dead - 1 + OLD.live,
                acc = CASE WHEN OLD.live THEN setuplink_state_add(acc, OLD.id, OLD.body, -1) ELSE acc END
                WHERE kind = OLD.kind;
        END;
        CREATE TRIGGER IF NOT EXISTS state_sums_update AFTER UPDATE OF id, kind, live, body ON records BEGIN
            UPDATE state_sums SET live = live - OLD.live, dead = dead - 1 + OLD.live,
                acc = CASE WHEN OLD.live THEN setuplink_state_add(acc, OLD.id, OLD.body, -1) ELSE acc END
                WHERE kind = OLD.kind;
            INSERT INTO state_sums(kind) SELECT NEW.kind WHERE NOT EXISTS(SELECT 1 FROM state_sums WHERE kind=NEW.kind);
            UPDATE state_sums SET live = live + NEW.live, dead = dead + 1 - NEW.live,
                acc = CASE WHEN NEW.live THEN setuplink_state_add(acc, NEW.id, NEW.body, 1) ELSE acc END
                WHERE kind = NEW.kind;
        END;
        """

    /// Registers `setuplink_state_add(acc, id, body, sign)` on a connection: `acc` (32 bytes, or
    /// NULL for zero) plus (`sign` 1) or minus (-1) the `StateSum` of the record `id`, `body`.
    static func register(on db: SQLiteConnection) {
        sqlite3_create_function_v2(db.handle, "setuplink_state_add", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, { ctx, _, argv in
            guard let argv else {
                sqlite3_result_null(ctx)
                return
            }
            var acc = StateSum.zero
            if let p = sqlite3_value_blob(argv[0]) {
                acc = StateSum(bytes: UnsafeRawBufferPointer(start: p, count: Int(sqlite3_value_bytes(argv[0]))))
            }
            // Text first, then its length (SQLite's rule: the bytes count is of the last form asked for).
            let idText = sqlite3_value_text(argv[1])
            let idBytes = Int(sqlite3_value_bytes(argv[1]))
            let body = sqlite3_value_blob(argv[2])
            let bodyBytes = Int(sqlite3_value_bytes(argv[2]))
            let one = StateSum.of(id: UnsafeRawBufferPointer(start: idText, count: idText == nil ? 0 : idBytes),
                                  encoded: UnsafeRawBufferPointer(start: body, count: body == nil ? 0 : bodyBytes))
            if sqlite3_value_int64(argv[3]) < 0 { acc.subtract(one) } else { acc.add(one) }
            acc.bytes.withUnsafeBytes { setuplink_sqlite3_result_blob_transient(ctx, $0.baseAddress, 32) }
        }, nil, nil, nil)
    }

    /// The summary as computed from every record (one scan): per kind, live and dead counts
    /// and the sum of the live records.
    static func computed(_ db: SQLiteConnection) throws -> [Int64: (live: Int64, dead: Int64, sum: StateSum)] {
        var out: [Int64: (live: Int64, dead: Int64, sum: StateSum)] = [:]
        let s = try db.prepare("SELECT kind, live, id, body FROM records")
        defer { s.reset() }
        while try s.step() {
            let kind = s.int(0), live = s.int(1) != 0
            var row = out[kind] ?? (0, 0, .zero)
            if live {
                row.live += 1
                let id = s.text(2)
                let one = s.withBlob(3) { StateSum.of(id: id, encoded: $0) }
                row.sum.add(one)
            } else {
                row.dead += 1
            }
            out[kind] = row
        }
        return out
    }

    /// The summary as stored.
    static func stored(_ db: SQLiteConnection) throws -> [Int64: (live: Int64, dead: Int64, sum: StateSum)] {
        var out: [Int64: (live: Int64, dead: Int64, sum: StateSum)] = [:]
        let s = try db.prepare("SELECT kind, live, dead, acc FROM state_sums")
        defer { s.reset() }
        while try s.step() {
            let sum = s.isNull(3) ? StateSum.zero : s.withBlob(3) { StateSum(bytes: $0) }
            out[s.int(0)] = (s.int(1), s.int(2), sum)
        }
        return out
    }

    /// Replaces the stored summary by one computed from the records (in the caller's transaction).
    static func rebuild(_ db: SQLiteConnection) throws {
        let computed = try computed(db)
        try db.exec("UPDATE state_sums SET live = 0, dead = 0, acc = NULL")
        for (kind, row) in computed {
            try db.run("INSERT INTO state_sums(kind, live, dead, acc) VALUES (?, ?, ?, ?) ON CONFLICT(kind) DO UPDATE SET live=excluded.live, dead=excluded.dead, acc=excluded.acc",
                       .int(kind), .int(row.live), .int(row.dead), .blob(row.sum.bytes))
        }
    }

    /// Whether two summaries say the same (kinds with nothing in them count as absent).
    static func same(_ a: [Int64: (live: Int64, dead: Int64, sum: StateSum)], _ b: [Int64: (live: Int64, dead: Int64, sum: StateSum)]) -> Bool {
        let kinds = Set(a.keys).union(b.keys)
        for k in kinds {
            let x = a[k] ?? (0, 0, .zero), y = b[k] ?? (0, 0, .zero)
            if x.live != y.live || x.dead != y.dead || x.sum != y.sum { return false }
        }
        return true
    }
}

extension ReplicaStore {
    /// Whether the stored state summary (counts and sum, kept by triggers) equals one computed
    /// from every record: a check for tests and for an operator in doubt (it reads every record).
    public func stateSummaryIsTrue() throws -> Bool {
        try wrap { try db.transaction(immediate: false) { StateSums.same(try StateSums.stored(db), try StateSums.computed(db)) } }
    }
}
