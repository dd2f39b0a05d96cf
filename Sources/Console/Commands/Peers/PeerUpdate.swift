import JSON
import SetupLinks

/// `peer update NAME [--url URL] [--token T | --token-file F] [--cacert PEM] [--follow | --no-follow]`: changes
/// what is given, keeping what the peer acknowledged.
struct PeerUpdate: ConsoleCommand {
    /// `peer update NAME [--url URL] [--token T] [--token-file FILE] [--cacert PEM]`.
    static let configuration = CommandConfiguration(
        "peer update", section: .housekeeping, arguments: [name], flags: [url, token, tokenFile, cacert, follow, noFollow],
        summary: "change a peer's URL, token, CA certificate or following (what it acknowledged is kept)", example: "peer update hub --token-file hub.token")
    private static let name = Argument.required("NAME", completes: .peer)
    private static let url = Flag.option("--url", "URL", "the peer's new URL")
    private static let token = Flag.option("--token", "T", secret: true, "the peer's new bearer token")
    private static let tokenFile = Flag.option("--token-file", "FILE", "read the new bearer token from FILE")
    private static let cacert = Flag.option("--cacert", "PEM", "trust this CA certificate for the peer from now on")
    private static let follow = Flag.toggle("--follow", "serve keeps syncing with it (a running serve starts within seconds)")
    private static let noFollow = Flag.toggle("--no-follow", "serve stops following it (it syncs only on: sync NAME)")

    private let name: String
    private let url: String?
    private let token: String?
    private let tokenFile: String?
    private let cacert: String?
    private let follow: Bool
    private let noFollow: Bool

    /// The name and what to change, as typed.
    init(_ input: ParsedCommand) {
        name = input[Self.name]
        url = input[Self.url]
        token = input[Self.token]
        tokenFile = input[Self.tokenFile]
        cacert = input[Self.cacert]
        follow = input[Self.follow]
        noFollow = input[Self.noFollow]
    }

    /// Changes the peer and says what changed.
    func run(in session: ConsoleSession) throws {
        let name = Validation.trimmed(self.name)
        let url = try self.url.map(PeerCredentials.peerURL)
        let token = try PeerCredentials.token(self.token, file: tokenFile), cacert = try PeerCredentials.caCertificate(self.cacert)
        guard !(follow && noFollow) else { throw ConsoleError.usage("give --follow or --no-follow, not both") }
        let following: Bool? = follow ? true : noFollow ? false : nil
        guard url != nil || token != nil || cacert != nil || following != nil else {
            throw ConsoleError.usage("peer update needs --url, --token, --token-file, --cacert, --follow or --no-follow")
        }
        guard try session.peers.update(name: name, url: url, token: token, cacert: cacert, follow: following) else {
            throw try PeerCredentials.noPeer(name, in: session)
        }
        let changed = [url.map { _ in "URL" }, token.map { _ in "token" }, cacert.map { _ in "CA certificate" },
                       following.map { $0 ? "followed" : "not followed" }].compactMap { $0 }
        if session.json {
            session.emit([("result", .string("updated")), ("name", .string(name)), ("changed", .array(changed.map(JSONValue.string)))])
        } else {
            session.say("Updated peer \(name): \(changed.joined(separator: ", ")).")
        }
    }
}
