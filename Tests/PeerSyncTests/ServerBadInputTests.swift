import JSON
import Foundation
import Glibc
import Replica
import Storage
import Synchronization
import Testing
import HTTP
import TestSupport
@testable import PeerSync

/// The error text of a JSON error body.
private func errorText(_ response: RawResponse) -> String? {
    (try? JSONParser.parse(Array(response.body.utf8)))?["error"]?.stringValue
}

/// Sends `request` on a fresh connection and checks the status, that the body is a
/// JSON error containing `message`, that the replica is unchanged and that `/healthz` still answers.
private func expectRefused(_ served: ServedReplica, _ request: [UInt8], status: Int, message: String,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
    let before = try served.store.digest()
    let client = try RawClient(port: served.port)
    client.send(request)
    let response = try #require(client.readResponse(), sourceLocation: sourceLocation)
    #expect(response.status == status, "\(response.body)", sourceLocation: sourceLocation)
    #expect(response.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
    let text = errorText(response)
    #expect(text?.contains(message) == true, "error was \(text ?? response.body)", sourceLocation: sourceLocation)
    #expect(try served.store.digest() == before, "the replica changed", sourceLocation: sourceLocation)
    let health = try RawClient(port: served.port)
    health.send(rawRequest("GET", "/healthz", token: nil))
    #expect(health.readResponse()?.status == 200, "the server stopped answering", sourceLocation: sourceLocation)
}

private func expectRefused(_ served: ServedReplica, _ request: String, status: Int, message: String,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
    try expectRefused(served, Array(request.utf8), status: status, message: message, sourceLocation: sourceLocation)
}

/// What a misbehaving client gets from a `SyncServer`: a status, a JSON error, and no change.
@Suite struct ServerBadInputTests {
    static let client = "0000000000000000000000000000abcd"

    @Test(arguments: [
        ("/sync/v1/pull", "{\"replica\":", "invalid JSON"),
        ("/sync/v1/pull", "not json at all", "invalid JSON"),
        ("/sync/v1/push", "", "body: empty"),
        ("/sync/v1/push", "{\"replica\":\"\(client)\",\"page\":{\"replicas\":[],}}", "invalid JSON"),
    ])
    func malformedJSONGets400(path: String, body: String, message: String) throws {
        let served = try servedWithOneLink()
        try expectRefused(served, rawRequest("POST", path, body: body), status: 400, message: message)
    }

    @Test(arguments: [
        ("/sync/v1/pull", "[]", "body: must be an object"),
        ("/sync/v1/pull", "{\"clock\":{}}", "replica: missing"),
        ("/sync/v1/pull", "{\"replica\":5,\"clock\":{}}", "replica: must be a string"),
        ("/sync/v1/pull", "{\"replica\":\"\(client)\",\"clock\":\"1\"}", "clock: must be an object, not a string"),
        ("/sync/v1/pull", "{\"replica\":\"\(client)\",\"clock\":{\"\(client)\":0}}", "a counter must be greater than 0"),
        ("/sync/v1/pull", "{\"replica\":\"\(client)\",\"clock\":{},\"limit\":\"9\"}", "limit: must be an integer"),
        ("/sync/v1/push", "{\"replica\":\"\(client)\"}", "page: missing"),
        ("/sync/v1/push", "{\"replica\":\"\(client)\",\"page\":{\"replicas\":[],\"records\":[{\"id\":\"x\",\"kind\":\"widget\",\"clock\":[],\"deleted\":[],\"fields\":{}}],\"coverage\":{},\"base\":{},\"more\":false}}",
         "page.records[0].kind: unknown kind"),
        ("/sync/v1/push", "{\"replica\":\"\(client)\",\"page\":{\"replicas\":[\"\(client)\"],\"records\":[{\"id\":\"x\",\"kind\":\"link\",\"clock\":[],\"deleted\":[],\"fields\":{\"token\":[[\"t\",1,3,1]]}}],\"coverage\":{},\"base\":{},\"more\":false}}",
         "page.records[0].fields.token[0][2]: replica index 3 out of range"),
    ])
    func wellFormedJSONWithWrongFieldsGets400(path: String, body: String, message: String) throws {
        let served = try servedWithOneLink()
        try expectRefused(served, rawRequest("POST", path, body: body), status: 400, message: message)
    }

    @Test func pushWhoseRecordsCannotMergeGets422AndAppliesNothing() throws {
        let served = try servedWithOneLink()
        // A valid record first, so "nothing applied" is visible: it must not land either.
        let good = #"{"id":"new-link","kind":"link","clock":[[0,1]],"deleted":[],"fields":{"token":[["t",1,0,1]]}}"#
        let mismatched = #"{"id":"link-1","kind":"directory","clock":[[0,2]],"deleted":[],"fields":{"name":[["d",1,0,2]]}}"#
        let empty = #"{"id":"empty","kind":"link","clock":[[0,5]],"deleted":[],"fields":{}}"#
        for (record, status, message) in [(mismatched, 422, "record link-1 arrived with a different kind"),
                                           (empty, 400, "page.records[1]: holds no register")] {
            let body = #"{"replica":"\#(Self.client)","page":{"replicas":["\#(Self.client)"],"records":[\#(good),\#(record)],"coverage":{"\#(Self.client)":5},"base":{},"more":false}}"#
            try expectRefused(served, rawRequest("POST", "/sync/v1/push", body: body), status: status, message: message)
        }
        #expect(try served.store.record(id: "new-link") == nil)
        #expect(try served.store.clock()[ReplicaID(hex: Self.client)!] == 0)
    }

    @Test(arguments: [Optional("wrong"), Optional(testToken + "x"), Optional(""), nil])
    func wrongOrMissingTokenGets401(token: String?) throws {
        let served = try servedWithOneLink()
        try expectRefused(served, rawRequest("GET", "/sync/v1/summary", token: token), status: 401, message: "bearer token")
        let pull = "{\"replica\":\"\(Self.client)\",\"clock\":{}}"
        try expectRefused(served, rawRequest("POST", "/sync/v1/pull", token: token, body: pull), status: 401, message: "bearer token")
        try expectRefused(served, rawRequest("POST", "/sync/v1/push", token: token, body: "{}"), status: 401, message: "bearer token")
    }

    @Test func unknownRouteGets404AndWrongMethodGets405() throws {
        let served = try servedWithOneLink()
        try expectRefused(served, rawRequest("GET", "/sync/v2/pull"), status: 404, message: "no route /sync/v2/pull")
        try expectRefused(served, rawRequest("GET", "/"), status: 404, message: "no route /")
        try expectRefused(served, rawRequest("GET", "/sync/v1/pull"), status: 405, message: "accepts POST, not GET")
        try expectRefused(served, rawRequest("DELETE", "/sync/v1/push"), status: 405, message: "accepts POST, not DELETE")
        try expectRefused(served, rawRequest("POST", "/healthz", body: "{}"), status: 405, message: "accepts GET, not POST")
        try expectRefused(served, rawRequest("PUT", "/sync/v1/summary", body: "{}"), status: 405, message: "accepts GET, not PUT")
    }

    @Test func bodyOverTheLimitGets413() throws {
        let served = try servedWithOneLink(HTTPServerConfiguration(maxBodyBytes: 1024))
        let body = "{\"replica\":\"\(Self.client)\",\"page\":\"" + String(repeating: "x", count: 2000) + "\"}"
        try expectRefused(served, rawRequest("POST", "/sync/v1/push", body: body), status: 413, message: "1024")
    }

    @Test func pullLimitIsClampedToAtLeastOne() throws {
        let served = try ServedReplica()
        try writeLinks(served.store, prefix: "p", count: 3)
        let client = try RawClient(port: served.port)
        client.send(rawRequest("POST", "/sync/v1/pull", body: "{\"replica\":\"\(Self.client)\",\"clock\":{},\"limit\":0}"))
        let response = try #require(client.readResponse())
        #expect(response.status == 200)
        let value = try JSONParser.parse(Array(response.body.utf8))
        #expect(value["replica"]?.stringValue == served.store.replicaID.hex)
        #expect(value["page"]?["records"]?.arrayValue?.count == 1)
        #expect(value["page"]?["more"] == .bool(true))
        // Three links, and the server's introduction of the client (Storage.docc/Tombstones.md).
        #expect(value["clock"]?[served.store.replicaID.hex]?.int64Value == 4)
    }

    @Test func theClientsAppliedClockIsItsAcknowledgementSoTombstonesItHoldsArePurged() throws {
        let served = try ServedReplica()
        try writeLinks(served.store, prefix: "p", count: 2)
        try served.store.write { tx in try tx.delete(id: "p0") }
        #expect(try served.store.purgeTombstones() == 0, "no other replica exists yet")
        let laptop = try temporaryReplica()
        try sync(laptop, with: served)
        // The push said what the laptop had applied, the delete included: both purge in that sync.
        #expect(try served.store.record(id: "p0") == nil)
        #expect(try laptop.record(id: "p0") == nil)
        #expect(try laptop.digest() == served.store.digest())
    }

    @Test func accessLogHasOneLinePerRequestAndNeverTheToken() throws {
        let lines = Mutex<[String]>([])
        let served = try ServedReplica(accessLog: { entry in lines.withLock { $0.append(entry.description) } })
        let client = try RawClient(port: served.port)
        client.send(rawRequest("GET", "/sync/v1/summary"))
        _ = client.readResponse()
        client.send(rawRequest("GET", "/sync/v1/summary", token: "guess"))
        _ = client.readResponse()
        #expect(poll { lines.withLock { $0.count } == 2 })
        let logged = lines.withLock { $0 }
        #expect(logged.first?.contains(" 127.0.0.1:") == true, "the client address")
        #expect(logged.first?.contains(" GET /sync/v1/summary 200 ") == true)
        #expect(logged.last?.contains(" GET /sync/v1/summary 401 ") == true)
        #expect(logged.allSatisfy { $0.hasSuffix("ms") })
        #expect(!logged.joined().contains(testToken) && !logged.joined().contains("guess"))
    }
}
