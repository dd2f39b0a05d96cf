import JSON
import Foundation
import HTTP
import PeerSync
import Replica
import Storage

extension ConsoleSession {
    /// `sync [NAME|URL] [--token T]`: pull then push; with no argument, every known peer in turn.
    func sync(_ c: ParsedCommand) throws {
        // A token or CA given here wins; then the peer's stored ones; SETUPLINK_TOKEN last.
        let token = try PeerCredentials.token(c), cacert = try PeerCredentials.caCertificate(c)
        var targets: [(name: String?, url: String, token: String?, cacert: String?)] = []
        if let target = c.arguments.first {
            if let peer = try store.peer(name: target) {
                targets.append((peer.name, peer.url, token ?? peer.token ?? PeerCredentials.environmentToken, cacert ?? peer.cacert))
            } else if target.contains("://") {
                targets.append((nil, target, token ?? PeerCredentials.environmentToken, cacert))
            } else {
                let names = try store.peers().map(\.name)
                let hint = closestMatch(to: target, in: names).map { " — did you mean \"\($0)\"?" } ?? ""
                throw ConsoleError.failed("no peer named \"\(target)\"\(hint) (add it with: peer add \(target) URL --token T, or give a URL)")
            }
        } else {
            let peers = try store.peers()
            guard !peers.isEmpty else { throw ConsoleError.failed("no peers to sync with (add one with: peer add NAME URL --token T)") }
            if token != nil || cacert != nil { throw ConsoleError.usage("--token, --token-file and --cacert need a peer name or URL") }
            targets = peers.map { ($0.name, $0.url, $0.token ?? PeerCredentials.environmentToken, $0.cacert) }
        }
        var failures: [String] = []
        for t in targets {
            let progress = io.progress
            let label = t.name ?? t.url
            do {
                let client = SyncClient(http: HTTPClient(caCertificatePEM: t.cacert))
                let report = try client.sync(store: store, url: t.url, token: t.token, peerName: t.name, progress: progress.map { show in
                    { (p: SyncProgress) in
                        show("\(label): \(p.phase == .pull ? "pulling" : "pushing") page \(p.pages), \(p.records) records…")
                    }
                })
                progress?("")
                if json {
                    emit([("peer", t.name.map(JSONValue.string) ?? .null), ("url", .string(t.url)),
                          ("pulled", .int(Int64(report.pulled))), ("pushed", .int(Int64(report.pushed))),
                          ("conflicts", .int(Int64(report.conflicts))), ("peer_conflicts", .int(Int64(report.peerConflicts))),
                          ("requests", .int(Int64(report.requests))), ("bytes_sent", .int(Int64(report.bytesSent))),
                          ("bytes_received", .int(Int64(report.bytesReceived))), ("peer_replica", .string(report.peerReplica.hex))])
                } else {
                    let who = t.name.map { "\"\($0)\" (\(t.url))" } ?? t.url
                    let kb = Double(report.bytesSent + report.bytesReceived) / 1024
                    say("Synced with \(who): pulled \(report.pulled), pushed \(report.pushed), conflicts \(report.conflicts)"
                        + " (\(report.requests) requests, \(String(format: "%.1f", kb)) KB)")
                }
            } catch {
                progress?("")
                failures.append(error.description)
            }
        }
        if !failures.isEmpty { throw ConsoleError.failed(failures.joined(separator: "; ")) }
    }
}
