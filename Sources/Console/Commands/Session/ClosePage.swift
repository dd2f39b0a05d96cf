import SetupLinks

/// `close`: leaves the setup page, back to the admin view.
struct ClosePage: ConsoleCommand {
    /// `close`.
    static let configuration = CommandConfiguration(
        "close", section: .tenantPage, summary: "leave the setup page", example: "close")

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Leaves the page, or fails when none is open.
    func run(in session: ConsoleSession) throws {
        guard let p = session.page else { throw SetupLinkError.noPageOpen }
        session.page = nil
        if session.json { session.emit([("result", .string("closed"))]) } else {
            session.say("Left the setup page of \(p.link.tenant) / \(p.link.product).")
        }
    }
}
