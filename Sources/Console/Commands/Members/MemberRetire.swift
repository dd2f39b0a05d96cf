import SetupLinks

/// `member retire ID [--yes]`: stops waiting for a replica that is gone for good.
struct MemberRetire: ConsoleCommand {
    /// `member retire ID [--yes]`.
    static let configuration = CommandConfiguration(
        "member retire", section: .housekeeping, arguments: [id], flags: [yes],
        summary: "retire a replica gone for good: purging stops waiting for it, and it is refused if it comes back",
        example: "member retire 8d2f --yes")
    private static let id = Argument.required("ID")
    private static let yes = Flag.yes

    private let id: String
    private let yes: Bool

    /// The id typed, and whether `--yes` was.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        yes = input[Self.yes]
    }

    /// Retires the member once confirmed.
    func run(in session: ConsoleSession) throws {
        let member = try session.replica.member(id)
        guard session.confirmed(skip: yes, "Retire replica \(member.hex)? Writes it made after what this replica holds are refused "
                                + "everywhere, and it must be rebuilt if it ever syncs again.") else {
            session.reportDeclined(Self.configuration, "Not retired.", id: member.hex)
            return
        }
        let point = try session.replica.retire(member: member)
        if session.json {
            session.emit([("result", .string("retired")), ("id", .string(member.hex)), ("kept_up_to", .int(Int64(point)))])
        } else {
            session.say("Retired replica \(member.hex) (its writes up to \(point) are kept). Purging no longer waits for it; "
                        + "sync to tell the others.")
        }
    }
}
