import Foundation

/// Why the store refused or failed, as a sentence a person can act on.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// The file exists but is not a setuplink replica (another SQLite database, or not SQLite at all).
    case notAReplica(path: String, reason: String)
    /// The file was written by a newer setuplink whose schema this one cannot read.
    case newerVersion(path: String, found: Int32, supported: Int32)
    /// SQLite failed.
    case sqlite(path: String, SQLiteError)
    /// A stored record could not be decoded: the file is damaged.
    case corruptRecord(path: String, id: String, reason: String)
    /// A caller asked for something the store cannot do.
    case invalid(String)

    /// A one-line sentence.
    public var description: String {
        switch self {
        case .notAReplica(let path, let reason):
            return "\(path) is not a setuplink replica (\(reason)); it was left unchanged"
        case .newerVersion(let path, let found, let supported):
            return "\(path) was written by a newer setuplink (schema \(found), this build reads up to \(supported)); it was left unchanged"
        case .sqlite(let path, let e):
            if e.isCorruption { return "\(path) is damaged: \(e.message)" }
            return "\(path): \(e)"
        case .corruptRecord(let path, let id, let reason):
            return "\(path) is damaged: record \(id) cannot be read (\(reason))"
        case .invalid(let s):
            return s
        }
    }
}
