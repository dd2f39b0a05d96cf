import JSON

/// `group show ID`: a provisioned group, then its members (streamed).
struct GroupShow: ConsoleCommand {
    /// `group show ID`.
    static let configuration = CommandConfiguration(
        "group show", section: .directories, arguments: [id],
        summary: "show a provisioned group and its members", example: "group show 41aa")
    private static let id = Argument.required("ID", completes: .record(.group))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Prints the group's section and members, or its SCIM resource and members.
    func run(in session: ConsoleSession) throws {
        let id = try ScimLookup.resolveID(self.id, kind: .group, in: session)
        let browser = session.scim
        guard let (directory, g) = try browser.group(id) else { throw ConsoleError.failed("no group with id \(self.id)") }
        if session.json {
            var page = try browser.members(group: id, limit: 1000)
            var members = page.items
            while let next = page.next {
                page = try browser.members(group: id, after: next, limit: 1000)
                members += page.items
            }
            session.emit([("directory_id", .string(directory)), ("group", g), ("members", .array(members))])
            return
        }
        let count = try browser.memberCount(group: id)
        session.say(renderSection(title: "Group", rows: [
            ("ID", id), ("Directory", ScimLookup.directoryLabel(directory, in: session)), ("Name", ScimResource.text(g, "displayName")),
            ("External ID", ScimResource.text(g, "externalId")), ("Members", String(count)),
        ] + ScimResource.metaRows(g)))
        guard count > 0 else { return }
        func rows(_ members: [JSONValue]) throws -> [[String]] {
            try members.map { m in
                let value = m.member("value")?.stringValue ?? ""
                return [value, try browser.userName(member: value, directory: directory) ?? "-", m.member("display")?.stringValue ?? "-"]
            }
        }
        var page = try browser.members(group: id, limit: 100)
        while page.items.isEmpty, let next = page.next { page = try browser.members(group: id, after: next, limit: 1000) }
        var cursor = page.next
        session.say("")
        try session.streamTable(headers: ["Member", "User name", "Display"], first: try rows(page.items)) {
            guard let after = cursor else { return nil }
            let next = try browser.members(group: id, after: after, limit: 1000)
            cursor = next.next
            return try rows(next.items)
        }
    }
}
