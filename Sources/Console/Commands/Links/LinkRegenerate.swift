/// `link regenerate ID [--yes]`: a new token; asks first on a terminal.
struct LinkRegenerate: ConsoleCommand {
    /// `link regenerate ID [--yes]`.
    static let configuration = CommandConfiguration(
        "link regenerate", section: .links, arguments: [id], flags: [yes],
        summary: "issue a new token; the old one stops working at once", example: "link regenerate 3f2a --yes")
    private static let id = Argument.required("ID", completes: .record(.link))
    private static let yes = Flag.yes

    private let id: String
    private let yes: Bool

    /// The id typed, and whether `--yes` was.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        yes = input[Self.yes]
    }

    /// Issues a new token once confirmed.
    func run(in session: ConsoleSession) throws {
        let l = try session.service.link(id: id)
        guard session.confirmed(skip: yes, "Regenerate the setup link for \(l.tenant) / \(l.product)? The current URL stops working at once.") else {
            session.reportDeclined(Self.configuration, "Not regenerated.", id: l.id)
            return
        }
        let n = try session.service.regenerateLink(id: l.id)
        if session.json { session.emit([("result", .string("regenerated"))] + n.jsonFields(in: session)) } else {
            session.say("Regenerated: the old token no longer works.")
            session.say(n.section(in: session))
        }
    }
}
