import Replica
import SetupLinks

/// Finding provisioned users and groups by what was typed, within the session's scope.
enum ScimLookup {
    /// The full id of the live user or group `typed` (an id or a unique prefix, any case)
    /// names; on a setup page only users and groups of that page's directories.
    static func resolveID(_ typed: String, kind: RecordKind, in session: ConsoleSession) throws -> String {
        let what = kind == .user ? "user" : "group"
        let t = Validation.trimmed(typed).lowercased()
        guard !t.isEmpty else { throw ConsoleError.usage("\(what) show needs an id") }
        let allowed = try session.page.map { Set(try $0.directories().map(\.id)) }
        func ok(_ id: String) throws -> Bool {
            guard let r = try session.replica.record(id: id), r.isLive, r.kind == kind else { return false }
            guard let allowed else { return true }
            return ScimRecords.directory(of: r).map(allowed.contains) ?? false
        }
        if try ok(t) { return t }
        let ids = try session.replica.ids(kind: kind, prefix: t, limit: 32).filter { try ok($0) }
        switch ids.count {
        case 0: throw ConsoleError.failed("no \(what) with id \(typed)" + (session.page == nil ? "" : " on this setup page"))
        case 1: return ids[0]
        default: throw SetupLinkError.ambiguousID(kind: what, prefix: t, candidates: ids)
        }
    }

    /// `name (id)` of a directory, `, deleted` when it is a tombstone, or the id alone when it is gone.
    static func directoryLabel(_ id: String, in session: ConsoleSession) -> String {
        guard let r = try? session.replica.record(id: id), let d = Directory(record: r) else { return id }
        return "\(d.name) (\(id))" + (r.isLive ? "" : ", deleted")
    }
}
