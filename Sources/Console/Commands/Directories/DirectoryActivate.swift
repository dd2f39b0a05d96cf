/// `directory activate ID` (no change when it already is active).
struct DirectoryActivate: ConsoleCommand {
    /// `directory activate ID`.
    static let configuration = CommandConfiguration(
        "directory activate", section: .directories, arguments: [id],
        summary: "activate a directory (SCIM changes are accepted again)", example: "directory activate 6c1e")
    private static let id = Argument.required("ID", completes: .record(.directory))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Activates the directory.
    func run(in session: ConsoleSession) throws {
        try Self.setActive(true, id: id, in: session)
    }

    /// Activates or deactivates the directory `typed` names (on a setup page, one of that
    /// page's) and says so, or that nothing changed; `directory deactivate` shares it.
    static func setActive(_ active: Bool, id typed: String, in session: ConsoleSession) throws {
        let (d, changed) = try session.page.map { try $0.setDeactivated(!active, id: typed) }
            ?? session.service.setDirectoryDeactivated(!active, id: typed)
        let verb = active ? "activated" : "deactivated"
        if session.json { session.emit([("result", .string(changed ? verb : "unchanged"))] + d.jsonFields(in: session)) } else if changed {
            session.say("\(verb.capitalized) directory \(d.name) (\(d.id)).")
        } else {
            session.say("Directory \(d.name) (\(d.id)) is already \(active ? "active" : "inactive"); nothing changed.")
        }
    }
}
