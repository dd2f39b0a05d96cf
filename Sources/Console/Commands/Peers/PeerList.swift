import JSON

/// `peer list`: never the tokens, only whether one is set.
struct PeerList: ConsoleCommand {
    /// `peer list`.
    static let configuration = CommandConfiguration(
        "peer list", section: .housekeeping, summary: "list known peers", example: "peer list")

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Lists the peers: name, URL, whether a token is set, last sync, last error.
    func run(in session: ConsoleSession) throws {
        let peers = try session.peers.all()
        if session.json {
            session.emit([("peers", .array(peers.map { p in
                .object([("name", .string(p.name)), ("url", .string(p.url)), ("has_token", .bool(p.token != nil)),
                         ("last_sync", p.lastSync.map { .string(Format.iso($0)) } ?? .null),
                         ("last_error", p.lastError.map(JSONValue.string) ?? .null)])
            }))])
            return
        }
        if peers.isEmpty {
            session.say("No peers yet. Add one with: peer add NAME URL \(session.tokenFlag)")
            return
        }
        var t = TextTable(headers: ["Name", "URL", "Token", "Last sync", "Last error"], maxCellWidth: ConsoleSession.maxCellWidth)
        t.wholeLastColumn = true
        for p in peers { t.append([p.name, p.url, p.token == nil ? "none" : "set", p.lastSync.map(Format.date) ?? "never", p.lastError ?? "-"]) }
        session.say(t.render())
    }
}
