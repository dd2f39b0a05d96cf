import JSON

/// `status`: the replica, its record counts and digest, webhook events pending, and
/// per peer its last sync and the changes it has not acknowledged.
struct ReplicaStatus: ConsoleCommand {
    /// `status`.
    static let configuration = CommandConfiguration(
        "status", section: .housekeeping,
        summary: "replica id, record counts, digest, webhook events pending, and per peer: last sync and unacknowledged changes",
        example: "status")

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Prints the status section and the peers' table.
    func run(in session: ConsoleSession) throws {
        let replica = session.replica
        let counts = try replica.counts()
        let digest = try replica.digest()
        let pending = try session.outbox.pendingCount()
        let peers = try session.peers.all()
        let peerRows = try peers.map { ($0, try session.peers.unacknowledged(by: $0)) }
        if session.json {
            session.emit([("replica", .string(replica.id.hex)), ("links", .int(Int64(counts.links))),
                          ("directories", .int(Int64(counts.directories))), ("users", .int(Int64(counts.users))),
                          ("groups", .int(Int64(counts.groups))), ("tombstones", .int(Int64(counts.tombstones))),
                          ("digest", .string(digest)), ("clock", .string(try replica.clock().encoded)),
                          ("events_pending", .int(Int64(pending))),
                          ("peers", .array(peerRows.map { p, n in
                              .object([("name", .string(p.name)), ("url", .string(p.url)),
                                       ("last_sync", p.lastSync.map { .string(Format.iso($0)) } ?? .null),
                                       ("unacknowledged", .int(Int64(n))),
                                       ("last_error", p.lastError.map(JSONValue.string) ?? .null)])
                          }))])
            return
        }
        var lines = renderSection(title: "", rows: [
            ("Replica", replica.id.hex), ("Database", replica.path), ("Links", String(counts.links)),
            ("Directories", String(counts.directories)), ("Users", String(counts.users)), ("Groups", String(counts.groups)),
            ("Tombstones", String(counts.tombstones)), ("Digest", digest),
            ("Webhook events", pending == 0 ? "none pending" : "\(pending) pending (see: directory events ID)"),
            ("Peers", peerRows.isEmpty ? "none (add one with: peer add NAME URL \(session.tokenFlag))" : String(peerRows.count)),
        ])
        if !peerRows.isEmpty {
            var t = TextTable(headers: ["Peer", "URL", "Last sync", "Unacknowledged", "Last error"], maxCellWidth: ConsoleSession.maxCellWidth)
            t.wholeLastColumn = true
            for (p, n) in peerRows {
                t.append([p.name, p.url, p.lastSync.map(Format.date) ?? "never", String(n), p.lastError ?? "-"])
            }
            lines += "\n\n" + t.render()
        }
        session.say(lines)
    }
}
