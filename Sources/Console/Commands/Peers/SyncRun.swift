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

    /// Pulls then pushes with `t`, showing progress through the session.
    static func sync(_ t: Target, in session: ConsoleSession) throws -> SyncReport {
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
        return try SyncClient(http: http).sync(store: session.service.store, url: t.url, token: t.token, peerName: t.name,
                                               progress: show.map { show in
            { (p: SyncProgress) in
                show("\(label): \(p.phase == .pull ? "pulled" : "pushed") page \(p.pages), \(p.records) records…")
            }
        })
    }

    /// `pulled 3, pushed 0, conflicts 0 (2 requests, 1.2 KiB)`.
    static func summary(_ r: SyncReport) -> String {
        "pulled \(r.pulled), pushed \(r.pushed), conflicts \(r.conflicts) (\(r.requests) requests, \(Format.bytes(r.bytesSent + r.bytesReceived)))"
    }

    /// A sync report as JSON fields.
    static func json(_ t: Target, _ r: SyncReport) -> [(String, JSONValue)] {
        [("peer", t.name.map(JSONValue.string) ?? .null), ("url", .string(t.url)),
         ("pulled", .int(Int64(r.pulled))), ("pushed", .int(Int64(r.pushed))),
         ("conflicts", .int(Int64(r.conflicts))), ("peer_conflicts", .int(Int64(r.peerConflicts))),
         ("requests", .int(Int64(r.requests))), ("bytes_sent", .int(Int64(r.bytesSent))),
         ("bytes_received", .int(Int64(r.bytesReceived))), ("peer_replica", .string(r.peerReplica.hex))]
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
