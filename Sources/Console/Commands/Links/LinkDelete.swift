/// `link delete ID [--yes]`: asks first on a terminal; the link's directories stay.
struct LinkDelete: ConsoleCommand {
    /// `link delete ID [--yes]`.
    static let configuration = CommandConfiguration(
        "link delete", section: .links, arguments: [id], flags: [yes],
        summary: "delete a setup link (its directories stay)", example: "link delete 3f2a --yes")
    private static let id = Argument.required("ID", completes: .record(.link))
    private static let yes = Flag.yes

    private let id: String
    private let yes: Bool

    /// The id typed, and whether `--yes` was.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        yes = input[Self.yes]
    }

    /// Deletes the link once confirmed.
    func run(in session: ConsoleSession) throws {
        let l = try session.service.link(id: id)
        guard session.confirmed(skip: yes, "Delete the setup link for \(l.tenant) / \(l.product)? Its URL stops working; its directories stay.") else {
            session.reportDeclined(Self.configuration, "Not deleted.", id: l.id)
            return
        }
        try session.service.deleteLink(id: l.id)
        if session.json { session.emit([("result", .string("deleted")), ("id", .string(l.id))]) } else {
            session.say("Deleted the setup link for \(l.tenant) / \(l.product).")
        }
    }
}
