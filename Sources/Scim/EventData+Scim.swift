import Events
import JSON

/// The `data` of directory events read from SCIM resources (Webhooks.docc/ReceivingWebhooks.md), by SCIM's
/// case-insensitive attribute names.
extension EventData {
    /// A user's data from its resource: `id`, `email`, `first_name`, `last_name`, `active`,
    /// `roles` (when it has any), `raw`.
    ///
    /// `email` is the primary email's value, else the first email's, else the
    /// `userName` when it looks like an address, else null. `active` is true
    /// unless the resource says `false`. `roles` is the `value` of each of the
    /// user's roles, in order (stored as SCIM's role objects, whatever form they
    /// were sent in: `Normalizer.roles`); absent when there is none. `raw` is the
    /// resource as stored (never a password: none is stored).
    public static func user(_ resource: JSONValue) -> JSONValue {
        let emails = resource.member("emails")?.arrayValue ?? []
        let primary = emails.first { $0.member("primary") == .bool(true) } ?? emails.first
        var email: JSONValue = .null
        if let v = primary?.member("value"), case .string = v {
            email = v
        } else if let u = resource.member("userName")?.stringValue, u.contains("@") {
            email = .string(u)
        }
        let name = resource.member("name")
        let roles = (resource.member("roles")?.arrayValue ?? []).compactMap { $0.member("value")?.stringValue }
        return user(id: resource.member("id") ?? .null, email: email,
                    firstName: name?.member("givenName") ?? .null, lastName: name?.member("familyName") ?? .null,
                    active: resource.member("active") != .bool(false), roles: roles, raw: resource)
    }

    /// A group's data from its resource: `id`, `name` (its displayName), `raw` (without
    /// members: a group of 100,000 members is not sent whole with every event).
    public static func group(_ resource: JSONValue) -> JSONValue {
        var raw = ObjectMembers(resource)
        raw["members"] = nil
        return group(id: resource.member("id") ?? .null, name: resource.member("displayName") ?? .null, raw: raw.value)
    }

    /// A membership event's data from the group's resource: the member's user data
    /// (`user(_:)`, or `unknownMember(_:)` when the member is not a user this replica
    /// holds) with the group's data (`group(_:)`) under `group`, last.
    public static func membership(user: JSONValue, groupResource: JSONValue) -> JSONValue {
        membership(user: user, group: group(groupResource))
    }
}
