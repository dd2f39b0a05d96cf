import Bytes
import CSQLite
import Foundation
import Glibc
import Replica
import Synchronization

/// A durable replica: every record, the replica clock, the dots index and the
/// peer checkpoints, in one SQLite file (WAL mode).
///
/// Every local write and every merged batch is one transaction, so after a
/// crash (even `kill -9`) the file opens cleanly and holds every write whose
/// call returned. Several processes may open the same file (a REPL and a
/// server): writes take the lock up front (`BEGIN IMMEDIATE`) and wait for
/// each other up to the busy timeout.
///
/// Thread-safe: calls are serialized on an internal lock.
public final class ReplicaStore: @unchecked Sendable {
    // @unchecked Sendable: every access to `db` and the caches goes through `lock`.
    /// The file path.
    public let path: String
    /// This replica's id, generated when the file was created.
    public let replicaID: ReplicaID
    /// The wall clock in milliseconds; tests may pin it.
    public var now: @Sendable () -> UInt64 {
        get { lock.withLock { _now } }
        set { lock.withLock { _now = newValue } }
    }

    let db: SQLiteConnection
    /// Serializes every use of `db` and of the caches, a whole transaction at a time.
    ///
    /// Recursive, because it is taken again by the thread that holds it
    /// (`Synchronization.Mutex` would trap there):
    /// - `now`'s getter takes it, and locked code reads `now`: `localWrite` (every
    ///   `write`, every body of `writeBatch`, every exchange step that writes),
    ///   `applyInTransaction`, `applyStaging`, `dropStaleStaged`, `learnInTransaction`,
    ///   `dropLies`, `forgotten()`, `peerInput(sender:senderClock:)`, and
    ///   `LocalTransaction.enqueueEvent` (the webhook outbox's sink, inside a SCIM change).
    /// - A body given to `write` or `writeBatch` may read through the store's public
    ///   methods, which see its uncommitted writes (one connection): `SetupLinkService.updateLink`
    ///   scans the link's directories inside its write; SCIM flows read through
    ///   `ScimReplicaTransaction`, whose `scan`, `scanAll` and `count` go to the store
    ///   (a group's members, a group's delete), inside a change's `writeBatch`.
    /// - `more`, given to `apply(pulled:from:resync:more:)`, runs under it and may call the
    ///   store (`MergePreparerTests` takes `mergePreparer()` there; `SyncClient` does not).
    ///
    /// Nothing else nests: `exchange` is one `wrap` whose steps call unlocked helpers and
    /// `localWrite`, never `write`; `writeBatch` runs each body with `localWrite`; the
    /// outbox, the peer registry and the settings take it once per call; `SyncClient`
    /// takes `mergePreparer()` before its pull, outside any transaction. (Found by logging
    /// every nested acquisition over the whole test suite, and by reading the callers of
    /// `write`, `writeBatch` and `more`.)
    let lock = NSRecursiveLock()
    private var _now: @Sendable () -> UInt64 = { HLC.wallMilliseconds() }
    private var rixByID: [ReplicaID: Int64] = [:]
    private var lastRix: (ReplicaID, Int64)?
    private var idByRix: [Int64: ReplicaID] = [:]
    private var encodeBuffer: [UInt8] = []
    /// The last records `loadRow` decoded, with their encodings (most recent last): a record
    /// read again unchanged is not decoded again (a SCIM directory is read in every change).
    /// Checked against the stored bytes, so it can never return a stale state.
    private var recentlyDecoded: [(id: String, bytes: [UInt8], record: Record)] = []
    private static let recentlyDecodedLimit = 8
    private var hot: [Statement?] = Array(repeating: nil, count: Hot.allCases.count)
    /// What the open transaction changed of the state summary (`StateSums`), from the pre-update hook.
    let stateSums = StateSumTracker()
    /// This file in `OpenFiles` while the store is open.
    private var openFile: OpenFiles.Key?
    /// Makes the integer keys of the id index (see `RecordKeyHasher`).
    let recordKeys: RecordKeyHasher

    /// Statements on the merge path, held directly so no SQL string is hashed per record.
    enum Hot: Int, CaseIterable {
        case selectBody, insertRecord, updateRecord, insertDot, deleteDot, insertKey, deleteKey

        var sql: String {
            switch self {
            case .selectBody: return "SELECT body, rid FROM records WHERE idk=?1 AND id=?2"
            case .insertRecord: return "INSERT INTO records(rid, idk, id, kind, live, body) VALUES(?6, ?1, ?2, ?3, ?4, ?5)"
            case .updateRecord: return "UPDATE records SET kind=?2, live=?3, body=?4 WHERE rid=?1"
            case .insertDot: return "INSERT OR IGNORE INTO dots(rix, counter, rid) VALUES(?, ?, ?)"
            case .deleteDot: return "DELETE FROM dots WHERE rix=? AND counter=? AND rid=?"
            case .insertKey: return "INSERT OR IGNORE INTO keys(ix, key, rid) VALUES(?, ?, ?)"
            case .deleteKey: return "DELETE FROM keys WHERE ix=? AND key=? AND rid=?"
            }
        }
    }

    /// A hot statement, reset and ready to bind.
    func statement(_ h: Hot) throws -> Statement {
        if let s = hot[h.rawValue] {
            s.reset()
            return s
        }
        let s = try db.prepare(h.sql)
        hot[h.rawValue] = s
        return s
    }

    /// The secondary indexes installed (`installIndexes`), or `nil` for a store opened without them.
    var indexSpecs: [IndexSpec]? { indexPlan?.specs }
    /// The installed indexes, prepared for reading keys from encodings.
    var indexPlan: IndexPlan? {
        didSet { indexGeneration += 1 }
    }
    /// Counts installations of indexes: what prepared records (`MergePreparer`) were made for.
    var indexGeneration = 0
    /// This store among every store this process opened (never reused, unlike an address):
    /// prepared records name the store, and so the id key, they were made for.
    let instance = ReplicaStore.instances.add(1, ordering: .relaxed).newValue
    private static let instances = Atomic<Int>(0)
    /// The merge's multi-row statements, by table and row count (`rowsStatement`).
    var rowsStatements: [String: Statement] = [:]
    /// Set when a statement changed the keys table (see `dataVersion`); cleared when read.
    var keysTouched = false
    /// Counts the changes of the keys table that `dataVersion` has seen.
    var keysVersion = 0
    /// The domain's rules by kind (`installRules`); `nil` for a store opened without them.
    var recordRules: [UInt8: RecordRule]?
    /// The highest row number ever removed while it was the last (meta `rid_high`): new rows
    /// are numbered above it. `nil` until read; 0 when there is none, or when rows above it exist.
    var removedRowHigh: Int64?
    /// Observers told after every committed transaction of this store (`addCommitObserver`).
    var commitObservers: [@Sendable () -> Void] = []
    /// Counts the tombstones this process stored (any write of a deleted state).
    var tombstoneEpoch = 0
    /// The last purge scan that found nothing more: its limit, `tombstoneEpoch` and the file's data version then.
    var purgeMemo: (limit: VectorClock, epoch: Int, file: Int64)?

    /// Opens the replica at `path`, creating it (and its folder) if the file does not exist or is empty.
    ///
    /// Refuses, without changing a byte, a file that is not a setuplink replica
    /// or that was written by a newer schema. With `indexes`, installs them
    /// (see `installIndexes`); a store opened without indexes that writes
    /// drops the keys it cannot maintain, and the next store opened with them
    /// rebuilds them.
    public convenience init(path: String, indexes: [IndexSpec]) throws {
        try self.init(path: path)
        do { try installIndexes(indexes) } catch {
            close()
            throw error
        }
    }

    /// Opens the replica at `path` without secondary indexes (see `init(path:indexes:)`).
    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        var isNew = true
        if let attrs = try? fm.attributesOfItem(atPath: path) {
            if (attrs[.type] as? FileAttributeType) == .typeDirectory {
                throw StoreError.notAReplica(path: path, reason: "it is a directory")
            }
            let size = (attrs[.size] as? NSNumber)?.intValue ?? 0
            if size > 0 {
                isNew = false
                // Not through a descriptor of ours while this process has the file open: closing it
                // would drop every POSIX lock SQLite holds on the file here (`OpenFiles`).
                if !OpenFiles.isOpen(path) { try ReplicaStore.checkHeader(path: path) }
            }
        } else {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty && !fm.fileExists(atPath: dir) {
                do {
                    // Private: the folder of a replica holds its secrets.
                    try fm.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                           attributes: [.posixPermissions: 0o700])
                } catch {
                    throw StoreError.invalid("cannot create the folder \(dir): \(error.localizedDescription)")
                }
            }
            // Created 0600 before SQLite opens it: every token and secret is in
            // this file, and SQLite gives the -wal and -shm files the mode of
            // the database file.
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if fd >= 0 {
                Glibc.close(fd)
            } else if errno != EEXIST {
                throw StoreError.invalid("cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
        do {
            db = try SQLiteConnection(path: path, create: isNew)
        } catch let e as SQLiteError {
            throw StoreError.sqlite(path: path, e)
        }
        do {
            db.setBusyTimeout(10_000)
            RecordKeyHasher.register(on: db)
            if isNew { try ReplicaStore.initialize(db) }
            let version = try db.scalar("PRAGMA user_version")?.int ?? 0
            if version > Int64(Schema.version) {
                throw StoreError.newerVersion(path: path, found: Int32(version), supported: Schema.version)
            }
            let appID = try db.scalar("PRAGMA application_id")?.int ?? 0
            guard appID == Int64(Schema.applicationID) else {
                throw StoreError.notAReplica(path: path, reason: "another application's SQLite database")
            }
            if version < Int64(Schema.version) { try ReplicaStore.migrate(db, from: Int(version)) }
            // After the migrations (the summary's table exists from version 11 on).
            stateSums.install(on: db)
            try ReplicaStore.tune(db)
            guard let hex = try db.scalar("SELECT value FROM meta WHERE key='replica_id'")?.text,
                  let rid = ReplicaID(hex: hex) else {
                throw StoreError.notAReplica(path: path, reason: "no replica id")
            }
            replicaID = rid
            guard let saltHex = try db.scalar("SELECT value FROM meta WHERE key='id_key'")?.text, let salt = Hex.decode(saltHex), salt.count == 16 else {
                throw StoreError.notAReplica(path: path, reason: "no id key")
            }
            recordKeys = RecordKeyHasher(salt: salt)
            ReplicaStore.restrictPermissions(path)
            // After every commit, whatever wrote it (the observers are called under the lock).
            db.afterCommit = { [unowned self] in notifyCommitted() }
            openFile = OpenFiles.opened(path)
        } catch let e as SQLiteError {
            db.close()
            if e.isCorruption { throw StoreError.notAReplica(path: path, reason: e.message) }
            throw StoreError.sqlite(path: path, e)
        } catch {
            db.close()
            throw error
        }
    }

    /// Closes the file; further calls fail.
    public func close() {
        lock.withLock {
            hot = Array(repeating: nil, count: Hot.allCases.count)
            rowsStatements = [:]
            db.close()
            if let key = openFile { OpenFiles.closed(key) }
            openFile = nil
        }
    }

    // MARK: Helpers (call with the lock held)

    func wrap<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body()
        } catch let e as SQLiteError {
            db.resetAll()
            throw StoreError.sqlite(path: path, e)
        } catch {
            db.resetAll()
            throw error
        }
    }

    func rix(_ id: ReplicaID, create: Bool) throws -> Int64? {
        // Consecutive dots usually come from one replica: skip the dictionary for it.
        if let last = lastRix, last.0 == id { return last.1 }
        if let r = rixByID[id] {
            lastRix = (id, r)
            return r
        }
        let hex = id.hex
        if let r = try db.scalar("SELECT rix FROM replicas WHERE rid=?", .text(hex))?.int {
            rixByID[id] = r; idByRix[r] = id
            return r
        }
        guard create else { return nil }
        try db.run("INSERT INTO replicas(rid) VALUES(?)", .text(hex))
        let r = Int64(sqlite3_last_insert_rowid(db.handle))
        // Cached only after commit would be purer; a rolled-back rix is re-read on the next miss.
        return r
    }

    func resetReplicaCache() {
        rixByID.removeAll()
        idByRix.removeAll()
        lastRix = nil
    }

    func replica(rix: Int64) throws -> ReplicaID {
        if let id = idByRix[rix] { return id }
        guard let hex = try db.scalar("SELECT rid FROM replicas WHERE rix=?", .int(rix))?.text,
              let id = ReplicaID(hex: hex) else {
            throw StoreError.corruptRecord(path: path, id: "replica #\(rix)", reason: "unknown replica index")
        }
        idByRix[rix] = id; rixByID[id] = rix
        return id
    }

    func loadClock() throws -> VectorClock {
        // Row 0 is the hybrid logical clock (`loadHLC`), not a replica's entry.
        let s = try db.prepare("SELECT rix, counter FROM clock WHERE rix > 0")
        var pairs: [(ReplicaID, UInt64)] = []
        var raw: [(Int64, Int64)] = []
        while try s.step() { raw.append((s.int(0), s.int(1))) }
        for (r, c) in raw { pairs.append((try replica(rix: r), UInt64(c))) }
        return VectorClock(pairs)
    }

    /// One replica's entry of the replica clock (0 when it has none): a write's next dot, without reading the whole clock.
    func counter(of id: ReplicaID) throws -> UInt64 {
        guard let r = try rix(id, create: false) else { return 0 }
        return UInt64(try db.scalar("SELECT counter FROM clock WHERE rix=?", .int(r))?.int ?? 0)
    }

    func raiseClock(_ id: ReplicaID, to counter: UInt64) throws {
        let r = try rix(id, create: true)!
        try db.run("INSERT INTO clock(rix, counter) VALUES(?, ?) ON CONFLICT(rix) DO UPDATE SET counter=max(counter, excluded.counter)",
                   .int(r), .int(Int64(counter)))
    }

    /// The key of an id in the id index.
    func key(_ id: String) -> Int64 { recordKeys.key(id) }

    /// A record by id, tombstones included.
    func loadRecord(_ id: String) throws -> Record? { try loadRow(id)?.record }

    /// A record by id and its row number.
    func loadRow(_ id: String) throws -> (record: Record, rid: Int64)? {
        let s = try statement(.selectBody)
        s.bind(int: key(id), at: 1)
        s.bind(text: id, at: 2)
        defer { s.reset() }
        guard try s.step() else { return nil }
        let record: Record = try s.withBlob(0) { stored in
            if let i = recentlyDecoded.lastIndex(where: { $0.id == id }) {
                let same = recentlyDecoded[i].bytes.withUnsafeBytes { $0.count == stored.count && (stored.isEmpty || memcmp($0.baseAddress!, stored.baseAddress!, stored.count) == 0) }
                if same { return recentlyDecoded[i].record }
                recentlyDecoded.remove(at: i)
            }
            let r = try decodeRecord(id: id, stored)
            if recentlyDecoded.count >= Self.recentlyDecodedLimit { recentlyDecoded.removeFirst() }
            recentlyDecoded.append((id, Array(stored), r))
            return r
        }
        return (record, s.int(1))
    }

    func decode(id: String, _ s: Statement, column: Int32) throws -> Record {
        try s.withBlob(column) { try decodeRecord(id: id, $0) }
    }

    /// A stored encoding decoded; one that does not decode is a corrupt file, named as such.
    private func decodeRecord(id: String, _ bytes: UnsafeRawBufferPointer) throws -> Record {
        do throws(RecordDecodingError) {
            return try Record(id: id, encoded: bytes)
        } catch {
            throw StoreError.corruptRecord(path: path, id: id, reason: error.description)
        }
    }

    func meta(_ key: String) throws -> String? {
        try db.scalar("SELECT value FROM meta WHERE key=?", .text(key))?.text
    }

    func setMeta(_ key: String, _ value: String) throws {
        try db.run("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                   .text(key), .text(value))
    }

    /// The largest timestamp this replica has written or seen: row 0 of the clock table
    /// (schema 7), on the page that also holds this replica's counter.
    func loadHLC() throws -> HLC {
        HLC(rawValue: UInt64(bitPattern: try db.scalar("SELECT counter FROM clock WHERE rix=0")?.int ?? 0))
    }

    func setHLC(_ hlc: HLC) throws {
        try db.run("INSERT INTO clock(rix, counter) VALUES(0, ?) ON CONFLICT(rix) DO UPDATE SET counter=excluded.counter",
                   .int(Int64(bitPattern: hlc.rawValue)))
    }

    /// Writes a record's new state (a new row without `rid`) and keeps the dots index and the
    /// secondary indexes in step with it; returns its row number.
    @discardableResult
    func store(_ new: Record, replacing old: Record?, rid: Int64?) throws -> Int64 {
        encodeBuffer.removeAll(keepingCapacity: true)
        new.encode(into: &encodeBuffer)
        let row: Int64
        if let rid {
            let s = try statement(.updateRecord)
            s.bind(int: rid, at: 1)
            s.bind(int: Int64(new.kind.rawValue), at: 2)
            s.bind(int: new.isLive ? 1 : 0, at: 3)
            encodeBuffer.withUnsafeBytes { _ = s.bind(blob: $0, at: 4) }
            while try s.step() {}
            row = rid
        } else {
            let s = try statement(.insertRecord)
            s.bind(int: key(new.id), at: 1)
            s.bind(text: new.id, at: 2)
            s.bind(int: Int64(new.kind.rawValue), at: 3)
            s.bind(int: new.isLive ? 1 : 0, at: 4)
            encodeBuffer.withUnsafeBytes { _ = s.bind(blob: $0, at: 5) }
            // NULL: SQLite numbers the row (the largest + 1), unless that number was used before.
            if let floor = try rowNumberFloor() { s.bind(int: floor, at: 6) } else { _ = s.bindNull(at: 6) }
            while try s.step() {}
            row = db.lastInsertRowID
        }
        if !new.isLive { tombstoneEpoch &+= 1 }
        let newDots = new.distinctDots
        let oldDots = old?.distinctDots ?? []
        for d in oldDots where !newDots.contains(d) { try removeDot(d, rid: row) }
        for d in newDots where !oldDots.contains(d) { try addDot(d, rid: row) }
        if let specs = indexSpecs, specs.contains(where: { $0.kind == new.kind }) {
            try updateKeys(rid: row, old: old.map { IndexKeys.of($0, specs: specs) } ?? .none, new: IndexKeys.of(new, specs: specs))
        }
        return row
    }

    func addDot(_ d: Dot, rid: Int64) throws {
        let s = try statement(.insertDot)
        s.bind(int: try rix(d.replica, create: true)!, at: 1)
        s.bind(int: Int64(d.counter), at: 2)
        s.bind(int: rid, at: 3)
        while try s.step() {}
    }

    func removeDot(_ d: Dot, rid: Int64) throws {
        guard let r = try rix(d.replica, create: false) else { return }
        let s = try statement(.deleteDot)
        s.bind(int: r, at: 1)
        s.bind(int: Int64(d.counter), at: 2)
        s.bind(int: rid, at: 3)
        while try s.step() {}
    }
}

/// The replica files this process has open (by device and inode), and how many times.
///
/// POSIX advisory locks belong to the process: closing *any* descriptor of a file drops every
/// lock the process holds on it, SQLite's included (SQLite's FAQ calls it a way to corrupt a
/// database). So a header check that opens and closes the file is done only when no store of
/// this process has it open; once one has, the file is known to be a replica.
enum OpenFiles {
    struct Key: Hashable, Sendable {
        let device: UInt64
        let inode: UInt64
    }

    private static let counts = Mutex<[Key: Int]>([:])

    static func key(_ path: String) -> Key? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Whether a store of this process has the file at `path` open.
    static func isOpen(_ path: String) -> Bool {
        guard let k = key(path) else { return false }
        return counts.withLock { ($0[k] ?? 0) > 0 }
    }

    /// Notes one more store open on `path`; returns its key (nil if it cannot be read).
    static func opened(_ path: String) -> Key? {
        guard let k = key(path) else { return nil }
        counts.withLock { $0[k, default: 0] += 1 }
        return k
    }

    /// Notes a store closed.
    static func closed(_ k: Key) {
        counts.withLock { c in
            let n = (c[k] ?? 1) - 1
            c[k] = n > 0 ? n : nil
        }
    }
}
