import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks

extension ConsoleSession {
    /// Whether `s` can name a peer: 1-64 letters, digits, `-`, `_` or `.`.
    static func validPeerName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
            && !s.contains("://")
    }

    /// `peer add NAME URL [--token T | --token-file F] [--cacert PEM]` (no change for the same peer again).
    func peerAdd(_ c: ParsedCommand) throws {
        let name = Validation.trimmed(c.arguments[0])
        guard Self.validPeerName(name) else {
            throw ConsoleError.usage("peer name \"\(name)\" must be 1-64 letters, digits, '-', '_' or '.'")
        }
        let u = try Self.peerURL(c.arguments[1])
        let token = try PeerCredentials.token(c), cacert = try PeerCredentials.caCertificate(c)
        // The same peer again is no change; a different one under a taken name is refused by the store.
        if let existing = try peers.named(name), existing.url == u, existing.token == token, existing.cacert == cacert {
            if json { emit([("result", .string("unchanged")), ("name", .string(name)), ("url", .string(u))]) } else {
                say("Peer \(name) at \(u) is already known; nothing changed.")
            }
            return
        }
        try peers.add(name: name, url: u, token: token, cacert: cacert)
        if json { emit([("result", .string("added")), ("name", .string(name)), ("url", .string(u))]) } else {
            say("Added peer \(name) at \(u). Sync with: sync \(name)")
        }
    }

    /// `peer update NAME [--url URL] [--token T | --token-file F] [--cacert PEM]`: changes
    /// what is given, keeping what the peer acknowledged.
    func peerUpdate(_ c: ParsedCommand) throws {
        let name = Validation.trimmed(c.arguments[0])
        let url = try c["--url"].map(Self.peerURL)
        let token = try PeerCredentials.token(c), cacert = try PeerCredentials.caCertificate(c)
        guard url != nil || token != nil || cacert != nil else {
            throw ConsoleError.usage("peer update needs --url, --token, --token-file or --cacert")
        }
        guard try peers.update(name: name, url: url, token: token, cacert: cacert) else {
            let hint = closestMatch(to: name, in: try peers.all().map(\.name)).map { " — did you mean \"\($0)\"?" } ?? ""
            throw ConsoleError.failed("no peer named \"\(name)\"\(hint) (see: peer list)")
        }
        let changed = [url.map { _ in "URL" }, token.map { _ in "token" }, cacert.map { _ in "CA certificate" }].compactMap { $0 }
        if json { emit([("result", .string("updated")), ("name", .string(name)), ("changed", .array(changed.map(JSONValue.string)))]) } else {
            say("Updated peer \(name): \(changed.joined(separator: ", ")).")
        }
    }

    /// A peer URL, trimmed and without trailing slashes, or a usage error.
    static func peerURL(_ raw: String) throws -> String {
        let url = Validation.trimmed(raw)
        guard Validation.isHTTPURL(url) else {
            throw ConsoleError.usage("peer URL \"\(url)\" is not an absolute http(s) URL (like http://hub.example.com:8080)")
        }
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    /// `peer list`: never the tokens, only whether one is set.
    func peerList() throws {
        let peers = try self.peers.all()
        if json {
            emit([("peers", .array(peers.map { p in
                .object([("name", .string(p.name)), ("url", .string(p.url)), ("has_token", .bool(p.token != nil)),
                         ("last_sync", p.lastSync.map { .string(Format.iso($0)) } ?? .null),
                         ("last_error", p.lastError.map(JSONValue.string) ?? .null)])
            }))])
            return
        }
        if peers.isEmpty {
            say("No peers yet. Add one with: peer add NAME URL --token T")
            return
        }
        var t = TextTable(headers: ["Name", "URL", "Token", "Last sync", "Last error"], maxCellWidth: Self.maxCellWidth)
        for p in peers { t.append([p.name, p.url, p.token == nil ? "none" : "set", p.lastSync.map(Format.date) ?? "never", p.lastError ?? "-"]) }
        say(t.render())
    }

    /// `peer remove NAME`.
    func peerRemove(_ c: ParsedCommand) throws {
        let name = Validation.trimmed(c.arguments[0])
        guard try peers.remove(name: name) else {
            let hint = closestMatch(to: name, in: try peers.all().map(\.name)).map { " — did you mean \"\($0)\"?" } ?? ""
            throw ConsoleError.failed("no peer named \"\(name)\"\(hint) (see: peer list)")
        }
        if json { emit([("result", .string("removed")), ("name", .string(name))]) } else { say("Removed peer \(name).") }
    }
}
