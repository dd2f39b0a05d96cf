/// `directory delete ID [--yes]`: asks first on a terminal.
struct DirectoryDelete: ConsoleCommand {
    /// `directory delete ID [--yes]`.
    static let configuration = CommandConfiguration(
        "directory delete", section: .directories, arguments: [id], flags: [yes],
        summary: "delete a directory", example: "directory delete 6c1e --yes")
    private static let id = Argument.required("ID", completes: .record(.directory))
    private static let yes = Flag.yes

    private let id: String
    private let yes: Bool

    /// The id typed, and whether `--yes` was.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        yes = input[Self.yes]
    }

    /// Deletes the directory (on a setup page, one of that page's) once confirmed.
    func run(in session: ConsoleSession) throws {
        let d = try session.directory(id)
        // A Google directory has no SCIM token to stop working.
        let consequence = d.type.usesSCIM
            ? "Its SCIM endpoint and token stop working."
            : "Users and groups synced from Google stop updating."
        guard session.confirmed(skip: yes, "Delete directory \(d.name) (\(d.id)) of \(d.tenant) / \(d.product)? \(consequence)") else {
            session.reportDeclined(Self.configuration, "Not deleted.", id: d.id)
            return
        }
        if let page = session.page { try page.deleteDirectory(id: d.id) } else { try session.service.deleteDirectory(id: d.id) }
        if session.json { session.emit([("result", .string("deleted")), ("id", .string(d.id))]) } else {
            session.say("Deleted directory \(d.name) (\(d.id)).")
        }
    }
}
