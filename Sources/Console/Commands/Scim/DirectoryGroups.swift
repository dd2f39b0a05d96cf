import JSON
import Scim

/// `directory groups ID`: the groups a directory's identity provider pushed, as the
/// replica holds them (offline, on any replica, streamed from the indexes).
struct DirectoryGroups: ConsoleCommand {
    /// `directory groups ID`.
    static let configuration = CommandConfiguration(
        "directory groups", section: .directories, arguments: [id],
        summary: "list the groups a directory's identity provider pushed (offline): ID, Name, Members", example: "directory groups 6c1e")
    private static let id = Argument.required("ID", completes: .record(.directory))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Lists the groups: ID, Name, Members.
    func run(in session: ConsoleSession) throws {
        let d = try session.directory(id)
        let browser = session.scim
        if session.json {
            func withCounts(_ items: [(resource: JSONValue, members: Int)]) -> [JSONValue] {
                items.map { ScimResource.adding(("member_count", .int(Int64($0.members))), to: $0.resource) }
            }
            var page = try browser.groups(directory: d.id, limit: 1000)
            var all = withCounts(page.items)
            while let next = page.next {
                page = try browser.groups(directory: d.id, after: next, limit: 1000)
                all += withCounts(page.items)
            }
            session.emit([("directory_id", .string(d.id)), ("groups", .array(all))])
            return
        }
        let first = try browser.groups(directory: d.id, limit: 50)
        if first.items.isEmpty {
            session.say("No groups in directory \(d.name) (\(d.id)) yet: its identity provider has pushed none.")
            return
        }
        session.say("Directory \(d.name) (\(d.id)): \(Format.count(try browser.groupCount(directory: d.id), "group"))")
        func rows(_ items: [(resource: JSONValue, members: Int)]) -> [[String]] {
            items.map { [ScimResource.text($0.resource, "id"), ScimResource.text($0.resource, "displayName"), String($0.members)] }
        }
        var cursor = first.next
        try session.streamTable(headers: ["ID", "Name", "Members"], first: rows(first.items)) {
            guard let after = cursor else { return nil }
            let next = try browser.groups(directory: d.id, after: after, limit: 500)
            cursor = next.next
            return rows(next.items)
        }
    }
}
