/// `directory show ID`: a directory's info section, with its SCIM endpoint and token.
struct DirectoryShow: ConsoleCommand {
    /// `directory show ID`.
    static let configuration = CommandConfiguration(
        "directory show", section: .directories, arguments: [id],
        summary: "show a directory's info section: SCIM Endpoint, SCIM Token", example: "directory show 6c1e")
    private static let id = Argument.required("ID", completes: .record(.directory))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Prints the directory's section, or its JSON object.
    func run(in session: ConsoleSession) throws {
        let d = try session.directory(id)
        if session.json { session.emit(d.jsonFields(in: session)) } else { session.say(d.section(in: session)) }
    }
}
