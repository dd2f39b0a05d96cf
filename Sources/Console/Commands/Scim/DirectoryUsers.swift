import JSON
import Scim
import SetupLinks

/// `directory users ID [--filter TEXT]`: the users a directory's identity provider
/// provisioned, as the replica holds them (offline, on any replica, streamed from the indexes).
struct DirectoryUsers: ConsoleCommand {
    /// `directory users ID [--filter TEXT]`.
    static let configuration = CommandConfiguration(
        "directory users", section: .directories, arguments: [id], flags: [filter],
        summary: "list the users a directory's identity provider provisioned (offline): ID, User name, Name, Email, Status",
        example: "directory users 6c1e --filter 'emails[type eq \"work\"].value ew \"@acme.com\"'")
    private static let id = Argument.required("ID", completes: .record(.directory))
    private static let filter = Flag.option("--filter", "TEXT",
                                            "a SCIM filter (RFC 7644), e.g. 'userName sw \"ann\"' or 'active eq false'")

    private let id: String
    private let filter: String?

    /// The id and filter typed.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        filter = input[Self.filter]
    }

    /// Lists the users: ID, User name, Name, Email, Status.
    func run(in session: ConsoleSession) throws {
        let d = try session.directory(id)
        var filter: ScimFilter?
        if let text = self.filter {
            do { filter = try ScimBrowser.userFilter(Validation.trimmed(text)) } catch {
                throw ConsoleError.usage("--filter: \(error.detail)")
            }
        }
        let browser = session.scim
        if session.json {
            var page = try browser.users(directory: d.id, filter: filter, limit: 1000)
            var all = page.items
            while let next = page.next {
                page = try browser.users(directory: d.id, filter: filter, after: next, limit: 1000)
                all += page.items
            }
            session.emit([("directory_id", .string(d.id)), ("users", .array(all))])
            return
        }
        // A small first page shows at once; a filter the index cannot answer may need to read on until a row matches.
        var page = try browser.users(directory: d.id, filter: filter, limit: 100, brief: true)
        while page.items.isEmpty, let next = page.next, !session.io.interrupted() {
            page = try browser.users(directory: d.id, filter: filter, after: next, limit: 1000, brief: true)
        }
        if page.items.isEmpty {
            session.say(filter == nil ? "No users in directory \(d.name) (\(d.id)) yet: its identity provider has provisioned none."
                        : "No users of directory \(d.name) (\(d.id)) match the filter.")
            return
        }
        if filter == nil { session.say("Directory \(d.name) (\(d.id)): \(Format.count(try browser.userCount(directory: d.id), "user"))") }
        var cursor = page.next
        try session.streamTable(headers: ["ID", "User name", "Name", "Email", "Status"], statusColumns: [4],
                                first: page.items.map(ScimResource.userRow)) {
            guard let after = cursor else { return nil }
            let next = try browser.users(directory: d.id, filter: filter, after: after, limit: 1000, brief: true)
            cursor = next.next
            return next.items.map(ScimResource.userRow)
        }
    }
}
