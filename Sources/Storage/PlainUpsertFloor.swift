import Foundation
import Replica

/// The floor the merge benchmark compares persisted merges against: a plain
/// SQLite upsert of the same rows, into a table shaped like `records`, with a
/// prepared statement in one transaction, under the same pragmas as a replica.
///
/// It does no merging, no index of dots and no clock bookkeeping: the cost of
/// SQLite itself for the rows a merge writes.
public final class PlainUpsertFloor {
    let db: SQLiteConnection

    /// Creates a fresh database at `path` with the `records` table of the replica schema.
    public init(path: String) throws {
        db = try SQLiteConnection(path: path, create: true)
        try ReplicaStore.tune(db)
        try db.exec("""
            CREATE TABLE IF NOT EXISTS records(rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL,
                live INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS records_dead ON records(rid) WHERE live=0;
            """)
    }

    /// Upserts every record's row (id, kind, live, canonical body) in one transaction.
    ///
    /// The rows are encoded before the clock starts by the caller (`rows(of:)`),
    /// so the floor measures SQLite alone.
    public func upsert(_ rows: [(id: String, kind: Int64, live: Int64, body: [UInt8])]) throws {
        try db.transaction {
            let s = try db.prepare("""
                INSERT INTO records(id, kind, live, body) VALUES(?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, live=excluded.live, body=excluded.body
                """)
            for r in rows {
                s.reset()
                s.bind(text: r.id, at: 1)
                s.bind(int: r.kind, at: 2)
                s.bind(int: r.live, at: 3)
                r.body.withUnsafeBytes { _ = s.bind(blob: $0, at: 4) }
                while try s.step() {}
            }
        }
    }

    /// The rows a replica stores for `records`.
    public static func rows(of records: [Record]) -> [(id: String, kind: Int64, live: Int64, body: [UInt8])] {
        records.map { r in
            (r.id, Int64(r.kind.rawValue), r.isLive ? 1 : 0, r.encoded)
        }
    }

    /// How many rows the table holds.
    public func count() throws -> Int { Int(try db.scalar("SELECT count(*) FROM records")?.int ?? 0) }
}
