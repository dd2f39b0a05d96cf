import JSON
import SetupLinks

/// `api-key revoke NAME [--yes]`: the key stops working here at once, and on every hub once synced.
struct ApiKeyRevoke: ConsoleCommand {
    /// `api-key revoke NAME [--yes]`.
    static let configuration = CommandConfiguration(
        "api-key revoke", section: .appAPI, arguments: [name], flags: [yes],
        summary: "revoke an app API key (refused here at once, on every hub after sync)", example: "api-key revoke billing-app --yes")
    private static let name = Argument.required("NAME")
    private static let yes = Flag.yes

    private let name: String
    private let yes: Bool

    /// The name, and whether `--yes` was typed.
    init(_ input: ParsedCommand) {
        name = input[Self.name]
        yes = input[Self.yes]
    }

    /// Revokes the key once confirmed.
    func run(in session: ConsoleSession) throws {
        guard try session.service.apiKeys().contains(where: { $0.name == name }) else {
            throw SetupLinkError.invalid("no API key named \"\(name)\" (see: api-key list)")
        }
        guard session.confirmed(skip: yes, "Revoke API key \(name)? Apps using it are refused from now on.") else {
            session.reportDeclined(Self.configuration, "Not revoked.", id: name)
            return
        }
        let revoked = try session.service.revokeApiKey(name: name)
        if session.json {
            session.emit([("result", .string("revoked")), ("name", .string(name)), ("count", .int(Int64(revoked.count)))])
        } else {
            session.say("Revoked API key \(name)\(revoked.count > 1 ? " (\(revoked.count) keys had that name)" : ""). Sync to revoke it on every hub.")
        }
    }
}
