/// `directory deactivate ID` (no change when it already is inactive).
struct DirectoryDeactivate: ConsoleCommand {
    /// `directory deactivate ID`.
    static let configuration = CommandConfiguration(
        "directory deactivate", section: .directories, arguments: [id],
        summary: "deactivate a directory (SCIM changes are ignored until activated)", example: "directory deactivate 6c1e")
    private static let id = Argument.required("ID", completes: .record(.directory))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Deactivates the directory.
    func run(in session: ConsoleSession) throws {
        try DirectoryActivate.setActive(false, id: id, in: session)
    }
}
