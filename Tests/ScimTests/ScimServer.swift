import Events
import Foundation
import HTTP
import JSON
import PeerSync
@testable import Scim
import SetupLinks
import Storage
import Synchronization
import Testing
import TestSupport

/// A replica served over real HTTP (libmicrohttpd on port 0) with the SCIM
/// routes and the peer routes, as `serve` mounts them, and a SCIM event sink
/// the test can read (or make fail).
final class ScimServer: Sendable {
    let store: ReplicaStore
    let service: SetupLinkService
    let server: HTTPServer
    let port: UInt16
    /// The peer token of the sync routes.
    static let peerToken = "peer-secret-for-scim-tests"
    /// `https://hub.example.test`: what `meta.location` starts with.
    static let externalURL = "https://hub.example.test"
    /// Every event the sink received: (directory id, event).
    let events = Locked<[(String, DirectoryEvent)]>([])
    /// When set, the sink throws (to check that the change is rolled back).
    let sinkFails = Locked(false)
    /// The access log's lines.
    let log = Locked<[String]>([])

    /// Serves a new replica file at `path` (a fresh temporary one by default).
    init(path: String? = nil) throws {
        let file = path ?? testFolderPath("scim-http") + "/hub.sqlite"
        store = try SetupLinkService.openStore(path: file)
        service = try SetupLinkService(store: store, externalURL: Self.externalURL)
        let events = self.events, sinkFails = self.sinkFails, log = self.log
        let routes: [any HTTPRoutes] = [
            SyncRoutes(store: store, token: Self.peerToken),
            ScimRoutes(service: service, eventSink: { tx, batch in
                // The sink runs inside the change's transaction: what the change wrote is visible to it.
                if let first = batch.first, let id = first.data.member("id")?.stringValue, first.name.hasPrefix("user.") {
                    #expect(try tx.record(id) != nil)
                }
                if sinkFails.withLock({ $0 }) { throw StoreError.invalid("the test's event sink refused the events") }
                events.withLock { $0 += batch.map { ($0.directory, $0) } }
            }),
        ]
        server = HTTPServer(configuration: HTTPServerConfiguration(port: 0), routes: routes,
                            log: { entry in log.withLock { $0.append(entry.description) } })
        port = try server.start()
    }

    deinit {
        server.stop()
        store.close()
    }

    /// `http://127.0.0.1:PORT`.
    var url: String { "http://127.0.0.1:\(port)" }

    /// A new directory of `type`, made through a setup link of `tenant`/`product` as a tenant would.
    func directory(tenant: String = "acme", product: String = "crm", type: DirectoryType = .okta) throws -> Directory {
        let (link, _) = try service.createLink(tenant: tenant, product: product, webhookURL: "https://hooks.example.com/x",
                                               webhookSecret: "s3cret")
        return try service.open(link.token).createDirectory(type: type)
    }

    /// The event types received for `directory`, in order, and forgets them.
    func takeEvents(_ directory: String) -> [String] {
        events.withLock { all in
            let mine = all.filter { $0.0 == directory }.map(\.1.name)
            all.removeAll { $0.0 == directory }
            return mine
        }
    }

    /// The events received for `directory`, in order (kind and data), and forgets them.
    func takeDirectoryEvents(_ directory: String) -> [DirectoryEvent] {
        events.withLock { all in
            let mine = all.filter { $0.0 == directory }.map(\.1)
            all.removeAll { $0.0 == directory }
            return mine
        }
    }

    /// The replica's digest.
    func digest() throws -> String { try store.digest() }
}

/// A SCIM answer as the tests read it.
struct ScimReply {
    var status: Int
    var headers: [String: String]
    var text: String
    /// The body parsed as JSON (`nil` when empty or not JSON).
    var json: JSONValue? { text.isEmpty ? nil : try? JSONParser.parse(Array(text.utf8)) }
    /// A SCIM error's `scimType`.
    var scimType: String? { json?.member("scimType")?.stringValue }
    /// `Resources` of a list.
    var resources: [JSONValue] { json?.member("Resources")?.arrayValue ?? [] }
    /// `totalResults` of a list.
    var total: Int? { json?.member("totalResults")?.int64Value.map { Int($0) } }
    /// The resource's `id`.
    var id: String? { json?.member("id")?.stringValue }
}

/// A SCIM client of one directory on one server: bearer token, paths relative to its base.
struct ScimClient {
    let base: String
    let token: String?
    var suffix = ""

    /// The client of `directory` on `server` (its SCIM path, under the server's address).
    init(_ server: ScimServer, _ directory: Directory, token: String? = nil) {
        base = server.url + directory.scimPath
        self.token = token ?? directory.scimToken
    }

    /// A client of any base URL.
    init(base: String, token: String?) {
        self.base = base
        self.token = token
    }

    /// Sends `method path` (relative to the base; a query may follow) with a JSON body.
    func send(_ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:]) throws -> ScimReply {
        var h = headers
        if let token, h["Authorization"] == nil { h["Authorization"] = "Bearer \(token)" }
        if body != nil, h["Content-Type"] == nil { h["Content-Type"] = "application/scim+json" }
        let client = HTTPClient(timeout: .seconds(60), maxResponseBytes: 64 * 1024 * 1024)
        let r = try client.send(method: method, url: base + path + suffix(for: path), headers: h, body: body.map { Array($0.utf8) })
        return ScimReply(status: r.status, headers: r.headers, text: String(decoding: r.body, as: UTF8.self))
    }

    /// Entra ID's `aadOptscim062020` flag, appended to every query when `suffix` is set.
    private func suffix(for path: String) -> String {
        guard !suffix.isEmpty else { return "" }
        return (path.contains("?") ? "&" : "?") + suffix
    }

    func get(_ path: String) throws -> ScimReply { try send("GET", path) }
    func post(_ path: String, _ body: String) throws -> ScimReply { try send("POST", path, body) }
    func put(_ path: String, _ body: String) throws -> ScimReply { try send("PUT", path, body) }
    func patch(_ path: String, _ operations: String) throws -> ScimReply {
        try send("PATCH", path, #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(operations)}"#)
    }
    func delete(_ path: String) throws -> ScimReply { try send("DELETE", path) }

    /// `GET /Users?filter=…` (the filter percent-encoded).
    func findUsers(_ filter: String, extra: String = "") throws -> ScimReply {
        try get("/Users?filter=" + encode(filter) + extra)
    }

    /// `GET /Groups?filter=…`.
    func findGroups(_ filter: String, extra: String = "") throws -> ScimReply {
        try get("/Groups?filter=" + encode(filter) + extra)
    }

    /// Creates a user named `name` and returns its id.
    func createUser(_ name: String, extra: String = "") throws -> String {
        let r = try post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\#(name)"\#(extra)}"#)
        guard r.status == 201, let id = r.id else { throw ServeFailure("creating \(name): \(r.status) \(r.text)") }
        return id
    }

    /// Creates a group and returns its id.
    func createGroup(_ name: String, members: [String] = []) throws -> String {
        let m = members.map { #"{"value":"\#($0)"}"# }.joined(separator: ",")
        let r = try post("/Groups", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"\#(name)","members":[\#(m)]}"#)
        guard r.status == 201, let id = r.id else { throw ServeFailure("creating group \(name): \(r.status) \(r.text)") }
        return id
    }

    /// The member values of a group, sorted.
    func members(_ gid: String) throws -> [String] {
        try get("/Groups/\(gid)").json?.member("members")?.arrayValue?.compactMap { $0.member("value")?.stringValue }.sorted() ?? []
    }
}

/// Percent-encodes a query value.
func encode(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed)!
}

/// A step of a served test failed in a way it cannot go on from.
struct ServeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

