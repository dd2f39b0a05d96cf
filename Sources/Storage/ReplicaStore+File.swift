import Dates
import Foundation
import Glibc
import Replica

/// The replica file itself, before any record: its header, its permissions, its
/// schema and the settings of the connection.
extension ReplicaStore {
    /// Takes group and other permissions off the replica file and its -wal and
    /// -shm (files made by older versions were 0644). Best effort: a file
    /// owned by someone else stays as it is.
    static func restrictPermissions(_ path: String) {
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & 0o077 != 0 else { continue }
            _ = chmod(file, info.st_mode & 0o700)
        }
    }

    /// The per-connection settings every replica file is used with (the benchmark's floor uses them too).
    package static func tune(_ db: SQLiteConnection) throws {
        _ = try db.scalar("PRAGMA journal_mode=WAL")
        // Durable against process crashes (kill -9); a power cut may lose the last commits, never corrupt.
        try db.exec("PRAGMA synchronous=NORMAL")
        // 32 MiB of page cache: merges of large pages touch many B-tree pages. Chosen by
        // measurement (Benchmarks/HISTORY.md, "Page cache and transaction size");
        // SETUPLINK_CACHE_KIB overrides it so the benchmark can measure others.
        try db.exec("PRAGMA cache_size=-\(ProcessInfo.processInfo.environment["SETUPLINK_CACHE_KIB"] ?? "32768")")
        // Checkpoint the WAL every ~40 MB rather than every 4 MB: each checkpoint syncs
        // the file, and at the default a sync of 1,000-record pages spent three
        // quarters of its time checkpointing. The WAL is truncated back afterwards.
        try db.exec("PRAGMA wal_autocheckpoint=10000")
        _ = try db.scalar("PRAGMA journal_size_limit=67108864")
    }

    /// Reads the 100-byte SQLite header without SQLite, so a foreign file is refused before anything could write to it.
    static func checkHeader(path: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw StoreError.invalid("cannot read \(path): permission denied")
        }
        defer { try? h.close() }
        let header = [UInt8]((try? h.read(upToCount: 100)) ?? Data())
        let magic = Array("SQLite format 3\0".utf8)
        guard header.count == 100, Array(header[0..<16]) == magic else {
            throw StoreError.notAReplica(path: path, reason: "not an SQLite database")
        }
        let appID = header[68..<72].reduce(Int32(0)) { $0 << 8 | Int32($1) }
        guard appID == Schema.applicationID else {
            throw StoreError.notAReplica(path: path, reason: "another application's SQLite database")
        }
    }

    /// Creates the schema in a new file, in rollback-journal mode so the header is on disk before WAL is enabled.
    static func initialize(_ db: SQLiteConnection) throws {
        try db.transaction {
            // Another process may have initialized the file between our check and our lock.
            if try db.scalar("PRAGMA user_version")?.int ?? 0 > 0 { return }
            try db.exec("PRAGMA application_id=\(Schema.applicationID)")
            try migrate(db, from: 0, inTransaction: true)
            try db.run("INSERT INTO meta(key, value) VALUES('replica_id', ?)", .text(ReplicaID.random().hex))
            try db.run("INSERT INTO meta(key, value) VALUES('created', ?)", .text(DateTime.format(Date(), .seconds)))
        }
    }

    /// Runs the migrations from schema `version` up to `Schema.version`, each in a
    /// transaction of its own unless the caller's (`inTransaction`).
    /// Runs the `-- add column TABLE COLUMN DECLARATION` lines of a migration: SQLite has no
    /// `ADD COLUMN IF NOT EXISTS`, and a migration must change nothing when run again.
    static func addMissingColumns(_ sql: String, _ db: SQLiteConnection) throws {
        for line in sql.split(separator: "\n") {
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 4).map(String.init)
            guard words.count == 5, words[0] == "--", words[1] == "add", words[2] == "column" else { continue }
            let rest = words[4].split(separator: " ", maxSplits: 1).map(String.init)
            let table = words[3], column = rest[0], declaration = rest.count > 1 ? rest[1] : ""
            let s = try db.prepare("SELECT 1 FROM pragma_table_info(?) WHERE name=?")
            try s.bind([.text(table), .text(column)])
            let exists = try s.step()
            s.reset()
            if !exists { try db.exec("ALTER TABLE \(table) ADD COLUMN \(column) \(declaration)") }
        }
    }

    static func migrate(_ db: SQLiteConnection, from version: Int, inTransaction: Bool = false) throws {
        for v in version..<Int(Schema.version) {
            let step = {
                try addMissingColumns(Schema.migrations[v], db)
                try db.exec(Schema.migrations[v])
                if v + 1 == StateSums.version { try StateSums.rebuild(db) }
                try db.exec("PRAGMA user_version=\(v + 1)")
            }
            if inTransaction { try step() } else { try db.transaction(step) }
        }
    }
}
