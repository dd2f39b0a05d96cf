import SetupLinks

/// `peer add NAME URL [--token T | --token-file F] [--cacert PEM] [--follow]` (no change for the same peer again).
struct PeerAdd: ConsoleCommand {
    /// `peer add NAME URL [--token T] [--token-file FILE] [--cacert PEM]`.
    static let configuration = CommandConfiguration(
        "peer add", section: .housekeeping, arguments: [name, url], flags: [token, tokenFile, cacert, follow],
        summary: "remember a peer to sync with", example: "peer add hub https://hub.example.com:8080 --token-file hub.token --cacert ca.pem")
    private static let name = Argument.required("NAME")
    private static let url = Argument.required("URL")
    private static let token = Flag.option("--token", "T", secret: true, "the peer's bearer token")
    private static let tokenFile = Flag.option("--token-file", "FILE", "read the bearer token from FILE (keeps it off command lines)")
    private static let cacert = Flag.option("--cacert", "PEM", "trust this CA certificate for an https:// peer (a private CA or self-signed)")
    private static let follow = Flag.toggle("--follow", "keep syncing with it while serve runs (pull and push, within about a second)")

    private let name: String
    private let url: String
    private let token: String?
    private let tokenFile: String?
    private let cacert: String?
    private let follow: Bool

    /// The name, URL and credentials typed.
    init(_ input: ParsedCommand) {
        name = input[Self.name]
        url = input[Self.url]
        token = input[Self.token]
        tokenFile = input[Self.tokenFile]
        cacert = input[Self.cacert]
        follow = input[Self.follow]
    }

    /// Remembers the peer.
    func run(in session: ConsoleSession) throws {
        let name = Validation.trimmed(self.name)
        guard PeerCredentials.validPeerName(name) else {
            throw ConsoleError.usage("peer name \"\(name)\" must be 1-64 letters, digits, '-', '_' or '.'")
        }
        let u = try PeerCredentials.peerURL(url)
        let token = try PeerCredentials.token(self.token, file: tokenFile), cacert = try PeerCredentials.caCertificate(self.cacert)
        // The same peer again is no change; a different one under a taken name is refused by the store.
        if let existing = try session.peers.named(name), existing.url == u, existing.token == token, existing.cacert == cacert, existing.follow == follow {
            if session.json { session.emit([("result", .string("unchanged")), ("name", .string(name)), ("url", .string(u))]) } else {
                session.say("Peer \(name) at \(u) is already known; nothing changed.")
            }
            return
        }
        try session.peers.add(name: name, url: u, token: token, cacert: cacert, follow: follow)
        if session.json { session.emit([("result", .string("added")), ("name", .string(name)), ("url", .string(u)), ("follow", .bool(follow))]) } else {
            session.say("Added peer \(name) at \(u)." + (follow ? " serve follows it (syncs continuously)." : " Sync with: sync \(name)"))
        }
    }
}
