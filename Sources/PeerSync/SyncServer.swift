import JSON
import Foundation
import Replica
import Storage

/// Serves a replica to peers over the peer protocol (SPEC §4).
///
/// Routes:
/// - `GET /healthz` → `{"status":"ok","replica":"<hex>"}`, without auth;
/// - `GET /sync/v1/summary` → `{"replica":…,"clock":{…},"purge_floor":{…}}`;
/// - `POST /sync/v1/pull`, body `{"replica":"<client>","clock":{…},"applied":{…},"purge_floor":{…},"limit":N}`
///   → `{"replica":…,"clock":{…},"purge_floor":{…},"page":{…}}`, the changes
///   the client lacks (`clock` is what it pages from, `applied` what it has
///   applied: only that counts as its acknowledgement);
/// - `POST /sync/v1/push`, body `{"replica":"<client>","applied":{…},"purge_floor":{…},"page":{…}}`,
///   applied in one transaction → `{"clock":{…},"applied":n,"conflicts":n,"purge_floor":{…}}`.
///
/// Sync routes need `Authorization: Bearer <token>` (compared in constant
/// time; an empty token refuses every sync request). Every refusal is a JSON
/// `{"error":…}` with its status (400 malformed, 401 token, 404 route, 405
/// method, 409 a replica that holds less than it acknowledged and must be
/// rebuilt, 413 size, 422 records that cannot merge) and changes nothing.
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
            case "/sync/v1/pull": return try pull(request.body)
            default: return try push(request.body)
            }
        } catch let e as WireFormatError {
            return .error(status: 400, message: "invalid request: \(e)")
        } catch let e as MergeError {
            return .error(status: 422, message: "changes refused, nothing applied: \(e)")
        } catch let e as StaleReplicaError {
            return .error(status: 409, message: "\(e)")
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

    func pull(_ body: [UInt8]) throws -> HTTPResponse {
        let request = try parseBody(body)
        _ = try WireFormat.object(request, "body")
        let client = try WireFormat.replicaID(request["replica"], "replica")
        let clientClock = try WireFormat.clock(request["clock"], "clock")
        var limit = SyncServer.defaultPageLimit
        if let l = request["limit"] {
            guard case .int(let n) = l else {
                throw WireFormatError(field: "limit", reason: "must be an integer, not \(WireFormat.typeName(l))")
            }
            limit = Int(min(max(n, 1), Int64(SyncServer.maxPageLimit)))
        }
        // Only what the client has applied is its acknowledgement (older clients send no `applied`).
        let applied = request["applied"] == nil ? nil : try WireFormat.clock(request["applied"], "applied")
        let clientFloor = request["purge_floor"] == nil ? nil : try WireFormat.clock(request["purge_floor"], "purge_floor")
        try store.servePull(client: client, position: clientClock, applied: applied, clientFloor: clientFloor)
        // Read before the page is cut: the client judges the page by it (never newer than the page).
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

    func push(_ body: [UInt8]) throws -> HTTPResponse {
        let page: PreparedPage
        var client: ReplicaID?
        var applied: VectorClock?, clientFloor: VectorClock?
        if let fast = FastPageReader.envelope(body, pageKey: "page", other: { key, raw in
            switch key {
            case "replica": client = try WireFormat.replicaID(try JSONParser.parse(raw), "replica")
            case "applied": applied = try WireFormat.clock(try JSONParser.parse(raw), "applied")
            case "purge_floor": clientFloor = try WireFormat.clock(try JSONParser.parse(raw), "purge_floor")
            default: break
            }
        }), client != nil {
            page = fast
        } else {
            // The strict decoder accepts what the fast reader does not handle, or names the fault.
            let request = try parseBody(body)
            _ = try WireFormat.object(request, "body")
            client = try WireFormat.replicaID(request["replica"], "replica")
            applied = request["applied"] == nil ? nil : try WireFormat.clock(request["applied"], "applied")
            clientFloor = request["purge_floor"] == nil ? nil : try WireFormat.clock(request["purge_floor"], "purge_floor")
            page = PreparedPage(try WireFormat.page(request["page"], "page"))
        }
        let summary = try store.receivePush(client: client!, applied: applied, clientFloor: clientFloor, page: page)
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

    func parseBody(_ body: [UInt8]) throws(WireFormatError) -> JSONValue {
        guard !body.isEmpty else { throw WireFormatError(field: "body", reason: "empty; expected a JSON object") }
        do { return try JSONParser.parse(body) } catch { throw WireFormatError(field: "body", reason: error.description) }
    }
}
