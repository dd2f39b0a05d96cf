import Foundation
import Replica

/// The floor the merge benchmark compares persisted merges and syncs against:
/// a plain SQLite insert of the same rows into a `records` table of the
/// replica's schema (its integer id index and its tombstone index), with a
/// prepared statement in one transaction, under the same pragmas as a replica.
///
/// It does no lookup, no merging, no dots index, no secondary index and no
/// clock bookkeeping: the cost of SQLite itself for the rows a merge writes.
/// (Schema 4's id index is not unique, so the floor is an insert, not the
/// upsert it was while ids were a unique text index; that makes it faster.)
public final class SQLiteFloor {
    let db: SQLiteConnection

    /// One prepared row: the id index key, id, kind, live flag and canonical body.
    public typealias Row = (key: Int64, id: String, kind: Int64, live: Int64, body: [UInt8])

    /// Creates a fresh database at `path` with the `records` table of the replica schema.
    public init(path: String) throws {
        db = try SQLiteConnection(path: path, create: true)
        try ReplicaStore.tune(db)
        try db.exec("""
            CREATE TABLE IF NOT EXISTS records(rid INTEGER PRIMARY KEY, idk INTEGER NOT NULL, id TEXT NOT NULL,
                kind INTEGER NOT NULL, live INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS records_idk ON records(idk);
            CREATE INDEX IF NOT EXISTS records_dead ON records(rid) WHERE live=0;
            """)
    }

    /// Inserts every row in one transaction.
    ///
    /// The rows are encoded and keyed before the clock starts by the caller
    /// (`rows(of:)`), so the floor measures SQLite alone.
    public func insert(_ rows: [Row]) throws {
        try db.transaction {
            let s = try db.prepare("INSERT INTO records(idk, id, kind, live, body) VALUES(?, ?, ?, ?, ?)")
            for r in rows {
                s.reset()
                s.bind(int: r.key, at: 1)
                s.bind(text: r.id, at: 2)
                s.bind(int: r.kind, at: 3)
                s.bind(int: r.live, at: 4)
                r.body.withUnsafeBytes { _ = s.bind(blob: $0, at: 5) }
                while try s.step() {}
            }
        }
    }

    /// The rows a replica stores for `records`.
    public static func rows(of records: [EncodedRecord]) throws -> [Row] {
        let keys = RecordKeyHasher(salt: Array(repeating: 7, count: 16))
        return try records.map { r in
            let f = try r.facts()
            return (keys.key(r.id), r.id, Int64(f.kind.rawValue), f.isLive ? 1 : 0, r.bytes)
        }
    }

    /// Seconds to compute the id index keys of `ids` (a benchmark diagnostic).
    package static func keyTime(_ ids: [String]) -> Double {
        let keys = RecordKeyHasher(salt: Array(repeating: 7, count: 16))
        var sink: Int64 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for id in ids { sink &+= keys.key(id) }
        let t = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return sink == 42 ? t + 0 : t
    }

    /// How many rows the table holds.
    public func count() throws -> Int { Int(try db.scalar("SELECT count(*) FROM records")?.int ?? 0) }
}
