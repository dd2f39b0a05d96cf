import JSON

/// `user show ID`: a provisioned user's names, emails, status and groups.
struct UserShow: ConsoleCommand {
    /// `user show ID`.
    static let configuration = CommandConfiguration(
        "user show", section: .directories, arguments: [id],
        summary: "show a provisioned user: names, emails, status, groups", example: "user show 8d2f")
    private static let id = Argument.required("ID", completes: .record(.user))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Prints the user's section, or its SCIM resource.
    func run(in session: ConsoleSession) throws {
        let id = try ScimLookup.resolveID(self.id, kind: .user, in: session)
        guard let (directory, u) = try session.scim.user(id) else { throw ConsoleError.failed("no user with id \(self.id)") }
        if session.json {
            session.emit([("directory_id", .string(directory)), ("user", u)])
            return
        }
        let groups = (u.member("groups")?.arrayValue ?? []).map { g in
            "\(g.member("display")?.stringValue ?? "?") (\(g.member("value")?.stringValue ?? ""))"
        }
        let emails = (u.member("emails")?.arrayValue ?? []).compactMap { e -> String? in
            guard let v = e.member("value")?.stringValue else { return nil }
            return v + (e.member("type")?.stringValue.map { " (\($0))" } ?? "") + (e.member("primary")?.boolValue == true ? " primary" : "")
        }
        var rows: [(String, String)] = [
            ("ID", id), ("Directory", ScimLookup.directoryLabel(directory, in: session)), ("User name", ScimResource.text(u, "userName")),
            ("Name", ScimResource.personName(u)), ("Display name", ScimResource.text(u, "displayName")),
            ("Emails", emails.isEmpty ? "-" : emails.joined(separator: ", ")),
            ("Status", session.io.style.status(u.member("active")?.boolValue == false ? "inactive" : "active")),
            ("External ID", ScimResource.text(u, "externalId")),
            ("Groups", groups.isEmpty ? "none" : groups.joined(separator: ", ")),
        ]
        let shown: Set<String> = ["schemas", "id", "meta", "userName", "name", "displayName", "emails", "active", "externalId", "groups"]
        let others = (u.objectValue ?? []).map(\.0).filter { !shown.contains($0) }
        if !others.isEmpty { rows.append(("Also", others.joined(separator: ", ") + " (see --json)")) }
        rows += ScimResource.metaRows(u)
        session.say(renderSection(title: "User", rows: rows))
    }
}
