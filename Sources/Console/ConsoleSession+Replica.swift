import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks
import Storage

extension ConsoleSession {
    func status() throws {
        let counts = try store.counts()
        let digest = try store.digest()
        let peers = try store.peers()
        var peerRows: [(Peer, Int)] = []
        for p in peers { peerRows.append((p, try store.unacknowledged(by: p.acked))) }
        if json {
            emit([("replica", .string(store.replicaID.hex)), ("links", .int(Int64(counts.links))),
                  ("directories", .int(Int64(counts.directories))), ("tombstones", .int(Int64(counts.tombstones))),
                  ("digest", .string(digest)), ("clock", .string(try store.clock().encoded)),
                  ("peers", .array(peerRows.map { p, n in
                      .object([("name", .string(p.name)), ("url", .string(p.url)),
                               ("last_sync", p.lastSync.map { .string(Self.iso($0)) } ?? .null),
                               ("unacknowledged", .int(Int64(n))),
                               ("last_error", p.lastError.map(JSONValue.string) ?? .null)])
                  }))])
            return
        }
        var lines = renderSection(title: "", rows: [
            ("Replica", store.replicaID.hex), ("Database", store.path), ("Links", String(counts.links)),
            ("Directories", String(counts.directories)), ("Tombstones", String(counts.tombstones)), ("Digest", digest),
        ])
        if peerRows.isEmpty {
            lines += "\nPeers        none (add one with: peer add NAME URL --token T)"
        } else {
            var t = TextTable(headers: ["Peer", "URL", "Last sync", "Unacknowledged", "Last error"])
            for (p, n) in peerRows {
                t.append([p.name, p.url, p.lastSync.map(Self.display) ?? "never", String(n), p.lastError ?? "-"])
            }
            lines += "\n\n" + t.render()
        }
        say(lines)
    }

    func conflicts() throws {
        let records = try store.recordsWithConflicts()
        var rows: [(String, String, String, String, [String])] = []
        for r in records {
            let kind = r.kind.description
            for c in r.conflicts { rows.append((kind, r.id, c.field, c.winner.value, c.losers.map(\.value))) }
        }
        if json {
            emit([("conflicts", .array(rows.map { kind, id, field, winner, losers in
                .object([("kind", .string(kind)), ("id", .string(id)), ("field", .string(field)),
                         ("value", .string(winner)), ("lost", .array(losers.map(JSONValue.string)))])
            }))])
            return
        }
        if rows.isEmpty {
            say("No conflicts: no concurrent writes are waiting to be resolved.")
            return
        }
        var t = TextTable(headers: ["Kind", "ID", "Field", "Value (kept)", "Lost"])
        for (kind, id, field, winner, losers) in rows { t.append([kind, id, field, winner, losers.joined(separator: ", ")]) }
        say(t.render())
        say("The kept value won on every replica; writing the field again clears the conflict.")
    }

    func config(_ c: ParsedCommand) throws {
        let keys = ["default-expiry-days"]
        guard let key = c.arguments.first else {
            let days = try service.replicaExpiryDays()
            if json { emit([("default-expiry-days", .int(Int64(days))), ("external-url", .string(service.externalURL))]) } else {
                say(renderSection(title: "", rows: [("default-expiry-days", String(days)), ("external-url", service.externalURL + " (set with --external-url or SETUPLINK_EXTERNAL_URL)")]))
            }
            return
        }
        guard keys.contains(key) else {
            let hint = closestMatch(to: key, in: keys).map { " — did you mean \($0)?" } ?? " (settings: \(keys.joined(separator: ", ")))"
            throw ConsoleError.usage("unknown setting \"\(key)\"\(hint)")
        }
        if c.arguments.count == 2 {
            let days = try Validation.expiryDays(c.arguments[1])
            try service.setReplicaExpiryDays(days)
        }
        let days = try service.replicaExpiryDays()
        if json { emit([(key, .int(Int64(days)))]) } else { say("\(key) = \(days)") }
    }

    static func validPeerName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
            && !s.contains("://")
    }

    func peerAdd(_ c: ParsedCommand) throws {
        let name = c.arguments[0], url = c.arguments[1]
        guard Self.validPeerName(name) else {
            throw ConsoleError.usage("peer name \"\(name)\" must be 1-64 letters, digits, '-', '_' or '.'")
        }
        let u = try Self.peerURL(url)
        try store.addPeer(name: name, url: u, token: try PeerCredentials.token(c), cacert: try PeerCredentials.caCertificate(c))
        if json { emit([("result", .string("added")), ("name", .string(name)), ("url", .string(u))]) } else {
            say("Added peer \(name) at \(u). Sync with: sync \(name)")
        }
    }

    func peerUpdate(_ c: ParsedCommand) throws {
        let name = c.arguments[0]
        let url = try c["--url"].map(Self.peerURL)
        let token = try PeerCredentials.token(c), cacert = try PeerCredentials.caCertificate(c)
        guard url != nil || token != nil || cacert != nil else {
            throw ConsoleError.usage("peer update needs --url, --token, --token-file or --cacert")
        }
        guard try store.updatePeer(name: name, url: url, token: token, cacert: cacert) else {
            throw ConsoleError.failed("no peer named \"\(name)\" (see: peer list)")
        }
        let changed = [url.map { _ in "URL" }, token.map { _ in "token" }, cacert.map { _ in "CA certificate" }].compactMap { $0 }
        if json { emit([("result", .string("updated")), ("name", .string(name)), ("changed", .array(changed.map(JSONValue.string)))]) } else {
            say("Updated peer \(name): \(changed.joined(separator: ", ")).")
        }
    }

    /// A peer URL without trailing slashes, or a usage error.
    static func peerURL(_ url: String) throws -> String {
        guard Validation.isHTTPURL(url) else {
            throw ConsoleError.usage("peer URL \"\(url)\" is not an absolute http(s) URL (like http://hub.example.com:8080)")
        }
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    func peerList() throws {
        let peers = try store.peers()
        if json {
            emit([("peers", .array(peers.map { p in
                .object([("name", .string(p.name)), ("url", .string(p.url)), ("has_token", .bool(p.token != nil)),
                         ("last_sync", p.lastSync.map { .string(Self.iso($0)) } ?? .null),
                         ("last_error", p.lastError.map(JSONValue.string) ?? .null)])
            }))])
            return
        }
        if peers.isEmpty {
            say("No peers yet. Add one with: peer add NAME URL --token T")
            return
        }
        var t = TextTable(headers: ["Name", "URL", "Token", "Last sync", "Last error"])
        for p in peers { t.append([p.name, p.url, p.token == nil ? "none" : "set", p.lastSync.map(Self.display) ?? "never", p.lastError ?? "-"]) }
        say(t.render())
    }

    func peerRemove(_ c: ParsedCommand) throws {
        guard try store.removePeer(name: c.arguments[0]) else {
            throw ConsoleError.failed("no peer named \"\(c.arguments[0])\" (see: peer list)")
        }
        if json { emit([("result", .string("removed")), ("name", .string(c.arguments[0]))]) } else { say("Removed peer \(c.arguments[0]).") }
    }
}
