/// `link show ID`: a setup link's info section.
struct LinkShow: ConsoleCommand {
    /// `link show ID`.
    static let configuration = CommandConfiguration(
        "link show", section: .links, arguments: [id],
        summary: "show a setup link's info section", example: "link show 3f2a")
    private static let id = Argument.required("ID", completes: .record(.link))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Prints the link's section, or its JSON object.
    func run(in session: ConsoleSession) throws {
        let l = try session.service.link(id: id)
        if session.json { session.emit(l.jsonFields(in: session)) } else { session.say(l.section(in: session)) }
    }
}
