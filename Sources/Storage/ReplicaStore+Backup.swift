import Bytes
import CSQLite
import Dates
import Foundation
import Glibc
import Replica

/// What `ReplicaStore.backup` made.
public struct BackupReport: Sendable {
    /// The file written.
    public var path: String
    /// The replica copied.
    public var source: ReplicaID
    /// The copy's own, new replica id.
    public var replica: ReplicaID
    /// Pages copied (of `pageSize` bytes).
    public var pages: Int
    /// The page size of the file.
    public var pageSize: Int
    /// How many times the copy started again (a write that changed the pages being read).
    public var restarts: Int
}

/// `setuplink backup FILE` (Storage.docc/Backup.md): a copy of a live replica, made with
/// SQLite's online backup API from one read snapshot, so `serve` and the REPL keep
/// writing while it runs; the copy is then made a **new** replica.
extension ReplicaStore {
    /// The settings (meta keys) a copy does not keep: they belong to the hub the file was.
    static let backupDropsSettings = ["setting.serve-token", "setting.serve-token-revoked", "setting.setup-page-csrf-secret",
                                      "announce_due"]
    /// Settings by prefix a copy does not keep: the hub's Google authorizations (refresh
    /// tokens and sync bookkeeping). They are secrets of the hub that received them, which
    /// the copy is not (it has another id, so it would never use them).
    static let backupDropsSettingPrefixes = ["setting.google."]

    /// Copies the replica file at `source` to a new file `destination` and makes the copy a new
    /// replica: a new id, no peers, no peer tokens, no webhook outbox, no clients' acknowledgements,
    /// no stored serve token; it holds every record and clock entry of the source at the moment
    /// the copy's read snapshot was taken, and its first pull is a resync (what peers purged
    /// meanwhile is dropped). `progress(copied, total)` is called after each step, in pages.
    ///
    /// Refuses a `destination` that exists. Writes `destination.partial` first and renames it
    /// once the copy passed `PRAGMA integrity_check`: a backup cut off leaves no replica behind.
    ///
    /// `integrityCheck: false` skips that check, for a copy whose receiver checks it anyway
    /// (a clone's snapshot: checked once, by the client, not twice).
    ///
    /// `servedHere: true` when this process has `source` open (a hub making a snapshot): its
    /// header is not read with a plain file descriptor then, because closing any descriptor of
    /// a file drops every POSIX lock this process holds on it, the open replica's included, and
    /// another process could then checkpoint and delete the WAL under it. SQLite's own second
    /// connection shares the process's locks correctly.
    public static func backup(from source: String, to destination: String, integrityCheck: Bool = true, servedHere: Bool = false,
                              progress: ((_ copied: Int, _ total: Int) -> Void)? = nil) throws -> BackupReport {
        let fm = FileManager.default
        if fm.fileExists(atPath: destination) {
            throw StoreError.invalid("\(destination) exists: backup writes a new file (remove it or give another name)")
        }
        let folder = (destination as NSString).deletingLastPathComponent
        if !folder.isEmpty, !fm.fileExists(atPath: folder) {
            throw StoreError.invalid("the folder \(folder) does not exist")
        }
        if !servedHere && !OpenFiles.isOpen(source) { try checkHeader(path: source) }
        let partial = destination + ".partial"
        for f in [partial, partial + "-wal", partial + "-shm", partial + "-journal"] { unlink(f) }
        let fd = open(partial, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.invalid("cannot create \(partial): \(String(cString: strerror(errno)))") }
        Glibc.close(fd)
        var done = false
        defer { if !done { for f in [partial, partial + "-wal", partial + "-shm", partial + "-journal"] { unlink(f) } } }

        let src: SQLiteConnection, dst: SQLiteConnection
        do {
            src = try SQLiteConnection(path: source, readOnly: true)
            dst = try SQLiteConnection(path: partial, create: true)
        } catch let e as SQLiteError {
            throw StoreError.sqlite(path: source, e)
        }
        defer { src.close(); dst.close() }
        src.setBusyTimeout(10_000)
        dst.setBusyTimeout(10_000)
        var pages = 0, pageSize = 0, restarts = 0
        let oldID: ReplicaID
        do {
            // One read snapshot for the whole copy: steps read from it, so writers (WAL) never
            // make the copy start again, and it is the state at one instant.
            try src.exec("BEGIN")
            defer { try? src.exec("COMMIT") }
            guard let hex = try src.scalar("SELECT value FROM meta WHERE key='replica_id'")?.text, let id = ReplicaID(hex: hex) else {
                throw StoreError.notAReplica(path: source, reason: "no replica id")
            }
            oldID = id
            guard let backup = sqlite3_backup_init(dst.handle, "main", src.handle, "main") else {
                throw SQLiteError(code: sqlite3_errcode(dst.handle), message: String(cString: sqlite3_errmsg(dst.handle)), sql: nil)
            }
            var rc: Int32 = SQLITE_OK
            var lastRemaining = Int32.max
            while true {
                rc = sqlite3_backup_step(backup, 512)
                let total = Int(sqlite3_backup_pagecount(backup)), remaining = sqlite3_backup_remaining(backup)
                if remaining > lastRemaining { restarts += 1 }
                lastRemaining = remaining
                progress?(total - Int(remaining), total)
                if rc == SQLITE_DONE { pages = total; break }
                if rc == SQLITE_OK { continue }
                if rc & 0xFF == SQLITE_BUSY || rc & 0xFF == SQLITE_LOCKED {
                    usleep(20_000)
                    continue
                }
                break
            }
            let finish = sqlite3_backup_finish(backup)
            guard rc == SQLITE_DONE, finish == SQLITE_OK else {
                throw SQLiteError(code: rc == SQLITE_DONE ? finish : rc, message: String(cString: sqlite3_errmsg(dst.handle)), sql: nil)
            }
            pageSize = Int(try src.scalar("PRAGMA page_size")?.int ?? 0)
        } catch let e as SQLiteError {
            throw StoreError.sqlite(path: source, e)
        }

        // The copy becomes a new replica.
        let newID = ReplicaID.random()
        do {
            try makeNewReplica(dst, id: newID, copyOf: oldID)
            if integrityCheck {
                let check = try dst.scalar("PRAGMA integrity_check")?.text ?? "no answer"
                guard check == "ok" else { throw StoreError.invalid("the copy failed its integrity check: \(firstProblem(check))") }
            }
        } catch let e as SQLiteError {
            throw StoreError.sqlite(path: partial, e)
        }
        dst.close()
        // No clobbering: link fails if the destination appeared meanwhile.
        guard link(partial, destination) == 0 else {
            let e = errno
            throw StoreError.invalid(e == EEXIST ? "\(destination) exists: backup writes a new file (remove it or give another name)"
                                                 : "cannot create \(destination): \(String(cString: strerror(e)))")
        }
        unlink(partial)
        done = true
        return BackupReport(path: destination, source: oldID, replica: newID, pages: pages, pageSize: pageSize, restarts: restarts)
    }

    /// Makes the copy open in `db` a new replica `id` (the scrub `backup` and `clone` share):
    /// a new id, `backup_of`, a resync due, none of the source's local secrets or bookkeeping.
    static func makeNewReplica(_ db: SQLiteConnection, id newID: ReplicaID, copyOf oldID: ReplicaID) throws {
        try db.transaction {
            try db.run("UPDATE meta SET value=? WHERE key='replica_id'", .text(newID.hex))
            try db.run("INSERT INTO meta(key, value) VALUES('created', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                       .text(DateTime.format(Date(), .seconds)))
            try db.run("INSERT INTO meta(key, value) VALUES('backup_of', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                       .text(oldID.hex))
            // Its first pull from a peer is a resync: records its peers purged meanwhile go.
            try db.run("INSERT INTO meta(key, value) VALUES('resync', '1') ON CONFLICT(key) DO UPDATE SET value=excluded.value")
            for key in backupDropsSettings { try db.run("DELETE FROM meta WHERE key=?", .text(key)) }
            for prefix in backupDropsSettingPrefixes {
                try db.run("DELETE FROM meta WHERE substr(key, 1, ?) = ?", .int(Int64(prefix.utf8.count)), .text(prefix))
            }
            let tables = Set(try tableNames(db))
            for table in ["peers", "clients", "peer_tokens", "outbox", "staged", "resync_seen"] where tables.contains(table) {
                try db.exec("DELETE FROM \(table)")
            }
            // What the source noted of lies about its own writes is not a correction about it.
            if tables.contains("corrections") { try db.run("DELETE FROM corrections WHERE rid=?", .text(oldID.hex)) }
        }
    }

    /// `setuplink clone`: checks a snapshot downloaded from a hub (`GET /sync/v1/snapshot`) at
    /// `path` and makes it a replica of its own, taking from the hub's file only the records, the
    /// clock and the bookkeeping a sync would give:
    ///
    /// - a replica file by its header, `PRAGMA quick_check` ok (the pages and rows are sound), no
    ///   trigger or view (checked before anything writes to it), a replica id; migrated here if the
    ///   hub runs an older schema; then its schema a replica's of this build (`checkSnapshotSchema`);
    /// - **its own** new id, so two clones of one snapshot never share one; scrubbed again as
    ///   `backup` scrubs (a hub of another version might have left something), and of every local
    ///   setting of the hub's (a replica synced the normal way has none of them); its resync flag
    ///   cleared: the clone's catch-up sync decides (`needsResyncAfterClone`);
    /// - everything derived from the records checked against them, or computed again from them
    ///   (`rebuildDerived`): the dots index, the secondary index keys for `indexes`, the id
    ///   index's keys, the id index, and the state summary (always computed). A hub that lied in
    ///   any of them changes nothing. The file is no replica until this returns (a clone cut off
    ///   meanwhile starts again from nothing), so this writes no journal.
    ///
    /// Returns the hub's id (the snapshot's), the new one, and whether the derived data was
    /// checked and kept or built again.
    public static func adoptSnapshot(at path: String, indexes: [IndexSpec]) throws -> (source: ReplicaID, replica: ReplicaID, derived: DerivedData) {
        try checkHeader(path: path)
        let db: SQLiteConnection
        do { db = try SQLiteConnection(path: path) } catch let e as SQLiteError { throw StoreError.sqlite(path: path, e) }
        defer { db.close() }
        RecordKeyHasher.register(on: db)
        do {
            let check = try db.scalar("PRAGMA quick_check")?.text ?? "no answer"
            guard check == "ok" else { throw StoreError.invalid("the snapshot failed its integrity check: \(firstProblem(check))") }
            // Before anything here writes to it: SQL of the hub's own would run on this machine.
            try refuseStoredSQL(db, path: path)
            try refuseUnorderedKeys(db, path: path)
            let version = try db.scalar("PRAGMA user_version")?.int ?? 0
            guard version <= Int64(Schema.version) else {
                throw StoreError.newerVersion(path: path, found: Int32(version), supported: Schema.version)
            }
            if version < Int64(Schema.version) { try migrate(db, from: Int(version)) }
            let ourIndexes = try checkSnapshotSchema(db, path: path)
            guard let hex = try db.scalar("SELECT value FROM meta WHERE key='replica_id'")?.text, let source = ReplicaID(hex: hex) else {
                throw StoreError.notAReplica(path: path, reason: "no replica id")
            }
            // Row numbers are the hub's, and new rows are numbered above them (and above `rid_high`):
            // none may be near the end of their range, where the next number overflows.
            let highest = max(try db.scalar("SELECT max(rid) FROM records")?.int ?? 0,
                              (try db.scalar("SELECT value FROM meta WHERE key=?", .text(removedRowHighKey))?.text).flatMap { Int64($0) } ?? 0)
            guard highest < Int64(1) << 62 else {
                throw StoreError.notAReplica(path: path, reason: "its row numbers reach \(highest), beyond any replica's (2^62)")
            }
            // The id the hub gave its copy stays its `backup_of`: where the records came from is the hub.
            let origin = (try db.scalar("SELECT value FROM meta WHERE key='backup_of'")?.text).flatMap { ReplicaID(hex: $0) } ?? source
            let id = ReplicaID.random()
            try makeNewReplica(db, id: id, copyOf: source)
            // Like a replica synced the normal way, a clone takes none of the hub's local settings
            // (its `config`, the URL it served at): they are the hub's. (A backup keeps them.)
            try db.run("DELETE FROM meta WHERE substr(key, 1, 8) = 'setting.'")
            try db.run("UPDATE meta SET value=? WHERE key='backup_of'", .text(origin.hex))
            try db.run("DELETE FROM meta WHERE key='resync'")
            try dropWhatIsNotChecked(db, keeping: ourIndexes)
            // The file is no replica until this returns (a clone cut off meanwhile is started again
            // from nothing), so the rebuild writes no journal: what it writes is written once.
            // The commit still syncs the file (synchronous stays FULL).
            _ = try db.scalar("PRAGMA journal_mode=OFF")
            try db.exec("PRAGMA synchronous=FULL")
            let derived = try db.transaction { try rebuildDerived(db, path: path, indexes: indexes) }
            return (origin, id, derived)
        } catch let e as SQLiteError {
            throw StoreError.sqlite(path: path, e)
        }
    }

    /// What `PRAGMA integrity_check` or `quick_check` found, as one line: its first problem and
    /// how many more (its answer is many lines: a header line, then a problem a line).
    static func firstProblem(_ check: String) -> String {
        let lines = check.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("*** in database") }
        guard let first = lines.first else { return check }
        return lines.count > 1 ? "\(first) (and \(lines.count - 1) more)" : first
    }

    /// Refuses a snapshot whose `meta` or `corrections` (kept, and read by key) holds keys out of
    /// order or twice: `quick_check` does not look at the order of a WITHOUT ROWID table's B-tree,
    /// and a search in one out of order finds one of two `id_key`s, or none (the `dots` and
    /// `keys` tables are walked by `DerivedCheck`; the others a clone keeps are emptied).
    static func refuseUnorderedKeys(_ db: SQLiteConnection, path: String) throws {
        for (table, column) in [("meta", "key"), ("corrections", "rid")] {
            guard try db.scalar("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", .text(table)) != nil else { continue }
            let s = try db.prepare("SELECT \(column) FROM \(table)")
            defer { s.reset() }
            var last: [UInt8]?
            while try s.step() {
                let ok = s.type(0) == SQLITE_TEXT && s.withBlob(0) { key in
                    defer { last = Array(key) }
                    return last.map { l in l.withUnsafeBytes { DerivedCheck.compareBytes($0, key) < 0 } } ?? true
                }
                guard ok else {
                    throw StoreError.notAReplica(path: path, reason: "its \(table) table holds a key out of order or twice")
                }
            }
        }
    }

    /// Refuses a snapshot holding a trigger or a view: a replica has none, and the hub's would run
    /// here, in every later write (a trigger re-pinning the replica id to the hub's, or deleting the
    /// index keys of every record merged, was adopted silently before this check).
    static func refuseStoredSQL(_ db: SQLiteConnection, path: String) throws {
        let s = try db.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name LIMIT 1")
        defer { s.reset() }
        if try s.step() {
            throw StoreError.notAReplica(path: path, reason: "it holds a \(s.text(0)) \"\(s.text(1))\": no replica has one, and its SQL would run here")
        }
    }

    /// Refuses a snapshot whose schema is not a replica's of this build: every table, index and
    /// UNIQUE constraint a new replica has must be there, the same (columns, collations, checks,
    /// index definitions); an index of the hub's own may be there only if not UNIQUE (one would
    /// refuse this replica's writes). Tables of the hub's own are kept (no SQL of theirs runs).
    @discardableResult
    static func checkSnapshotSchema(_ db: SQLiteConnection, path: String) throws -> Set<String> {
        let reference = try SQLiteConnection(path: ":memory:", create: true)
        defer { reference.close() }
        RecordKeyHasher.register(on: reference)
        try initialize(reference)
        let want = try schemaObjects(reference), have = try schemaObjects(db)
        func refuse(_ reason: String) -> StoreError { .notAReplica(path: path, reason: reason) }
        // What a table's definition says beyond its columns' names and types.
        let clauses = ["CHECK", "COLLATE", "REFERENCES", "GENERATED", " AS ", "DEFAULT", "UNIQUE", "WITHOUT ROWID", "AUTOINCREMENT", "STRICT"]
        for (name, w) in want.sorted(by: { $0.key < $1.key }) {
            guard let h = have[name], h.type == w.type, h.table == w.table else {
                throw refuse("its \(w.type) \(name) is missing or is not a replica's")
            }
            if w.type == "table" {
                let a = Self.normalized(h.sql).uppercased(), b = Self.normalized(w.sql).uppercased()
                guard try columns(of: name, db) == columns(of: name, reference),
                      clauses.allSatisfy({ a.components(separatedBy: $0).count == b.components(separatedBy: $0).count }) else {
                    throw refuse("its table \(name) is not defined as a replica's")
                }
            } else if Self.normalized(h.sql) != Self.normalized(w.sql) {
                throw refuse("its index \(name) is not defined as a replica's")
            }
        }
        for (name, h) in have.sorted(by: { $0.key < $1.key }) where want[name] == nil && h.type == "index" {
            if name.hasPrefix("sqlite_autoindex_") || Self.normalized(h.sql).uppercased().hasPrefix("CREATE UNIQUE") {
                throw refuse("it holds a UNIQUE index \(name) a replica does not have")
            }
        }
        return Set(want.filter { $0.value.type == "index" }.map(\.key))
    }

    /// SQLite compares an index with its table only in `integrity_check`, and its planner picks
    /// any index that fits a query: an index is the hub's word. So a clone keeps none it does
    /// not check: an index of the hub's own (one on `records(idk, id)` answered every lookup by
    /// id, from entries the hub chose) is dropped, and so are the planner's statistics
    /// (`sqlite_stat1`…, which steer it); the indexes of the tables other than `records`,
    /// `dots` and `keys` (small: `replicas`' id index, which interns the replica ids of every
    /// dot merged later) are built again. `records`' partial indexes are checked with the
    /// derived data (`rebuildDerived`).
    static func dropWhatIsNotChecked(_ db: SQLiteConnection, keeping ours: Set<String>) throws {
        var foreign: [String] = [], stats: [String] = [], tables: [String] = []
        let s = try db.prepare("SELECT type, name, sql IS NULL FROM sqlite_master WHERE type IN ('index', 'table') ORDER BY name")
        while try s.step() {
            let type = s.text(0), name = s.text(1)
            if type == "index" {
                if !ours.contains(name) && s.int(2) == 0 { foreign.append(name) }
            } else if name.hasPrefix("sqlite_stat") {
                stats.append(name)
            } else if !name.hasPrefix("sqlite_") && !["records", "dots", "keys"].contains(name) {
                tables.append(name)
            }
        }
        s.reset()
        func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        for name in foreign { try db.exec("DROP INDEX \(quoted(name))") }
        for name in stats { try db.exec("DROP TABLE \(quoted(name))") }
        for name in tables { try db.exec("REINDEX \(quoted(name))") }
    }

    /// `sqlite_master` by name: type, table and SQL text (empty for an automatic index).
    private static func schemaObjects(_ db: SQLiteConnection) throws -> [String: (type: String, table: String, sql: String)] {
        let s = try db.prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master")
        defer { s.reset() }
        var out: [String: (type: String, table: String, sql: String)] = [:]
        while try s.step() { out[s.text(1)] = (s.text(0), s.text(2), s.text(3)) }
        return out
    }

    /// A table's columns as `PRAGMA table_xinfo` lists them (name, type, not null, default, key, hidden).
    private static func columns(of table: String, _ db: SQLiteConnection) throws -> [String] {
        let s = try db.prepare("SELECT name, type, \"notnull\", coalesce(dflt_value, ''), pk, hidden FROM pragma_table_xinfo(?)")
        defer { s.reset() }
        try s.bind([.text(table)])
        var out: [String] = []
        while try s.step() { out.append([s.text(0), s.text(1).uppercased(), s.text(2), s.text(3), s.text(4), s.text(5)].joined(separator: "|")) }
        return out
    }

    /// SQL text with its runs of white space made one space.
    private static func normalized(_ sql: String) -> String {
        sql.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").replacingOccurrences(of: "( ", with: "(").replacingOccurrences(of: " )", with: ")")
    }

    /// Makes sure what derives from the records of the file open in `db` is what they imply (in
    /// the caller's transaction):
    ///
    /// - each row's id-index key from its id and the file's key (`RecordKeyHasher`); a row whose
    ///   kind or liveness column disagrees with its encoding, or whose columns are not of a
    ///   record's types, is refused, and so is an id held by two rows;
    /// - the dots index, from every record's dots (interning replica ids as a merge does);
    /// - the secondary index keys of `indexes` (and the file's index signature);
    /// - the id index, which `quick_check` does not compare with its table.
    /// - the two partial indexes of rows, `records_dead` and `records_members`: a tombstone or a
    ///   member record they hid would be unseen by purging and the stable point, and a later write
    ///   of its row would fail;
    /// - the state summary, always computed.
    ///
    /// First it checks (`DerivedCheck`): one pass over the records sums the entries they imply,
    /// and one walk of each derived B-tree checks its order and sums what it holds. If all agree,
    /// it writes only the summary (`.checked`). Else it builds them all again (`.rebuilt`):
    /// entries gathered in temporary tables (SQLite's temp store, not the replica file, which
    /// they would leave larger by their size) and inserted in key order into tables of our own
    /// definition, so SQLite appends to each B-tree instead of writing its pages at random.
    @discardableResult
    static func rebuildDerived(_ db: SQLiteConnection, path: String, indexes: [IndexSpec]) throws -> DerivedData {
        guard let saltHex = try db.scalar("SELECT value FROM meta WHERE key='id_key'")?.text, let salt = Hex.decode(saltHex), salt.count == 16 else {
            throw StoreError.notAReplica(path: path, reason: "no id key")
        }
        let plan = IndexPlan(indexes)
        let signature = IndexSpec.signature(indexes)
        // First, check what the hub sent: one pass over the records sums what they imply, and
        // one walk of each derived B-tree sums what it holds and checks its order. When all
        // agree (a hub of this version that told the truth), nothing is written but the summary.
        let structureIsOurs = try DerivedCheck.structureIsOurs(db)
        if structureIsOurs, try db.scalar("SELECT value FROM meta WHERE key='index_signature'")?.text == signature {
            var implied = DerivedCheck.Sums()
            let pass = try recordsPass(db, path: path, salt: salt, plan: plan, into: &implied)
            if pass.wrongKeys.isEmpty, pass.newReplicas == 0, let held = try DerivedCheck.held(db, hasher: implied.hasher), held.sums == implied {
                try refuseDoubledIDs(db, path: path, keysSeenTwice: held.keysSeenTwice)
                try writeSummary(db, pass.summary, signature: signature)
                return .checked
            }
        }
        // Else everything derived is built again, in tables of our own definition.
        try db.exec("""
            DROP TABLE IF EXISTS temp.adopt_dots; DROP TABLE IF EXISTS temp.adopt_keys;
            CREATE TEMP TABLE adopt_dots(rix INTEGER NOT NULL, counter INTEGER NOT NULL, rid INTEGER NOT NULL);
            CREATE TEMP TABLE adopt_keys(ix INTEGER NOT NULL, key BLOB NOT NULL, rid INTEGER NOT NULL);
            """)
        var sink = try DerivedCheck.ScratchTables(db)
        let pass = try recordsPass(db, path: path, salt: salt, plan: plan, into: &sink)
        for (rid, key) in pass.wrongKeys { try db.run("UPDATE records SET idk=? WHERE rid=?", .int(key), .int(rid)) }
        try db.exec("""
            DROP INDEX IF EXISTS records_idk; DROP TABLE IF EXISTS dots; DROP TABLE IF EXISTS keys;
            \(try DerivedCheck.definition("dots")); \(try DerivedCheck.definition("keys"));
            INSERT INTO dots(rix, counter, rid) SELECT rix, counter, rid FROM temp.adopt_dots ORDER BY rix, counter, rid;
            INSERT INTO keys(ix, key, rid) SELECT ix, key, rid FROM temp.adopt_keys ORDER BY ix, key, rid;
            DROP TABLE temp.adopt_dots; DROP TABLE temp.adopt_keys;
            \(try DerivedCheck.definition("records_idk"));
            REINDEX records_dead; REINDEX records_members;
            """)
        let repeated = try db.prepare("SELECT idk FROM records INDEXED BY records_idk GROUP BY idk HAVING count(*) > 1")
        defer { repeated.reset() }
        var keysSeenTwice: [Int64] = []
        while try repeated.step() { keysSeenTwice.append(repeated.int(0)) }
        try refuseDoubledIDs(db, path: path, keysSeenTwice: keysSeenTwice)
        try writeSummary(db, pass.summary, signature: signature)
        return .rebuilt
    }

    /// One record per id: the id index is not unique (keys may collide), so two rows of one id
    /// would both be listed and counted. Ids of one key are compared only where keys repeat (`keys`,
    /// from a walk of the id index; a repeat is a collision or a hub's lie).
    private static func refuseDoubledIDs(_ db: SQLiteConnection, path: String, keysSeenTwice keys: [Int64]) throws {
        for key in keys {
            if let id = try db.scalar("SELECT id FROM records WHERE idk=? GROUP BY id HAVING count(*) > 1 LIMIT 1", .int(key))?.text {
                throw StoreError.corruptRecord(path: path, id: id, reason: "it is held twice")
            }
        }
    }

    private static func writeSummary(_ db: SQLiteConnection, _ summary: StateSums.Summary, signature: String) throws {
        try db.run("INSERT INTO meta(key, value) VALUES('index_signature', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                   .text(signature))
        try db.exec("DELETE FROM state_sums")
        try StateSums.add(summary, db)
    }

    /// One pass over the records of the file open in `db`: each row's id key (rows whose stored
    /// one differs are listed), its facts (a row whose kind or liveness column disagrees with its
    /// encoding is refused), the state summary, and every derived entry given to `sink`: its
    /// dots (replica ids the file's `replicas` table lacks are added, and counted), its index
    /// keys, its id-index entry.
    static func recordsPass<Sink: DerivedSink>(_ db: SQLiteConnection, path: String, salt: [UInt8], plan: IndexPlan,
                                               into sink: inout Sink) throws -> (summary: StateSums.Summary, wrongKeys: [(Int64, Int64)], newReplicas: Int) {
        let hasher = RecordKeyHasher(salt: salt)
        let sums = StateSumTracker()
        var rix: [ReplicaID: Int64] = [:]
        do {
            // Each replica once, by its id as this build writes it (lowercase hex), numbered from 1
            // (row 0 of the clock is the hybrid logical clock): else the dots the sums found under
            // one number are not where the clock's number (or a later merge's lookup) reads them.
            let s = try db.prepare("SELECT rix, rid, typeof(rix) = 'integer' AND typeof(rid) = 'text' FROM replicas")
            defer { s.reset() }
            while try s.step() {
                let text = s.text(1)
                guard s.int(2) != 0, s.int(0) > 0, let r = ReplicaID(hex: text), r.hex == text, rix[r] == nil else {
                    throw StoreError.notAReplica(path: path, reason: "its replicas table is not a replica's (replica #\(s.int(0)) is \"\(text.prefix(40))\")")
                }
                rix[r] = s.int(0)
            }
            if let stray = try db.scalar("SELECT rix FROM clock WHERE rix < 0 OR (rix > 0 AND rix NOT IN (SELECT rix FROM replicas)) LIMIT 1")?.int {
                throw StoreError.notAReplica(path: path, reason: "its clock names replica #\(stray), which its replicas table lacks")
            }
        }
        var summary: StateSums.Summary = [:]
        var wrongKeys: [(Int64, Int64)] = []
        var newReplicas = 0
        let rows = try db.prepare("""
            SELECT rid, idk, id, kind, live, body,
                   typeof(id) = 'text' AND typeof(kind) = 'integer' AND typeof(live) = 'integer' AND live IN (0, 1) AND typeof(body) = 'blob',
                   typeof(idk) = 'integer'
            FROM records
            """)
        defer { rows.reset() }
        while try rows.step() {
            let rid = rows.int(0), id = rows.text(2), kind = rows.int(3), live = rows.int(4) != 0
            // Columns of other types (a kind ' 3' reads as 3 but no `kind=3` finds it) or an id
            // that is not UTF-8 (hashed here as repaired, by the write hook as stored) are refused.
            var exact = id
            let sameBytes = rows.withBlob(2) { raw in exact.withUTF8 { raw.count == $0.count && (raw.count == 0 || memcmp(raw.baseAddress!, $0.baseAddress!, raw.count) == 0) } }
            guard rows.int(6) != 0, sameBytes else {
                throw StoreError.corruptRecord(path: path, id: id, reason: "its columns are not a record's: an id of UTF-8 text, an integer kind, a liveness 0 or 1, an encoded body")
            }
            let key = hasher.key(id)
            // An id key of another type (a blob of its digits reads as the key) is as wrong as
            // another key: no lookup, which binds an integer, would find it.
            if key != rows.int(1) || rows.int(7) == 0 { wrongKeys.append((rid, key)) }
            let (facts, keys, one): (RecordFacts, IndexKeys, StateSum)
            do {
                (facts, keys, one) = try rows.withBlob(5) { bytes in
                    let f = try RecordFacts(encoded: bytes, winnersOf: plan.wanted)
                    guard f.isLive else { return (f, .none, .zero) }
                    var text = id
                    let one = text.withUTF8 { sums.hash(id: UnsafeRawBufferPointer($0), body: bytes) }
                    return (f, plan.keys(facts: f, bytes: bytes), one)
                }
            } catch let e as RecordDecodingError {
                throw StoreError.corruptRecord(path: path, id: id, reason: e.description)
            }
            guard Int64(facts.kind.rawValue) == kind, facts.isLive == live else {
                throw StoreError.corruptRecord(path: path, id: id, reason: "its kind or liveness column disagrees with its encoding")
            }
            var row = summary[kind] ?? (0, 0, .zero)
            if live { row.live += 1; row.sum.add(one) } else { row.dead += 1 }
            summary[kind] = row
            try sink.idk(key, rid: rid)
            try sink.row(rid, dead: !live, member: kind == Int64(RecordKind.replica.rawValue))
            for d in facts.dots {
                let r: Int64
                if let known = rix[d.replica] {
                    r = known
                } else {
                    try db.run("INSERT INTO replicas(rid) VALUES(?)", .text(d.replica.hex))
                    r = db.lastInsertRowID
                    rix[d.replica] = r
                    newReplicas += 1
                }
                try sink.dot(rix: r, counter: Int64(bitPattern: d.counter), rid: rid)
            }
            for (ix, k) in keys.entries { try k.withUnsafeBytes { try sink.key(ix: Int64(ix), key: $0, rid: rid) } }
        }
        return (summary, wrongKeys, newReplicas)
    }

    /// After a clone's catch-up sync: whether a peer purged, before this replica was known to it,
    /// a tombstone the snapshot lacked (its purge floor `peerFloor` is not covered by the
    /// snapshot's clock `snapshot`). Then a record deleted after the snapshot may still be live
    /// here, and a resync (which drops what the peer no longer holds) is made due.
    public func needsResyncAfterClone(snapshot: VectorClock, peerFloor: VectorClock) throws -> Bool {
        guard !peerFloor.isDominated(by: snapshot) else { return false }
        try wrap { try setMeta(Self.resyncKey, "1") }
        return true
    }

    static func tableNames(_ db: SQLiteConnection) throws -> [String] {
        let s = try db.prepare("SELECT name FROM sqlite_master WHERE type='table'")
        var out: [String] = []
        while try s.step() { out.append(s.text(0)) }
        return out
    }
}
