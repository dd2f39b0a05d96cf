import Foundation
import Replica
import Storage

/// The floor the merge benchmark compares persisted merges and syncs against:
/// a plain SQLite insert of the same rows into a `records` table of the
/// replica's schema (its integer id index and its tombstone index), with a
/// prepared statement in one transaction, under the same pragmas as a replica.
///
/// It does no lookup, no merging, no dots index, no secondary index and no
/// clock bookkeeping: the cost of SQLite itself for the rows a merge writes.
/// (Schema 4's id index is not unique, so the floor is an insert, not the
/// upsert it was while ids were a unique text index; that makes it faster.)
///
/// With `Layout.replica` it is the floor of everything a replica stores for a
/// new record: the same row, plus a row of the dots index per dot and a row of
/// the `keys` table per index key, each a plain prepared insert into tables of
/// the replica's schema. It still does no lookup and no merging: what SQLite
/// alone costs for the B-tree entries a replica must hold, which is what a
/// merge's speed is bounded by.
final class SQLiteFloor {
    /// The floor's database.
    let db: SQLiteConnection
    /// Which tables it writes.
    let layout: Layout

    /// Which tables the floor writes.
    enum Layout: Sendable {
        /// The `records` table only (figure 3's floor).
        case records
        /// `records`, `dots` and `keys`, as a replica stores a new record.
        case replica
    }

    /// One prepared row: the id index key, id, kind, live flag and canonical body;
    /// with the replica layout, also its dots (interned replica number, counter)
    /// and its index keys (index number, key bytes).
    struct Row: Sendable {
        /// The id index key (`RecordKeyHasher`).
        var key: Int64
        /// The record id.
        var id: String
        /// The record kind's raw value.
        var kind: Int64
        /// 1 when live, 0 for a tombstone.
        var live: Int64
        /// The canonical encoding.
        var body: [UInt8]
        /// The dots, by interned replica number.
        var dots: [(rix: Int64, counter: Int64)]
        /// The index keys, by index number.
        var keys: [(ix: Int64, key: [UInt8])]
    }

    /// Creates a fresh database at `path` with the `records` table of the replica
    /// schema, and with `.replica` its dots and keys tables.
    init(path: String, layout: Layout = .records) throws {
        db = try SQLiteConnection(path: path, create: true)
        self.layout = layout
        try ReplicaStore.tune(db)
        try db.exec("""
            CREATE TABLE IF NOT EXISTS records(rid INTEGER PRIMARY KEY, idk INTEGER NOT NULL, id TEXT NOT NULL,
                kind INTEGER NOT NULL, live INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS records_idk ON records(idk);
            CREATE INDEX IF NOT EXISTS records_dead ON records(rid) WHERE live=0;
            """)
        if layout == .replica {
            try db.exec("""
                CREATE TABLE IF NOT EXISTS dots(rix INTEGER NOT NULL, counter INTEGER NOT NULL, rid INTEGER NOT NULL,
                    PRIMARY KEY(rix, counter, rid)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS keys(ix INTEGER NOT NULL, key BLOB NOT NULL, rid INTEGER NOT NULL,
                    PRIMARY KEY(ix, key, rid)) WITHOUT ROWID;
                """)
        }
    }

    /// Inserts every row in one transaction.
    ///
    /// The rows are encoded and keyed before the clock starts by the caller
    /// (`rows(of:)`), so the floor measures SQLite alone.
    func insert(_ rows: [Row]) throws {
        try db.transaction {
            let s = try db.prepare("INSERT INTO records(idk, id, kind, live, body) VALUES(?, ?, ?, ?, ?)")
            let dot = layout == .replica ? try db.prepare("INSERT INTO dots(rix, counter, rid) VALUES(?, ?, ?)") : nil
            let key = layout == .replica ? try db.prepare("INSERT INTO keys(ix, key, rid) VALUES(?, ?, ?)") : nil
            for r in rows {
                s.reset()
                s.bind(int: r.key, at: 1)
                s.bind(text: r.id, at: 2)
                s.bind(int: r.kind, at: 3)
                s.bind(int: r.live, at: 4)
                r.body.withUnsafeBytes { _ = s.bind(blob: $0, at: 5) }
                while try s.step() {}
                guard let dot, let key else { continue }
                let rid = db.lastInsertRowID
                for d in r.dots {
                    dot.reset()
                    dot.bind(int: d.rix, at: 1)
                    dot.bind(int: d.counter, at: 2)
                    dot.bind(int: rid, at: 3)
                    while try dot.step() {}
                }
                for k in r.keys {
                    key.reset()
                    key.bind(int: k.ix, at: 1)
                    k.key.withUnsafeBytes { _ = key.bind(blob: $0, at: 2) }
                    key.bind(int: rid, at: 3)
                    while try key.step() {}
                }
            }
        }
    }

    /// The rows a replica stores for `records`, with the index keys of `indexes`.
    static func rows(of records: [EncodedRecord], indexes: [IndexSpec] = []) throws -> [Row] {
        let keys = RecordKeyHasher(salt: Array(repeating: 7, count: 16))
        let plan = IndexPlan(indexes)
        var rix: [ReplicaID: Int64] = [:]
        return try records.map { r in
            let f = try r.facts(winnersOf: plan.wanted)
            let dots = f.dots.map { d in
                let n = rix[d.replica] ?? Int64(rix.count + 1)
                rix[d.replica] = n
                return (rix: n, counter: Int64(d.counter))
            }
            let indexKeys = r.bytes.withUnsafeBytes { plan.keys(facts: f, bytes: $0) }
            return Row(key: keys.key(r.id), id: r.id, kind: Int64(f.kind.rawValue), live: f.isLive ? 1 : 0, body: r.bytes,
                       dots: dots, keys: indexKeys.entries.map { (Int64($0.0), $0.1) })
        }
    }

    /// Seconds to compute the id index keys of `ids` (a benchmark diagnostic).
    static func keyTime(_ ids: [String]) -> Double {
        let keys = RecordKeyHasher(salt: Array(repeating: 7, count: 16))
        var sink: Int64 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for id in ids { sink &+= keys.key(id) }
        let t = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return sink == 42 ? t + 0 : t
    }

    /// How many rows the records table holds.
    func count() throws -> Int { Int(try db.scalar("SELECT count(*) FROM records")?.int ?? 0) }

    /// How many rows the keys table holds (0 with the records layout).
    func keyCount() throws -> Int {
        layout == .replica ? Int(try db.scalar("SELECT count(*) FROM keys")?.int ?? 0) : 0
    }
}
