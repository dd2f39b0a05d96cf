import CSQLite
import Foundation

/// An error from SQLite, carrying what a person needs to act: the code, the message and the SQL.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The SQLite result code (extended).
    public var code: Int32
    /// SQLite's message.
    public var message: String
    /// The statement that failed, if any.
    public var sql: String?

    /// A one-line sentence.
    public var description: String {
        if let sql { return "SQLite error \(code): \(message) (in: \(sql.prefix(120)))" }
        return "SQLite error \(code): \(message)"
    }

    /// Whether the database file is corrupt or not a database.
    public var isCorruption: Bool { code & 0xFF == SQLITE_CORRUPT || code & 0xFF == SQLITE_NOTADB }
}

/// One connection to an SQLite database file: the only place that touches the sqlite3 C API.
///
/// Not thread-safe: one connection belongs to one thread at a time (the store
/// makes one per thread that needs it). Statements are prepared once and cached.
/// `package`: merge-bench's SQLite floor writes the replica's tables through it.
package final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    private var cache: [String: Statement] = [:]
    let path: String
    /// Called after each `transaction` commits (not after a rollback).
    var afterCommit: (() -> Void)?
    /// Called in every transaction just before its COMMIT (a throw rolls it back): the state
    /// summary writes what the transaction changed (`StateSumTracker`).
    var beforeCommit: (() throws -> Void)?
    /// Called after a transaction rolled back.
    var afterRollback: (() -> Void)?

    /// Opens a database file; `create` allows creating it.
    package init(path: String, readOnly: Bool = false, create: Bool = false) throws {
        self.path = path
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        flags |= SQLITE_OPEN_NOMUTEX
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        if rc != SQLITE_OK {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: msg, sql: nil)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Finalizes every statement and closes the connection.
    func close() {
        for s in cache.values { s.finalize() }
        cache.removeAll()
        if let h = handle { sqlite3_close_v2(h) }
        handle = nil
    }

    /// Resets every cached statement, releasing any read snapshot a statement left mid-way by an error still holds.
    func resetAll() { for s in cache.values { s.reset() } }

    /// Waits up to `milliseconds` for a lock held by another connection or process.
    func setBusyTimeout(_ milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    /// Runs one or more statements without results.
    package func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: msg, sql: sql)
        }
    }

    /// A cached prepared statement, reset and with bindings cleared.
    package func prepare(_ sql: String) throws -> Statement {
        if let s = cache[sql] {
            s.reset()
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql) }
        let s = Statement(stmt: stmt, connection: self, sql: sql)
        cache[sql] = s
        return s
    }

    /// Runs `sql` with the given bindings and no result rows.
    func run(_ sql: String, _ values: SQLValue...) throws {
        let s = try prepare(sql)
        try s.bind(values)
        while try s.step() {}
    }

    /// Every row of `sql`, its columns as text joined by `|` (for tests and diagnostics).
    package func lines(_ sql: String) throws -> [String] {
        let s = try prepare(sql)
        defer { s.reset() }
        var out: [String] = []
        while try s.step() { out.append((0..<s.columnCount).map { s.text($0) }.joined(separator: "|")) }
        return out
    }

    /// The first column of the first row, if any.
    package func scalar(_ sql: String, _ values: SQLValue...) throws -> SQLValue? {
        let s = try prepare(sql)
        try s.bind(values)
        // Reset at once: a statement left on a row holds a read transaction open.
        defer { s.reset() }
        return try s.step() ? s.value(0) : nil
    }

    /// The rowid of the last row inserted.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Builds an error from a result code and the connection's message.
    func error(_ rc: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs `body` in a transaction; rolls back if it throws.
    ///
    /// `immediate` takes the write lock at once, so two processes writing the
    /// same file wait for each other (busy timeout) instead of failing mid-way.
    package func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        // Cached statements: parsing BEGIN and COMMIT anew was a measurable part of a small write.
        try run(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try beforeCommit?()
            try run("COMMIT")
            afterCommit?()
            return result
        } catch {
            try? exec("ROLLBACK")
            afterRollback?()
            throw error
        }
    }
}

/// A value bound to or read from a statement.
package enum SQLValue: Equatable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])

    /// The integer, if this is one.
    package var int: Int64? { if case .int(let v) = self { return v }; return nil }
    var text: String? { if case .text(let v) = self { return v }; return nil }
}

/// A prepared statement owned by its connection's cache.
package final class Statement {
    private let stmt: OpaquePointer
    private unowned let connection: SQLiteConnection
    let sql: String

    init(stmt: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.stmt = stmt
        self.connection = connection
        self.sql = sql
    }

    func finalize() { sqlite3_finalize(stmt) }

    /// Resets the statement and clears its bindings.
    package func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    func bind(_ values: [SQLValue]) throws {
        for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    func bind(_ value: SQLValue, at i: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(stmt, i)
        case .int(let v): rc = sqlite3_bind_int64(stmt, i, v)
        case .text(let s): rc = bind(text: s, at: i)
        case .blob(let b): rc = b.withUnsafeBytes { bind(blob: $0, at: i) }
        }
        if rc != SQLITE_OK { throw connection.error(rc, sql) }
    }

    /// Binds an integer to parameter `i`; returns SQLite's result code.
    @discardableResult
    package func bind(int v: Int64, at i: Int32) -> Int32 { sqlite3_bind_int64(stmt, i, v) }

    /// Binds text to parameter `i` (SQLite copies it); returns SQLite's result code.
    @discardableResult
    package func bind(text s: String, at i: Int32) -> Int32 {
        var s = s
        return s.withUTF8 { u in
            u.withMemoryRebound(to: CChar.self) { c in
                guard let base = c.baseAddress else { return setuplink_sqlite3_bind_text_transient(stmt, i, "", 0) }
                return setuplink_sqlite3_bind_text_transient(stmt, i, base, Int32(c.count))
            }
        }
    }

    /// Binds bytes to parameter `i` (SQLite copies them); returns SQLite's result code.
    @discardableResult
    package func bind(blob b: UnsafeRawBufferPointer, at i: Int32) -> Int32 {
        setuplink_sqlite3_bind_blob_transient(stmt, i, b.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(b.count))
    }

    @discardableResult
    func bindNull(at i: Int32) -> Int32 { sqlite3_bind_null(stmt, i) }

    /// Binds `text` without copying it (SQLITE_STATIC), runs `body`, then resets the
    /// statement and clears its bindings, so nothing refers to the text afterwards.
    func withText<T>(_ text: String, at i: Int32, _ body: () throws -> T) rethrows -> T {
        var text = text
        return try text.withUTF8 { u in
            defer {
                sqlite3_reset(stmt)
                sqlite3_clear_bindings(stmt)
            }
            u.withMemoryRebound(to: CChar.self) { c in
                _ = sqlite3_bind_text(stmt, i, c.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(c.count), nil)
            }
            return try body()
        }
    }

    /// Steps once: `true` when a row is available, `false` when done.
    package func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let e = connection.error(rc, sql)
        sqlite3_reset(stmt)
        throw e
    }

    func int(_ col: Int32) -> Int64 { sqlite3_column_int64(stmt, col) }

    func isNull(_ col: Int32) -> Bool { sqlite3_column_type(stmt, col) == SQLITE_NULL }

    /// The storage class of a column of the current row (`SQLITE_INTEGER`, `SQLITE_BLOB`, …).
    func type(_ col: Int32) -> Int32 { sqlite3_column_type(stmt, col) }

    /// How many columns a row of this statement has.
    var columnCount: Int32 { sqlite3_column_count(stmt) }

    func text(_ col: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, col) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, col))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// The blob of a column, valid until the next step or reset.
    func withBlob<T>(_ col: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let p = sqlite3_column_blob(stmt, col)
        let n = Int(sqlite3_column_bytes(stmt, col))
        return try body(UnsafeRawBufferPointer(start: p, count: n))
    }

    func value(_ col: Int32) -> SQLValue {
        switch sqlite3_column_type(stmt, col) {
        case SQLITE_INTEGER: return .int(int(col))
        case SQLITE_TEXT: return .text(text(col))
        case SQLITE_BLOB: return .blob(withBlob(col) { Array($0) })
        default: return .null
        }
    }
}
