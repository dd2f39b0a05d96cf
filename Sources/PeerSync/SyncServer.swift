import JSON
import Foundation
import HTTP
import Replica
import Storage

/// The peer protocol's routes (SPEC §4), for `HTTPServer` (the hub mounts
/// them beside SCIM and the setup page).
///
/// Routes:
/// - `GET /healthz` → `{"status":"ok","replica":"<hex>"}`, without auth;
/// - `GET /sync/v1/summary` → `{"replica":…,"clock":{…},"purge_floor":{…}}`;
/// - `POST /sync/v1/pull`, body `{"replica":"<client>","clock":{…},"limit":N}`
///   → `{"replica":…,"clock":{…},"page":{…}}`, the changes the client lacks;
/// - `POST /sync/v1/push`, body `{"replica":"<client>","page":{…}}`, applied
///   in one transaction → `{"clock":{…},"applied":n,"conflicts":n}`.
///
/// Everything is decided from the head before a body is read: the method
/// (405 with `Allow`), the bearer token (401, compared in constant time; an
/// empty token refuses every sync request), the declared size (413). Then
/// 400 malformed, 422 records that cannot merge, 500 with a short id (the
/// detail goes to the server log only). None of them changes the replica.
public struct SyncRoutes: HTTPRoutes {
    /// The largest page a client may ask for; larger limits are clamped to it.
    public static let maxPageLimit = 5000
    /// The page limit when a pull names none.
    public static let defaultPageLimit = 1000
    /// The default limit on a pull or push body.
    public static let defaultMaxBodyBytes = 16 * 1024 * 1024

    /// The replica served.
    public let store: ReplicaStore
    /// The limit on a pull or push body.
    public let maxBodyBytes: Int
    private let token: @Sendable () -> String
    private let replicaHex: String

    /// Routes for `store`, guarded by a fixed bearer `token`.
    public init(store: ReplicaStore, token: String, maxBodyBytes: Int = SyncRoutes.defaultMaxBodyBytes) {
        self.init(store: store, maxBodyBytes: maxBodyBytes, token: { token })
    }

    /// Routes for `store` whose bearer token is read from `token` for every
    /// request (so a rotated token takes effect without a restart).
    public init(store: ReplicaStore, maxBodyBytes: Int = SyncRoutes.defaultMaxBodyBytes, token: @escaping @Sendable () -> String) {
        self.store = store
        self.maxBodyBytes = maxBodyBytes
        self.token = token
        self.replicaHex = store.replicaID.hex
    }

    /// `/healthz` and everything under `/sync/`.
    public func handles(_ head: HTTPHead) -> Bool {
        head.path == "/healthz" || head.path.hasPrefix("/sync/")
    }

    /// Method, token and size, from the head alone.
    public func admit(_ head: HTTPHead) -> Admission {
        let allowed: String
        switch head.path {
        case "/healthz", "/sync/v1/summary": allowed = "GET"
        case "/sync/v1/pull", "/sync/v1/push": allowed = "POST"
        default: return .reject(.error(status: 404, message: "no route \(head.path)"))
        }
        guard head.method == allowed else {
            return .reject(HTTPResponse.error(status: 405, message: "\(head.path) accepts \(allowed), not \(head.method)")
                .setting("Allow", allowed))
        }
        if head.path == "/healthz" { return .accept(maxBodyBytes: 0) }
        guard head.hasBearerToken(token()) else {
            return .reject(HTTPResponse.error(status: 401, message: "missing or wrong bearer token")
                .setting("WWW-Authenticate", "Bearer"))
        }
        return .accept(maxBodyBytes: allowed == "POST" ? maxBodyBytes : 0)
    }

    /// The path; peer routes carry no secret in it (the token is a header, never logged).
    public func loggedPath(_ head: HTTPHead) -> String { head.path }

    /// Turns one admitted request into its answer; never touches the replica on a refusal.
    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        do {
            switch request.path {
            case "/healthz": return healthz()
            case "/sync/v1/summary": return try summary()
            case "/sync/v1/pull": return try pull(request.body)
            default: return try push(request.body)
            }
        } catch let e as WireFormatError {
            return .error(status: 400, message: "invalid request: \(e)")
        } catch let e as MergeError {
            return .error(status: 422, message: "changes refused, nothing applied: \(e)")
        } catch {
            return .internalError("\(request.method) \(request.path): \(error)")
        }
    }

    private func healthz() -> HTTPResponse {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("status"); w.string("ok")
        w.key("replica"); w.string(replicaHex)
        w.endObject()
        return .json(w.bytes)
    }

    private func summary() throws -> HTTPResponse {
        let clock = try store.clock()
        let floor = try store.purgeFloor()
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("replica"); w.string(replicaHex)
        w.key("clock"); WireFormat.writeClock(clock, into: &w)
        w.key("purge_floor"); WireFormat.writeClock(floor, into: &w)
        w.endObject()
        return .json(w.bytes)
    }

    private func pull(_ body: [UInt8]) throws -> HTTPResponse {
        let request = try parseBody(body)
        _ = try WireFormat.object(request, "body")
        let client = try WireFormat.replicaID(request["replica"], "replica")
        let clientClock = try WireFormat.clock(request["clock"], "clock")
        var limit = SyncRoutes.defaultPageLimit
        if let l = request["limit"] {
            guard case .int(let n) = l else {
                throw WireFormatError(field: "limit", reason: "must be an integer, not \(WireFormat.typeName(l))")
            }
            limit = Int(min(max(n, 1), Int64(SyncRoutes.maxPageLimit)))
        }
        // What the client sent is what it holds: tombstones it has seen may be purged here.
        if client != store.replicaID {
            try store.recordClient(client, acked: clientClock)
            // The server purges like any replica: tombstones every known peer and client has seen.
            try store.purgeTombstones()
        }
        let clock = try store.clock()
        let page = try store.encodedChanges(since: clientClock, limit: limit)
        var w = JSONWriter(capacity: 256 + page.records.count * 900)
        w.beginObject()
        w.key("replica"); w.string(replicaHex)
        w.key("clock"); WireFormat.writeClock(clock, into: &w)
        w.key("purge_floor"); WireFormat.writeClock(try store.purgeFloor(), into: &w)
        w.key("page"); try WireFormat.writePage(page, into: &w)
        w.endObject()
        return .json(w.bytes)
    }

    private func push(_ body: [UInt8]) throws -> HTTPResponse {
        let page: PreparedPage
        var sawReplica = false
        if let fast = FastPageReader.envelope(body, pageKey: "page", other: { key, raw in
            if key == "replica" { _ = try WireFormat.replicaID(try JSONParser.parse(raw), "replica"); sawReplica = true }
        }), sawReplica {
            page = fast
        } else {
            // The strict decoder accepts what the fast reader does not handle, or names the fault.
            let request = try parseBody(body)
            _ = try WireFormat.object(request, "body")
            _ = try WireFormat.replicaID(request["replica"], "replica")
            page = PreparedPage(try WireFormat.page(request["page"], "page"))
        }
        let summary = try store.apply([page])
        if summary.changed > 0 { try store.purgeTombstones() }
        let clock = try store.clock()
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("clock"); WireFormat.writeClock(clock, into: &w)
        w.key("applied"); w.int(Int64(summary.changed))
        w.key("conflicts"); w.int(Int64(summary.conflicts))
        w.key("purge_floor"); WireFormat.writeClock(try store.purgeFloor(), into: &w)
        w.endObject()
        return .json(w.bytes)
    }

    private func parseBody(_ body: [UInt8]) throws(WireFormatError) -> JSONValue {
        guard !body.isEmpty else { throw WireFormatError(field: "body", reason: "empty; expected a JSON object") }
        do { return try JSONParser.parse(body) } catch { throw WireFormatError(field: "body", reason: error.description) }
    }
}

/// The peer routes served alone on an `HTTPServer`: for tests, benchmarks and
/// programs that embed a peer. `setuplink serve` uses the `Hub`, which mounts
/// these routes beside the others.
public final class SyncServer: Sendable {
    /// The largest page a client may ask for.
    public static let maxPageLimit = SyncRoutes.maxPageLimit
    /// The page limit when a pull names none.
    public static let defaultPageLimit = SyncRoutes.defaultPageLimit

    /// The replica served.
    public let store: ReplicaStore
    /// The HTTP server (its connection count and buffered bytes are visible to tests).
    public let http: HTTPServer

    /// Creates a stopped server for `store`; `start()` binds it.
    ///
    /// `accessLog` receives one entry per request (time, client address,
    /// method, path, status, bytes, milliseconds; never headers, so never the token).
    public init(store: ReplicaStore, token: String,
                configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                accessLog: (@Sendable (HTTPLogEntry) -> Void)? = nil) {
        self.store = store
        http = HTTPServer(configuration: configuration, routes: [SyncRoutes(store: store, token: token)], log: accessLog)
    }

    /// Binds and starts serving; returns the bound port (useful with port 0).
    @discardableResult
    public func start() throws(HTTPServerError) -> UInt16 { try http.start() }

    /// Stops gracefully: requests in flight finish, then every connection closes.
    public func stop() { http.stop() }

    /// The bound port while running, else `nil`.
    public var port: UInt16? { http.port }
}
