import JSON
import Foundation
import HTTP
import PeerSync
import Replica
import SetupLinks
import Synchronization

extension ConsoleSession {
    /// A peer to sync with: its name (nil for a bare URL), URL, token and CA certificate (PEM).
    typealias SyncTarget = (name: String?, url: String, token: String?, cacert: String?)

    /// `sync [NAME|URL] [--token T | --token-file F] [--cacert PEM]`: pull then push; with no argument, every known peer in turn,
    /// one line each. On a terminal a status line says which peer and what it waits for; Ctrl-C
    /// cancels (what was already received is kept).
    func sync(_ c: ParsedCommand) throws {
        guard let target = c.arguments.first.map(Validation.trimmed) else {
            let peers = try self.peers.all()
            guard !peers.isEmpty else { throw ConsoleError.failed("no peers to sync with (add one with: peer add NAME URL --token T)") }
            if c["--token"] != nil || c["--token-file"] != nil || c["--cacert"] != nil {
                throw ConsoleError.usage("--token, --token-file and --cacert need a peer name or URL")
            }
            try syncAll(peers.map { ($0.name, $0.url, $0.token ?? PeerCredentials.environmentToken, $0.cacert) })
            return
        }
        let t: SyncTarget
        if let peer = try peers.named(target) {
            // A token or CA given here wins; then the peer's stored ones; SETUPLINK_TOKEN last.
            t = (peer.name, peer.url, try PeerCredentials.token(c) ?? peer.token ?? PeerCredentials.environmentToken,
                 try PeerCredentials.caCertificate(c) ?? peer.cacert)
        } else if target.contains("://") {
            t = (nil, target, try PeerCredentials.token(c) ?? PeerCredentials.environmentToken, try PeerCredentials.caCertificate(c))
        } else {
            throw ConsoleError.failed(try unknownPeerMessage(target))
        }
        let report = try syncOne(t)
        if json {
            emit(reportJSON(t, report))
        } else {
            let who = t.name.map { "\"\($0)\" (\(t.url))" } ?? t.url
            say("Synced with \(who): " + summary(report))
        }
    }

    /// Why `target` is neither a peer nor a URL, with the fix that fits what was typed.
    func unknownPeerMessage(_ target: String) throws -> String {
        let names = try peers.all().map(\.name)
        if let near = closestMatch(to: target, in: names) {
            return "no peer named \"\(target)\" — did you mean \"\(near)\"? (see: peer list)"
        }
        // `host:port` or `host/path` is an address typed without its scheme, not a peer name.
        if target.contains(":") || target.contains("/") || target.split(separator: ".").count == 4 {
            return "\"\(target)\" is not a peer name; to sync with an address give a URL: sync http://\(target)"
        }
        if Self.validPeerName(target) {
            return "no peer named \"\(target)\" (add it with: peer add \(target) URL --token T, or give a URL)"
        }
        return "no peer named \"\(target)\" (see: peer list, or give a URL like http://hub.example.com:8080)"
    }

    /// `pulled 3, pushed 0, conflicts 0 (2 requests, 1.2 KiB)`.
    func summary(_ r: SyncReport) -> String {
        "pulled \(r.pulled), pushed \(r.pushed), conflicts \(r.conflicts) (\(r.requests) requests, \(Format.bytes(r.bytesSent + r.bytesReceived)))"
    }

    /// A sync report as JSON fields.
    func reportJSON(_ t: SyncTarget, _ r: SyncReport) -> [(String, JSONValue)] {
        [("peer", t.name.map(JSONValue.string) ?? .null), ("url", .string(t.url)),
         ("pulled", .int(Int64(r.pulled))), ("pushed", .int(Int64(r.pushed))),
         ("conflicts", .int(Int64(r.conflicts))), ("peer_conflicts", .int(Int64(r.peerConflicts))),
         ("requests", .int(Int64(r.requests))), ("bytes_sent", .int(Int64(r.bytesSent))),
         ("bytes_received", .int(Int64(r.bytesReceived))), ("peer_replica", .string(r.peerReplica.hex))]
    }

    /// Every known peer in turn: one line (or one JSON entry) per peer; fails if any failed.
    private func syncAll(_ targets: [SyncTarget]) throws {
        var entries: [JSONValue] = []
        var failed: [String] = []
        let width = targets.map { ($0.name ?? $0.url).count }.max() ?? 0
        for t in targets {
            let label = t.name ?? t.url
            let pad = String(repeating: " ", count: width - label.count + 2)
            do {
                let report = try syncOne(t)
                entries.append(.object(reportJSON(t, report)))
                if !json { say(label + pad + summary(report)) }
            } catch {
                failed.append(label)
                let message = "\(error)"
                entries.append(.object([("peer", t.name.map(JSONValue.string) ?? .null), ("url", .string(t.url)), ("error", .string(message))]))
                if !json { say(label + pad + io.style.status("failed") + ": " + message) }
            }
            if io.interrupted() { break }
        }
        if json { emit([("peers", .array(entries)), ("failed", .int(Int64(failed.count)))]) }
        if !failed.isEmpty {
            throw ConsoleError.failed("\(failed.count) of \(targets.count) peers failed: \(failed.joined(separator: ", "))")
        }
    }

    /// One sync, with a status line on a terminal and Ctrl-C cancelling it.
    private func syncOne(_ t: SyncTarget) throws -> SyncReport {
        let label = t.name ?? t.url
        let show = io.progress
        let interrupted = io.interrupted
        var http = HTTPClient(caCertificatePEM: t.cacert)
        let lastShown = Mutex<Int>(-1)
        http.monitor = { transfer in
            if interrupted() { return false }
            // Say what it waits for once a second, after the first second (a quick request shows nothing).
            if let show, transfer.seconds >= 1 {
                let second = Int(transfer.seconds)
                let fresh = lastShown.withLock { last in
                    defer { last = second }
                    return last != second
                }
                if fresh { show("\(label): \(Self.waitingFor(transfer)) (\(second) s; Ctrl-C cancels)") }
            }
            return true
        }
        defer { show?("") }
        return try SyncClient(http: http).sync(store: service.store, url: t.url, token: t.token, peerName: t.name,
                                               progress: show.map { show in
            { (p: SyncProgress) in
                show("\(label): \(p.phase == .pull ? "pulled" : "pushed") page \(p.pages), \(p.records) records…")
            }
        })
    }

    /// What a request in progress waits for, in words.
    static func waitingFor(_ t: HTTPTransfer) -> String {
        let path = URLComponents(string: t.url)?.path ?? t.url
        if t.bytesReceived > 0 { return "receiving \(Format.bytes(t.bytesReceived))" }
        switch path {
        case let p where p.hasSuffix("/sync/v1/summary"): return "waiting for the peer's summary"
        case let p where p.hasSuffix("/sync/v1/pull"): return "waiting for the peer's changes"
        case let p where p.hasSuffix("/sync/v1/push"): return "waiting for the peer to take \(Format.bytes(t.bytesSent)) of changes"
        default: return "waiting for \(t.method) \(path)"
        }
    }
}
