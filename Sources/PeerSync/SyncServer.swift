import JSON
import Foundation
import Replica
import Storage

/// Serves a replica to peers over the peer protocol (SPEC §4).
///
/// Routes:
/// - `GET /healthz` → `{"status":"ok","replica":"<hex>"}`, without auth;
/// - `GET /sync/v1/summary` → `{"replica":…,"clock":{…},"purge_floor":{…}}`;
/// - `POST /sync/v1/pull`, body `{"replica":"<client>","clock":{…},"limit":N}`
///   → `{"replica":…,"clock":{…},"purge_floor":{…},"page":{…}}`, the changes the
///   client lacks, or the same message in the binary page encoding when `Accept`
///   names `application/vnd.setuplink.page`;
/// - `POST /sync/v1/push`, body `{"replica":"<client>","clock":{…},"page":{…}}` (JSON)
///   or a binary page message (`Content-Type: application/vnd.setuplink.page`),
///   checked as peer input and applied in one transaction →
///   `{"clock":{…},"applied":n,"conflicts":n,"purge_floor":{…}}`.
///
/// Sync routes need `Authorization: Bearer <token>` (compared in constant
/// time; an empty token refuses every sync request). Every refusal is a JSON
/// `{"error":…}` with its status (400 malformed, 401 token, 404 route, 405
/// method, 413 size, 422 peer input refused by `PeerInput` or records that
/// cannot merge) and changes nothing.
public final class SyncServer: Sendable {
    /// The largest page a client may ask for; larger limits are clamped to it.
    public static let maxPageLimit = 5000
    /// The page limit when a pull names none.
    public static let defaultPageLimit = 1000

    /// The replica served.
    public let store: ReplicaStore
    private let http: HTTPServer

    /// Creates a stopped server for `store`; `start()` binds it.
    ///
    /// `accessLog` receives one entry per request (method, path, status, bytes,
    /// milliseconds; never headers, so never the token).
    public init(store: ReplicaStore, token: String,
                configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                accessLog: HTTPServer.AccessLog? = nil) {
        self.store = store
        let routes = SyncRoutes(store: store, token: token)
        http = HTTPServer(configuration: configuration, accessLog: accessLog) { routes.handle($0) }
    }

    /// Binds and starts serving; returns the bound port (useful with port 0).
    @discardableResult
    public func start() throws(HTTPServerError) -> UInt16 { try http.start() }

    /// Stops gracefully: requests in flight finish, then every connection closes.
    public func stop() { http.stop() }

    /// The bound port while running, else `nil`.
    public var port: UInt16? { http.port }
}

/// The request handlers, separate from the socket server so they hold only what they need.
struct SyncRoutes: Sendable {
    let store: ReplicaStore
    let token: String
    let replicaHex: String

    init(store: ReplicaStore, token: String) {
        self.store = store
        self.token = token
        self.replicaHex = store.replicaID.hex
    }

    /// Turns one request into its answer; never throws, never touches the replica on a refusal.
    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let allowed: String
        switch request.path {
        case "/healthz": allowed = "GET"
        case "/sync/v1/summary": allowed = "GET"
        case "/sync/v1/pull", "/sync/v1/push": allowed = "POST"
        default: return .error(status: 404, message: "no route \(request.path)")
        }
        guard request.method == allowed else {
            var r = HTTPResponse.error(status: 405, message: "\(request.path) accepts \(allowed), not \(request.method)")
            r.headers["Allow"] = allowed
            return r
        }
        if request.path == "/healthz" { return healthz() }
        guard request.hasBearerToken(token) else {
            var r = HTTPResponse.error(status: 401, message: "missing or wrong bearer token")
            r.headers["WWW-Authenticate"] = "Bearer"
            return r
        }
        do {
            switch request.path {
            case "/sync/v1/summary": return try summary()
            case "/sync/v1/pull": return try pull(request)
            default: return try push(request)
            }
        } catch let e as WireFormatError {
            return .error(status: 400, message: "invalid request: \(e)")
        } catch let e as PeerInputError {
            return .error(status: 422, message: "changes refused, nothing applied: \(e)")
        } catch let e as MergeError {
            return .error(status: 422, message: "changes refused, nothing applied: \(e)")
        } catch {
            return .error(status: 500, message: "the replica failed: \(error)")
        }
    }

    func healthz() -> HTTPResponse {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("status"); w.string("ok")
        w.key("replica"); w.string(replicaHex)
        w.endObject()
        return .json(w.bytes)
    }

    func summary() throws -> HTTPResponse {
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

    /// `POST /sync/v1/pull`: the body is JSON (`replica`, `clock`, `limit`); the page
    /// comes back in the encoding `Accept` asks for (binary or JSON).
    func pull(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try WireFormat.parse(request.body)
        _ = try WireFormat.object(body, "body")
        let client = try WireFormat.replicaID(body["replica"], "replica")
        let clientClock = try WireFormat.clock(body["clock"], "clock")
        var limit = SyncServer.defaultPageLimit
        if let l = body["limit"] {
            guard case .int(let n) = l else {
                throw WireFormatError(field: "limit", reason: "must be an integer, not \(WireFormat.typeName(l))")
            }
            limit = Int(min(max(n, 1), Int64(SyncServer.maxPageLimit)))
        }
        let before = try store.clock()
        // The clock a client sends claims what it holds: none of this replica's writes beyond its counter.
        try PeerInput(receiver: store.replicaID, receiverCounter: before[store.replicaID], now: store.now())
            .check(clock: clientClock, field: "clock")
        // What the client sent is what it holds: tombstones it has seen may be purged here.
        if client != store.replicaID {
            try store.recordClient(client, acked: clientClock)
            // The server purges like any replica: tombstones every known peer and client has seen.
            try store.purgeTombstones()
        }
        let clock = try store.clock()
        let message = PageMessage(sender: store.replicaID, clock: clock, purgeFloor: try store.purgeFloor(),
                                  page: try store.changes(since: clientClock, limit: limit))
        switch PageEncoding.accepted(request.header("Accept")) {
        case .binary:
            return HTTPResponse(status: 200, headers: ["Content-Type": BinaryPage.mediaType], body: BinaryPage.encode(message))
        case .json:
            return .json(try WireFormat.encode(message))
        }
    }

    /// `POST /sync/v1/push`: a page message in the encoding its `Content-Type` names,
    /// checked as peer input and applied in one transaction.
    func push(_ request: HTTPRequest) throws -> HTTPResponse {
        let message: PageMessage
        switch PageEncoding.of(contentType: request.header("Content-Type")) {
        case .binary: message = try BinaryPage.decode(request.body)
        case .json: message = try WireFormat.decodeMessage(request.body)
        }
        let summary = try store.apply(message.page, from: PeerSender(replica: message.sender, clock: message.clock))
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
}
