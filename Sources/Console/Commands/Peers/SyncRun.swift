import Foundation
import HTTP
import JSON
import PeerSync
import Replica
import Synchronization

/// One sync with one peer, as `sync` runs it: a status line on a terminal, Ctrl-C
/// cancelling it, and the report in words or JSON.
enum SyncRun {
    /// A peer to sync with: its name (nil for a bare URL), URL, token and CA certificate (PEM).
    struct Target {
        /// The peer's name, or `nil` for a URL typed.
        var name: String?
        /// The peer's base URL.
        var url: String
        /// The bearer token, if any.
        var token: String?
        /// The CA certificate (PEM) to trust, if any.
        var cacert: String?
    }

    /// Pulls then pushes with `t`, showing progress through the session; returns the report
    /// and the seconds the sync took (from its first request to its last commit).
    static func sync(_ t: Target, in session: ConsoleSession) throws -> (report: SyncReport, seconds: Double) {
        let label = t.name ?? t.url
        let show = session.io.progress
        let interrupted = session.io.interrupted
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
                if fresh { show("\(label): \(waitingFor(transfer)) (\(second) s; Ctrl-C cancels)") }
            }
            return true
        }
        defer { show?("") }
        // The sync protocol works on the replica itself: the store is handed to it, not read here.
        let start = DispatchTime.now().uptimeNanoseconds
        let report = try SyncClient(http: http).sync(store: session.service.store, url: t.url, token: t.token, peerName: t.name,
                                               progress: show.map { show in
            { (p: SyncProgress) in
                show("\(label): \(p.phase == .pull ? "pulled" : "pushed") page \(p.pages), \(p.records) records…")
            }
        })
        return (report, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// `pulled 1 link, 2 users; pushed nothing; conflicts 0 (2 requests, 1.2 KiB)`: records counted
    /// by kind, the replicas' own bookkeeping (members, retired tokens) apart.
    static func summary(_ r: SyncReport) -> String {
        let pulled = byKind(r.pulledByKind), pushed = byKind(r.pushedByKind)
        let bookkeeping = max(0, r.pulled - pulled.told) + max(0, r.pushed - pushed.told)
        let push = r.pushRefused.map { "push refused (\($0))" } ?? "pushed \(pushed.text)"
        return "pulled \(pulled.text); \(push); conflicts \(r.conflicts)"
            + " (\(Format.count(r.requests, "request")), \(Format.bytes(r.bytesSent + r.bytesReceived))"
            + (bookkeeping > 0 ? "; \(Format.count(bookkeeping, "bookkeeping record"))" : "") + ")"
    }

    /// The kinds people know, in the order they are told, with their nouns.
    static let nouns: [(RecordKind, String, String)] = [
        (.link, "link", "links"), (.directory, "directory", "directories"), (.user, "user", "users"),
        (.group, "group", "groups"), (.membership, "group membership", "group memberships"),
        (.event, "event", "events"), (.apiKey, "API key", "API keys"),
    ]

    /// `1 link, 2 users`, or `nothing`, and how many records that tells.
    static func byKind(_ counts: [RecordKind: Int]) -> (text: String, told: Int) {
        var parts: [String] = []
        var told = 0
        for (kind, one, many) in nouns {
            guard let n = counts[kind], n > 0 else { continue }
            parts.append("\(n) \(n == 1 ? one : many)")
            told += n
        }
        return (parts.isEmpty ? "nothing" : parts.joined(separator: ", "), told)
    }

    /// Says each change a concurrent delete discarded in this sync (on standard output, after
    /// the summary; in JSON mode the report's `discarded` field carries them).
    static func tellDiscarded(_ r: SyncReport, in session: ConsoleSession) {
        guard !session.json else { return }
        for d in r.discarded {
            session.say("  " + session.io.style.status("discarded") + ": " + d.sentence(this: session.replica.id) + " (listed by: conflicts)")
        }
    }

    /// A sync report as JSON fields.
    static func json(_ t: Target, _ r: SyncReport, seconds: Double) -> [(String, JSONValue)] {
        [("peer", t.name.map(JSONValue.string) ?? .null), ("url", .string(t.url)),
         ("pulled", .int(Int64(r.pulled))), ("pushed", .int(Int64(r.pushed))),
         ("conflicts", .int(Int64(r.conflicts))), ("peer_conflicts", .int(Int64(r.peerConflicts))),
         ("requests", .int(Int64(r.requests))), ("bytes_sent", .int(Int64(r.bytesSent))),
         ("bytes_received", .int(Int64(r.bytesReceived))), ("push_refused", r.pushRefused.map(JSONValue.string) ?? .null),
         ("seconds", .double((seconds * 1e4).rounded() / 1e4)),
         ("peer_replica", .string(r.peerReplica.hex)),
         ("pulled_by_kind", .object(r.pulledByKind.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.description, .int(Int64($0.value))) })),
         ("pushed_by_kind", .object(r.pushedByKind.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.description, .int(Int64($0.value))) })),
         ("discarded", .array(r.discarded.map { .object($0.jsonFields) }))]
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
