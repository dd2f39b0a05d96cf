import JSON

/// How SCIM users and groups are shown: their attributes as table cells and section rows.
enum ScimResource {
    /// A user's table row: ID, User name, Name, Email (the primary, else the first), Status.
    static func userRow(_ u: JSONValue) -> [String] {
        let emails = u.member("emails")?.arrayValue ?? []
        let email = (emails.first { $0.member("primary")?.boolValue == true } ?? emails.first)?.member("value")?.stringValue
        return [text(u, "id"), text(u, "userName"), personName(u), email ?? "-",
                u.member("active")?.boolValue == false ? "inactive" : "active"]
    }

    /// `name.formatted`, else given and family names, else `displayName`, else `-`.
    static func personName(_ u: JSONValue) -> String {
        if let f = u.member("name")?.member("formatted")?.stringValue, !f.isEmpty { return f }
        let parts = ["givenName", "familyName"].compactMap { u.member("name")?.member($0)?.stringValue }.filter { !$0.isEmpty }
        if !parts.isEmpty { return parts.joined(separator: " ") }
        return u.member("displayName")?.stringValue ?? "-"
    }

    /// A string attribute, or `-`.
    static func text(_ v: JSONValue, _ name: String) -> String { v.member(name)?.stringValue ?? "-" }

    /// Created, Last modified (table date format) and Version, from `meta`.
    static func metaRows(_ v: JSONValue) -> [(String, String)] {
        func date(_ s: String?) -> String {
            // The SCIM meta form (DateTime, milliseconds), 2026-12-02T19:44:05.123Z, shown like every table date.
            guard let s, s.count >= 16 else { return "-" }
            return s.prefix(10) + " " + s.dropFirst(11).prefix(5) + " UTC"
        }
        let meta = v.member("meta")
        return [("Created", date(meta?.member("created")?.stringValue)),
                ("Last modified", date(meta?.member("lastModified")?.stringValue)),
                ("Version", meta?.member("version")?.stringValue ?? "-")]
    }

    /// An object with one more member.
    static func adding(_ member: (String, JSONValue), to v: JSONValue) -> JSONValue {
        .object((v.objectValue ?? []) + [member])
    }
}
