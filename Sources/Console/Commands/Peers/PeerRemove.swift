import SetupLinks

/// `peer remove NAME`: forgets a peer.
struct PeerRemove: ConsoleCommand {
    /// `peer remove NAME`.
    static let configuration = CommandConfiguration(
        "peer remove", section: .housekeeping, arguments: [name], summary: "forget a peer", example: "peer remove hub")
    private static let name = Argument.required("NAME", completes: .peer)

    private let name: String

    /// The name typed.
    init(_ input: ParsedCommand) { name = input[Self.name] }

    /// Forgets the peer, or names the closest one when there is none by that name.
    func run(in session: ConsoleSession) throws {
        let name = Validation.trimmed(self.name)
        guard try session.peers.remove(name: name) else { throw try PeerCredentials.noPeer(name, in: session) }
        if session.json { session.emit([("result", .string("removed")), ("name", .string(name))]) } else { session.say("Removed peer \(name).") }
    }
}
