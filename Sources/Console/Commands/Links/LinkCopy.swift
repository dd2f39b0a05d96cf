/// `link copy ID`: the setup link's URL alone.
struct LinkCopy: ConsoleCommand {
    /// `link copy ID`.
    static let configuration = CommandConfiguration(
        "link copy", section: .links, arguments: [id],
        summary: "print the setup link's URL alone (for copying)", example: "link copy 3f2a")
    private static let id = Argument.required("ID", completes: .record(.link))

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Prints the link's URL.
    func run(in session: ConsoleSession) throws {
        let service = session.service
        let l = try service.link(id: id)
        if session.json {
            session.emit([("url", .string(l.url(externalURL: service.externalURL)))])
        } else {
            session.say(l.url(externalURL: service.externalURL))
        }
    }
}
