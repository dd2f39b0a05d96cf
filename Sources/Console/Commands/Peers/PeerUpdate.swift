import JSON
import SetupLinks

/// `peer update NAME [--url URL] [--token T | --token-file F] [--cacert PEM]`: changes
/// what is given, keeping what the peer acknowledged.
struct PeerUpdate: ConsoleCommand {
    /// `peer update NAME [--url URL] [--token T] [--token-file FILE] [--cacert PEM]`.
    static let configuration = CommandConfiguration(
        "peer update", section: .housekeeping, arguments: [name], flags: [url, token, tokenFile, cacert],
        summary: "change a peer's URL, token or CA certificate (what it acknowledged is kept)", example: "peer update hub --token-file hub.token")
    private static let name = Argument.required("NAME", completes: .peer)
    private static let url = Flag.option("--url", "URL", "the peer's new URL")
    private static let token = Flag.option("--token", "T", secret: true, "the peer's new bearer token")
    private static let tokenFile = Flag.option("--token-file", "FILE", "read the new bearer token from FILE")
    private static let cacert = Flag.option("--cacert", "PEM", "trust this CA certificate for the peer from now on")

    private let name: String
    private let url: String?
    private let token: String?
    private let tokenFile: String?
    private let cacert: String?

    /// The name and what to change, as typed.
    init(_ input: ParsedCommand) {
        name = input[Self.name]
        url = input[Self.url]
        token = input[Self.token]
        tokenFile = input[Self.tokenFile]
        cacert = input[Self.cacert]
    }

    /// Changes the peer and says what changed.
    func run(in session: ConsoleSession) throws {
        let name = Validation.trimmed(self.name)
        let url = try self.url.map(PeerCredentials.peerURL)
        let token = try PeerCredentials.token(self.token, file: tokenFile), cacert = try PeerCredentials.caCertificate(self.cacert)
        guard url != nil || token != nil || cacert != nil else {
            throw ConsoleError.usage("peer update needs --url, --token, --token-file or --cacert")
        }
        guard try session.peers.update(name: name, url: url, token: token, cacert: cacert) else {
            throw try PeerCredentials.noPeer(name, in: session)
        }
        let changed = [url.map { _ in "URL" }, token.map { _ in "token" }, cacert.map { _ in "CA certificate" }].compactMap { $0 }
        if session.json {
            session.emit([("result", .string("updated")), ("name", .string(name)), ("changed", .array(changed.map(JSONValue.string)))])
        } else {
            session.say("Updated peer \(name): \(changed.joined(separator: ", ")).")
        }
    }
}
