/// `directory rename ID NAME` (no change when it already has the name).
struct DirectoryRename: ConsoleCommand {
    /// `directory rename ID NAME`.
    static let configuration = CommandConfiguration(
        "directory rename", section: .directories, arguments: [id, name],
        summary: "rename a directory", example: "directory rename 6c1e \"Acme Okta\"")
    private static let id = Argument.required("ID", completes: .record(.directory))
    private static let name = Argument.required("NAME")

    private let id: String
    private let name: String

    /// The id and name typed.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        name = input[Self.name]
    }

    /// Renames the directory (on a setup page, one of that page's).
    func run(in session: ConsoleSession) throws {
        let (d, changed) = try session.page.map { try $0.renameDirectory(id: id, to: name) }
            ?? session.service.renameDirectory(id: id, to: name)
        if session.json { session.emit([("result", .string(changed ? "renamed" : "unchanged"))] + d.jsonFields(in: session)) } else {
            session.say(changed ? "Renamed directory \(d.id) to \(d.name)." : "Directory \(d.id) is already named \(d.name); nothing changed.")
        }
    }
}
