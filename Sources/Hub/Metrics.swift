import Crypto
import Events
import Foundation
import HTTP
import Storage
import Synchronization

/// The hub's metrics (Hub.docc/Metrics.md): counted as requests are answered and SCIM
/// changes accepted, and read from the replica when scraped.
public final class HubMetrics: Sendable {
    /// The upper bounds of the request duration histogram, in seconds.
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    struct Histogram {
        var counts = [Int](repeating: 0, count: HubMetrics.buckets.count)
        var count = 0
        var sum = 0.0
    }

    struct State {
        var requests: [String: [Int: Int]] = [:]
        var durations: [String: Histogram] = [:]
        var scimChanges: [String: Int] = [:]
    }

    private let state = Mutex(State())
    let started = Date()

    public init() {}

    /// The route group of a path: `sync`, `scim`, `setup`, `api`, `health`, `metrics` or `other`.
    static func group(_ path: String) -> String {
        if path == "/healthz" { return "health" }
        if path.hasPrefix("/sync/") { return "sync" }
        if path.hasPrefix("/api/scim/") || path == "/api/scim" { return "scim" }
        if path == "/setup" || path.hasPrefix("/setup/") { return "setup" }
        if path == "/api/v1" || path.hasPrefix("/api/v1/") { return "api" }
        if path == "/metrics" { return "metrics" }
        return "other"
    }

    /// Counts one answered request (from the server's log entries).
    public func observe(_ entry: HTTPLogEntry) {
        guard case let .request(_, path, status, _, milliseconds) = entry.event else { return }
        let group = Self.group(path)
        let seconds = max(0, milliseconds) / 1000
        state.withLock { s in
            s.requests[group, default: [:]][status, default: 0] += 1
            var h = s.durations[group] ?? Histogram()
            for (i, b) in Self.buckets.enumerated() where seconds <= b { h.counts[i] += 1 }
            h.count += 1
            h.sum += seconds
            s.durations[group] = h
        }
    }

    /// Wraps a SCIM event sink so the events of accepted changes are counted by kind.
    public func counting(_ sink: @escaping DirectoryEventSink) -> DirectoryEventSink {
        { [self] tx, events in
            try sink(tx, events)
            state.withLock { s in for e in events { s.scimChanges[e.kind.rawValue, default: 0] += 1 } }
        }
    }

    /// The Prometheus text exposition (version 0.0.4) of every metric.
    public func render(store: ReplicaStore) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func help(_ name: String, _ type: String, _ text: String) {
            out += "# HELP \(name) \(text)\n# TYPE \(name) \(type)\n"
        }
        func number(_ d: Double) -> String {
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        }

        help("setuplink_http_requests_total", "counter", "HTTP requests answered, by route group and status.")
        for group in s.requests.keys.sorted() {
            for status in s.requests[group]!.keys.sorted() {
                out += "setuplink_http_requests_total{group=\"\(group)\",status=\"\(status)\"} \(s.requests[group]![status]!)\n"
            }
        }
        help("setuplink_http_request_duration_seconds", "histogram", "Time to answer an HTTP request, by route group.")
        for group in s.durations.keys.sorted() {
            let h = s.durations[group]!
            for (i, b) in Self.buckets.enumerated() {
                out += "setuplink_http_request_duration_seconds_bucket{group=\"\(group)\",le=\"\(b)\"} \(h.counts[i])\n"
            }
            out += "setuplink_http_request_duration_seconds_bucket{group=\"\(group)\",le=\"+Inf\"} \(h.count)\n"
            out += "setuplink_http_request_duration_seconds_sum{group=\"\(group)\"} \(h.sum)\n"
            out += "setuplink_http_request_duration_seconds_count{group=\"\(group)\"} \(h.count)\n"
        }
        help("setuplink_scim_changes_total", "counter", "Events of the SCIM changes this hub accepted, by kind.")
        for kind in DirectoryEvent.Kind.allCases.map(\.rawValue) {
            out += "setuplink_scim_changes_total{kind=\"\(kind)\"} \(s.scimChanges[kind] ?? 0)\n"
        }
        if let c = try? store.outbox.counts() {
            help("setuplink_webhook_events", "gauge", "Webhook events in this hub's outbox, by outcome (pending is the backlog).")
            for (outcome, n) in [("delivered", c.delivered), ("failed", c.failed), ("dropped", c.dropped), ("pending", c.pending)] {
                out += "setuplink_webhook_events{outcome=\"\(outcome)\"} \(n)\n"
            }
            help("setuplink_webhook_backlog", "gauge", "Webhook events waiting to be delivered.")
            out += "setuplink_webhook_backlog \(c.pending)\n"
        }
        if let peers = try? store.peers.all() {
            help("setuplink_peer_lag_changes", "gauge", "Changes of this replica a peer has not acknowledged, by our count.")
            for p in peers {
                out += "setuplink_peer_lag_changes{peer=\"\(Self.escape(p.name))\"} \((try? store.unacknowledged(by: p.acked)) ?? 0)\n"
            }
            help("setuplink_peer_last_success_timestamp_seconds", "gauge", "When the last sync with a peer succeeded (0: never).")
            for p in peers {
                out += "setuplink_peer_last_success_timestamp_seconds{peer=\"\(Self.escape(p.name))\"} \(number(p.lastSync?.timeIntervalSince1970.rounded() ?? 0))\n"
            }
            help("setuplink_peer_following", "gauge", "1 when serve keeps syncing with the peer.")
            for p in peers { out += "setuplink_peer_following{peer=\"\(Self.escape(p.name))\"} \(p.follow ? 1 : 0)\n" }
            help("setuplink_peer_failing", "gauge", "1 when the last sync with the peer failed.")
            for p in peers { out += "setuplink_peer_failing{peer=\"\(Self.escape(p.name))\"} \(p.lastError == nil ? 0 : 1)\n" }
        }
        if let kinds = try? store.countsByKind() {
            help("setuplink_records", "gauge", "Records stored in the replica, by kind and state.")
            for k in kinds {
                out += "setuplink_records{kind=\"\(k.kind)\",state=\"live\"} \(k.live)\n"
                out += "setuplink_records{kind=\"\(k.kind)\",state=\"tombstone\"} \(k.tombstones)\n"
            }
        }
        help("setuplink_replica_file_bytes", "gauge", "Size of the replica file and its write-ahead log.")
        for (file, suffix) in [("db", ""), ("wal", "-wal")] {
            var info = stat()
            let size = stat(store.path + suffix, &info) == 0 ? Int64(info.st_size) : 0
            out += "setuplink_replica_file_bytes{file=\"\(file)\"} \(size)\n"
        }
        help("setuplink_start_time_seconds", "gauge", "When this hub started (Unix time).")
        out += "setuplink_start_time_seconds \(number(started.timeIntervalSince1970.rounded()))\n"
        return out
    }

    /// A label value with `\`, `"` and line breaks escaped.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// `GET /metrics`, behind its own bearer token (`serve --metrics-token-file`).
struct MetricsRoutes: HTTPRoutes {
    let metrics: HubMetrics
    let store: ReplicaStore
    let token: String

    func handles(_ head: HTTPHead) -> Bool { head.path == "/metrics" }

    func admit(_ head: HTTPHead) -> Admission {
        guard head.method == "GET" || head.method == "HEAD" else {
            return .reject(HTTPResponse.error(status: 405, message: "/metrics accepts GET, not \(head.method)").setting("Allow", "GET"))
        }
        guard let given = head.bearerToken, constantTimeEquals(given, Array(token.utf8)) else {
            return .reject(HTTPResponse.error(status: 401, message: "missing or wrong bearer token (the metrics token)")
                .setting("WWW-Authenticate", "Bearer"))
        }
        return .accept(maxBodyBytes: 0)
    }

    func loggedPath(_ head: HTTPHead) -> String { head.path }

    func respond(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                     body: Array(metrics.render(store: store).utf8))
    }
}
