import JSON

/// The `data` object of directory events (Webhooks.docc/ReceivingWebhooks.md): its fields, in the order they
/// are sent. What a webhook receiver reads, and what any other consumer of
/// `DirectoryEvent` reads.
///
/// The emitter fills the fields from its resources (Scim: `EventData+Scim.swift`,
/// which reads SCIM attributes by their case-insensitive names).
public enum EventData {
    /// A user's data: `id`, `email`, `first_name`, `last_name`, `active`, `raw`
    /// (the resource as stored).
    public static func user(id: JSONValue, email: JSONValue, firstName: JSONValue, lastName: JSONValue, active: Bool,
                            raw: JSONValue) -> JSONValue {
        .object([
            ("id", id),
            ("email", email),
            ("first_name", firstName),
            ("last_name", lastName),
            ("active", .bool(active)),
            ("raw", raw),
        ])
    }

    /// A group's data: `id`, `name`, `raw` (the resource as stored, without its members).
    public static func group(id: JSONValue, name: JSONValue, raw: JSONValue) -> JSONValue {
        .object([
            ("id", id),
            ("name", name),
            ("raw", raw),
        ])
    }

    /// A membership event's data: the group's data (`group(id:name:raw:)`) plus `user`,
    /// the member's user data.
    public static func membership(group: JSONValue, user: JSONValue) -> JSONValue {
        guard case .object(var members) = group else { return .object([("user", user)]) }
        if let i = members.firstIndex(where: { $0.0 == "user" }) { members[i].1 = user } else { members.append(("user", user)) }
        return .object(members)
    }
}
