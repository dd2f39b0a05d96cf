import JSON

/// The `data` object of directory events (Webhooks.docc/ReceivingWebhooks.md): its fields, in the order they
/// are sent. What a webhook receiver reads, and what any other consumer of
/// `DirectoryEvent` reads.
///
/// The emitter fills the fields from its resources (Scim: `EventData+Scim.swift`,
/// which reads SCIM attributes by their case-insensitive names).
public enum EventData {
    /// A user's data: `id`, `email`, `first_name`, `last_name`, `active`, `roles`
    /// when `roles` is given and not empty (the role names, as Jackson sends them:
    /// an array of strings; no `roles` key otherwise), `raw` (the resource as stored).
    public static func user(id: JSONValue, email: JSONValue, firstName: JSONValue, lastName: JSONValue, active: Bool,
                            roles: [String]? = nil, raw: JSONValue) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", id),
            ("email", email),
            ("first_name", firstName),
            ("last_name", lastName),
            ("active", .bool(active)),
        ]
        if let roles, !roles.isEmpty { members.append(("roles", .array(roles.map(JSONValue.string)))) }
        members.append(("raw", raw))
        return .object(members)
    }

    /// A group's data: `id`, `name`, `raw` (the resource as stored, without its members).
    public static func group(id: JSONValue, name: JSONValue, raw: JSONValue) -> JSONValue {
        .object([
            ("id", id),
            ("name", name),
            ("raw", raw),
        ])
    }

    /// A membership event's data (`group.user_added`, `group.user_removed`): the
    /// member's user data (`user(…)`) with the group's data (`group(id:name:raw:)`)
    /// added last under `group`, as Jackson's membership events carry them: a
    /// receiver reads `data.id` as the user and `data.group.id` as the group.
    ///
    /// A member that is not a user the emitter holds is `{"id": <member value>}`
    /// (see `unknownMember(_:)`), so the data is `{"id": …, "group": {…}}`.
    public static func membership(user: JSONValue, group: JSONValue) -> JSONValue {
        var members = user.objectValue ?? []
        members.removeAll { $0.0 == "group" }
        members.append(("group", group))
        return .object(members)
    }

    /// The user data of a member that is not a user the emitter holds (a user
    /// created on another hub and not synced yet, or a group's id): just its
    /// member value as `id`.
    ///
    /// Jackson sends such a `group.user_added` without `data`; keeping the id
    /// lets a receiver fetch the user later instead of dropping the event.
    public static func unknownMember(_ value: String) -> JSONValue {
        .object([("id", .string(value))])
    }
}
