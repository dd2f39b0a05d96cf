import JSON
import Replica

/// How a change discarded by a concurrent delete is told: `sync` says it when it happens,
/// `conflicts` lists it until it is marked seen.
extension DiscardedChange {
    /// `link acme/crm`, `directory "Acme Okta"`, or the kind and id.
    var subject: String {
        switch kind {
        case .link:
            if let t = values["tenant"], let p = values["product"] { return "link \(t)/\(p)" }
        case .directory:
            if let n = values["name"] { return "directory \"\(n)\"" }
        default:
            break
        }
        return "\(kind) \(id)"
    }

    /// What the discarded writes did, in words: `regenerate`, `re-create`, `change of name, webhook_url`.
    var what: String {
        if kind == .link && fields.contains("token") { return "regenerate" }
        if fields == ["deleted"] { return "re-create" }
        if kind == .directory && fields.contains("deactivated") && fields.count == 1 { return "activation change" }
        return "change of " + fields.filter { $0 != "deleted" }.joined(separator: ", ")
    }

    /// `link acme/crm was deleted on replica 1a2b… (this replica); the regenerate made on replica 3c4d… was discarded`.
    func sentence(this: ReplicaID) -> String {
        func who(_ ids: [ReplicaID]) -> String {
            ids.map { "replica " + String($0.hex.prefix(8)) + ($0 == this ? " (this replica)" : "") }.joined(separator: " and ")
        }
        let deleters = deletedBy.isEmpty ? "another replica" : who(deletedBy)
        return "\(subject) was deleted on \(deleters); the \(what) made on \(who(changedBy)) was discarded (a concurrent delete wins)"
    }

    /// The change as JSON: `subject`, `kind`, `id`, `deleted_by`, `changed_by`, `fields`, `what`.
    var jsonFields: [(String, JSONValue)] {
        [("subject", .string(subject)), ("kind", .string(kind.description)), ("id", .string(id)),
         ("deleted_by", .array(deletedBy.map { .string($0.hex) })), ("changed_by", .array(changedBy.map { .string($0.hex) })),
         ("fields", .array(fields.map(JSONValue.string))), ("what", .string(what))]
    }
}
