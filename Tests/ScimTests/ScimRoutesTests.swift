import Foundation
import HTTP
import Hub
import JSON
@testable import Scim
import SetupLinks
import Storage
import Testing
import TestSupport

/// The SCIM routes over real HTTP: errors, authentication, tenant isolation,
/// deactivated, deleted and Google directories, hostile input. Every refusal
/// leaves the replica's digest unchanged.
@Suite struct ScimRoutesTests {
    static let user = #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com","active":true}"#

    @Test func badInputGetsTheRightScimErrorAndChangesNothing() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        let uid = try scim.createUser("ann@example.com")
        let gid = try scim.createGroup("Ops")
        _ = server.takeEvents(d.id)
        let before = try server.digest()
        let cases: [(String, () throws -> ScimReply, Int, String?)] = [
            ("invalid JSON", { try scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"#) }, 400, "invalidSyntax"),
            ("empty body", { try scim.post("/Users", "") }, 400, "invalidSyntax"),
            ("a body that is not an object", { try scim.post("/Users", "[1,2]") }, 400, "invalidSyntax"),
            ("wrong schemas", { try scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"bob"}"#) }, 400, "invalidSyntax"),
            ("schemas that is not an array", { try scim.post("/Users", #"{"schemas":"urn:ietf:params:scim:schemas:core:2.0:User","userName":"bob"}"#) }, 400, "invalidSyntax"),
            ("empty schemas", { try scim.post("/Users", #"{"schemas":[],"userName":"bob"}"#) }, 400, "invalidSyntax"),
            ("a group PUT with the User schema", {
                try scim.put("/Groups/\(gid)", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"displayName":"Renamed"}"#)
            }, 400, "invalidSyntax"),
            ("missing userName", { try scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"active":true}"#) }, 400, "invalidValue"),
            ("userName of the wrong type", { try scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":5}"#) }, 400, "invalidValue"),
            ("active of the wrong type", { try scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob","active":"maybe"}"#) }, 400, "invalidValue"),
            ("emails of the wrong type", { try scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob","emails":"bob@x"}"#) }, 400, "invalidValue"),
            ("duplicate userName", { try scim.post("/Users", Self.user) }, 409, "uniqueness"),
            ("duplicate userName in another case", { try scim.post("/Users", Self.user.replacingOccurrences(of: "ann@", with: "ANN@")) }, 409, "uniqueness"),
            ("rename onto a taken userName", {
                let other = try scim.createUser("zed@example.com")
                return try scim.patch("/Users/\(other)", #"[{"op":"replace","path":"userName","value":"Ann@Example.com"}]"#)
            }, 409, "uniqueness"),
            ("unknown attribute in a filter", { try scim.findUsers(#"shoeSize eq "9""#) }, 400, "invalidFilter"),
            ("a filter that does not parse", { try scim.findUsers(#"userName eq"#) }, 400, "invalidFilter"),
            ("a filter comparing the wrong type", { try scim.findUsers(#"active gt true"#) }, 400, "invalidFilter"),
            ("a PATCH with a bad path", { try scim.patch("/Users/\(uid)", #"[{"op":"replace","path":"name..givenName","value":"x"}]"#) }, 400, "invalidPath"),
            ("a PATCH of an unknown attribute path", { try scim.patch("/Users/\(uid)", #"[{"op":"remove","path":"emails[type eq ]"}]"#) }, 400, "invalidPath"),
            ("a PATCH with an unknown op", { try scim.patch("/Users/\(uid)", #"[{"op":"move","path":"active","value":false}]"#) }, 400, "invalidSyntax"),
            ("a PATCH with no operations", { try scim.send("PATCH", "/Users/\(uid)", #"{"Operations":[]}"#) }, 400, "invalidSyntax"),
            ("a PATCH with the User schema", {
                try scim.send("PATCH", "/Users/\(uid)", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"replace","path":"active","value":false}]}"#)
            }, 400, "invalidSyntax"),
            ("a PATCH of the id", { try scim.patch("/Users/\(uid)", #"[{"op":"replace","path":"id","value":"x"}]"#) }, 400, "mutability"),
            ("startIndex that is not a number", { try scim.get("/Users?startIndex=one") }, 400, "invalidValue"),
            ("attributes with excludedAttributes", { try scim.get("/Users?attributes=userName&excludedAttributes=emails") }, 400, "invalidSyntax"),
            ("a stale If-Match", { try scim.send("PUT", "/Users/\(uid)", Self.user, headers: ["If-Match": #"W/"0000000000000000""#]) }, 412, nil),
            ("an unknown user", { try scim.get("/Users/6b7f5a5e-0000-4000-8000-000000000000") }, 404, nil),
            ("a PATCH of an unknown user", { try scim.patch("/Users/6b7f5a5e-0000-4000-8000-000000000000", #"[{"op":"replace","path":"active","value":false}]"#) }, 404, nil),
            ("a DELETE of an unknown group", { try scim.delete("/Groups/6b7f5a5e-0000-4000-8000-000000000000") }, 404, nil),
            ("an unknown endpoint", { try scim.get("/Widgets") }, 404, nil),
            ("an unknown schema", { try scim.get("/Schemas/urn:example:nothing") }, 404, nil),
            ("an unknown resource type", { try scim.get("/ResourceTypes/Widget") }, 404, nil),
            ("a search body with the PatchOp schema", {
                try scim.post("/Users/.search", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"filter":"userName eq \"ann@example.com\""}"#)
            }, 400, "invalidSyntax"),
            ("a form body", { try scim.send("POST", "/Users", "userName=bob", headers: ["Content-Type": "application/x-www-form-urlencoded"]) }, 415, nil),
            ("a wrong token", { try ScimClient(base: scim.base, token: "not-the-token").get("/Users") }, 401, nil),
            ("no token", { try ScimClient(base: scim.base, token: nil).get("/Users") }, 401, nil),
            ("a wrong token on a write", { try ScimClient(base: scim.base, token: d.scimToken + "x").post("/Users", Self.user) }, 401, nil),
            ("another scheme", { try scim.send("GET", "/Users", headers: ["Authorization": "Basic \(d.scimToken)"]) }, 401, nil),
        ]
        for (what, send, status, scimType) in cases {
            let before = try server.digest()
            let r = try send()
            #expect(r.status == status, "\(what): \(r.status) \(r.text)")
            #expect(r.scimType == scimType, "\(what): \(r.text)")
            #expect(r.json?.member("schemas") == .array([.string(ScimError.schema)]), "\(what): \(r.text)")
            #expect(r.json?.member("status") == .string(String(status)), "\(what): \(r.text)")
            #expect(r.headers["content-type"] == ScimRoutes.contentType, "\(what)")
            if what != "rename onto a taken userName" { #expect(try server.digest() == before, "\(what) changed the replica") }
        }
        // Only the user made by the rename case was written; nothing emitted for any refusal.
        #expect(server.takeEvents(d.id) == ["user.created"])
        #expect(try scim.get("/Users").total == 2)
        #expect(try scim.get("/Groups").resources.map { $0.member("displayName") } == [.string("Ops")])
        _ = before
    }

    @Test func methodsAreCheckedAndAnswered405WithAllow() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        let uid = try scim.createUser("ann@example.com")
        for (method, path, allow) in [("POST", "/ServiceProviderConfig", "GET"), ("DELETE", "/Schemas", "GET"),
                                      ("PUT", "/ResourceTypes/User", "GET"), ("PUT", "/Users", "GET, POST"),
                                      ("POST", "/Users/\(uid)", "GET, PUT, PATCH, DELETE"), ("GET", "/.search", "POST"),
                                      ("GET", "/Groups/.search", "POST")] {
            let r = try scim.send(method, path, method == "GET" || method == "DELETE" ? nil : "{}")
            #expect(r.status == 405 && r.headers["allow"] == allow, "\(method) \(path): \(r.status) \(r.headers)")
            #expect(r.json?.member("status") == .string("405"))
        }
    }

    @Test func wrongOrMissingTokensAndUnknownOrGoogleDirectoriesAllAnswerTheSame401() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let google = try server.directory(tenant: "globex", product: "crm", type: .google)
        let scim = ScimClient(server, d)
        _ = try scim.createUser("ann@example.com")
        let replies = [
            try ScimClient(base: scim.base, token: nil).get("/Users"),
            try ScimClient(base: scim.base, token: "wrong").get("/Users"),
            try ScimClient(base: scim.base, token: d.scimToken.uppercased()).get("/Users"),
            try ScimClient(base: server.url + "/api/scim/v2.0/6b7f5a5e-0000-4000-8000-000000000000", token: d.scimToken).get("/Users"),
            try ScimClient(base: server.url + "/api/scim/v2.0/\(google.id)", token: "").get("/Users"),
            try ScimClient(base: server.url + "/api/scim/v2.0/\(google.id)", token: d.scimToken).get("/Users"),
            // Before the route: an unknown directory's 404 would leak which ids exist.
            try ScimClient(base: server.url + "/api/scim/v2.0/6b7f5a5e-0000-4000-8000-000000000000", token: "x").get("/Nothing"),
        ]
        for r in replies {
            #expect(r.status == 401 && r.headers["www-authenticate"] == "Bearer")
            #expect(r.text == replies[0].text)
        }
        // The token is never in the access log.
        #expect(server.log.withLock { $0.count } > 0)
        #expect(!server.log.withLock { $0.joined() }.contains(d.scimToken))
    }

    @Test func oneDirectorysTokenNeverReachesAnothersUsers() throws {
        let server = try ScimServer()
        let a = try server.directory(tenant: "acme", product: "crm")
        let b = try server.directory(tenant: "globex", product: "crm")
        let scimA = ScimClient(server, a), scimB = ScimClient(server, b)
        let annA = try scimA.createUser("ann@example.com", extra: #","externalId":"ext-ann""#)
        let gA = try scimA.createGroup("Staff", members: [annA])
        let before = try server.digest()
        // B's token on A's path.
        let crossed = ScimClient(base: scimA.base, token: b.scimToken)
        #expect(try crossed.get("/Users").status == 401)
        #expect(try crossed.get("/Users/\(annA)").status == 401)
        #expect(try crossed.delete("/Users/\(annA)").status == 401)
        #expect(try crossed.post("/Users", Self.user.replacingOccurrences(of: "ann@", with: "eve@")).status == 401)
        // B's token on B's path, with A's guessed ids.
        #expect(try scimB.get("/Users/\(annA)").status == 404)
        #expect(try scimB.get("/Groups/\(gA)").status == 404)
        #expect(try scimB.put("/Users/\(annA)", Self.user).status == 404)
        #expect(try scimB.patch("/Users/\(annA)", #"[{"op":"replace","path":"active","value":false}]"#).status == 404)
        #expect(try scimB.patch("/Groups/\(gA)", #"[{"op":"add","path":"members","value":[{"value":"x"}]}]"#).status == 404)
        #expect(try scimB.delete("/Users/\(annA)").status == 404)
        #expect(try scimB.delete("/Groups/\(gA)").status == 404)
        #expect(try scimB.get("/Users").total == 0)
        #expect(try scimB.findUsers(#"userName eq "ann@example.com""#).total == 0)
        #expect(try scimB.findUsers(#"id eq "\#(annA)""#).total == 0)
        #expect(try scimB.findUsers(#"externalId eq "ext-ann""#).total == 0)
        #expect(try scimB.findGroups(#"members[value eq "\#(annA)"]"#).total == 0)
        #expect(try scimB.post("/.search", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}"#).total == 0)
        #expect(try server.digest() == before)
        // The same userName in B is another user, with another id.
        let annB = try scimB.createUser("ann@example.com")
        #expect(annB != annA)
        #expect(try scimA.get("/Users/\(annA)").status == 200 && scimA.members(gA) == [annA])
    }

    @Test func deactivatedAndDeletedDirectoriesAnswer200EmptyAndChangeNothing() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        let uid = try scim.createUser("ann@example.com")
        _ = server.takeEvents(d.id)
        try server.service.setDirectoryDeactivated(true, id: d.id)
        let before = try server.digest()
        let replies = [
            try scim.get("/Users"), try scim.get("/Users/\(uid)"), try scim.post("/Users", Self.user.replacingOccurrences(of: "ann@", with: "bob@")),
            try scim.patch("/Users/\(uid)", #"[{"op":"replace","path":"active","value":false}]"#), try scim.delete("/Users/\(uid)"),
            try scim.get("/ServiceProviderConfig"), try scim.post("/Users", "not json at all"),
        ]
        for r in replies { #expect(r.status == 200 && r.text.isEmpty, "\(r.status) \(r.text)") }
        #expect(try server.digest() == before)
        #expect(server.takeEvents(d.id) == [])
        // A wrong token is still refused: inactive is not open.
        #expect(try ScimClient(base: scim.base, token: "wrong").get("/Users").status == 401)
        try server.service.setDirectoryDeactivated(false, id: d.id)
        #expect(try scim.get("/Users/\(uid)").status == 200)
        #expect(try scim.createUser("bob@example.com").count == 36)
        try server.service.deleteDirectory(id: d.id)
        let deletedBefore = try server.digest()
        #expect(try scim.post("/Users", Self.user.replacingOccurrences(of: "ann@", with: "cid@")).status == 200)
        #expect(try scim.get("/Users").text.isEmpty)
        #expect(try server.digest() == deletedBefore)
    }

    @Test func aFailingEventSinkRollsTheChangeBack() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        let before = try server.digest()
        server.sinkFails.withLock { $0 = true }
        let r = try scim.post("/Users", Self.user)
        #expect(r.status == 500)
        let detail = try #require(r.json?.member("detail")?.stringValue)
        #expect(detail.hasPrefix("internal error ") && detail.count == "internal error ".count + 6)
        #expect(try server.digest() == before)
        // The detail is in the log, under the id the client got.
        #expect(server.log.withLock { $0.contains { $0.contains(detail) && $0.contains("refused the events") } })
        server.sinkFails.withLock { $0 = false }
        #expect(try scim.post("/Users", Self.user).status == 201)
        #expect(server.takeEvents(d.id) == ["user.created"])
    }

    @Test func hostileInputIsRefusedAndTheServerStaysUp() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        _ = try scim.createUser("ann@example.com")
        let before = try server.digest()
        // A million nested arrays (under the 1 MiB limit): refused by the depth limit.
        let deep = try scim.post("/Users", String(repeating: "[", count: 1_000_000))
        #expect(deep.status == 400 && deep.scimType == "invalidSyntax")
        let deepObjects = try scim.post("/Users", String(repeating: #"{"a":"#, count: 200_000))
        #expect(deepObjects.status == 400)
        // Filter bombs: deep parentheses, thousands of comparisons, a huge filter.
        let parens = try scim.findUsers(String(repeating: "(", count: 5000) + #"userName eq "a""# + String(repeating: ")", count: 5000))
        #expect(parens.status == 400 && parens.scimType == "invalidFilter")
        let comparisons = Array(repeating: #"userName eq \"a\""#, count: 700).joined(separator: " or ")
        let many = try scim.post("/Users/.search", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"\#(comparisons)"}"#)
        #expect(many.status == 400 && many.scimType == "invalidFilter", "\(many.text)")
        // A request line over the connection's memory is refused by the server itself.
        let long = try scim.findUsers(Array(repeating: #"userName eq "a""#, count: 3000).joined(separator: " or "))
        #expect(long.status == 414 || long.status == 431, "\(long.status) \(long.text)")
        let nots = try scim.findUsers(String(repeating: "not (", count: 2000) + #"userName pr"# + String(repeating: ")", count: 2000))
        #expect(nots.status == 400)
        let search = try scim.post("/Users/.search", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"\#(String(repeating: "a", count: 600_000))"}"#)
        #expect(search.status == 400 && search.scimType == "invalidFilter")
        // A body declared over the limit is refused from its head, before a byte of it is read.
        let client = try RawClient(port: server.port)
        client.send("POST \(d.scimPath)/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(d.scimToken)\r\n"
                    + "Content-Type: application/scim+json\r\nContent-Length: \(2 * 1024 * 1024)\r\n\r\n")
        let refused = try #require(client.readResponse(timeout: .seconds(10)))
        #expect(refused.status == 413)
        #expect(refused.body.contains("urn:ietf:params:scim:api:messages:2.0:Error"))
        // An unauthenticated body is never read either: 401 from the head.
        let stranger = try RawClient(port: server.port)
        stranger.send("POST \(d.scimPath)/Users HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        #expect(stranger.readResponse(timeout: .seconds(10))?.status == 401)
        // A chunked body passing the limit is cut off.
        let chunked = try RawClient(port: server.port)
        chunked.send("POST \(d.scimPath)/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(d.scimToken)\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = String(repeating: " ", count: 64 * 1024)
        for _ in 0..<20 { chunked.send(String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n") }
        #expect(chunked.isClosed(within: .seconds(10)))
        #expect(try server.digest() == before)
        #expect(try scim.get("/Users").total == 1)
    }

    @Test func concurrentChangesCommitTogetherYetEachIsItsOwn() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        let shared = try scim.createUser("shared@example.com")
        _ = server.takeEvents(d.id)
        let statuses = Locked<[Int]>([]), etags = Locked<[String]>([])
        let threads = 8, each = 12
        let done = DispatchGroup()
        for t in 0..<threads {
            done.enter()
            Thread {
                defer { done.leave() }
                for i in 0..<each {
                    // Half the names are wanted by two threads at once: one create wins, the other is 409.
                    let name = "u\(i)-\(i % 2 == 0 ? t / 2 : t)@example.com"
                    if let r = try? scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\#(name)"}"#) {
                        statuses.withLock { $0.append(r.status) }
                    }
                    if let p = try? scim.patch("/Users/\(shared)", #"[{"op":"replace","path":"title","value":"t\#(t)-\#(i)"}]"#),
                       p.status == 200, let tag = p.headers["etag"] {
                        etags.withLock { $0.append(tag) }
                    }
                }
            }.start()
        }
        done.wait()
        let created = statuses.withLock { $0.filter { $0 == 201 }.count }
        let conflicts = statuses.withLock { $0.filter { $0 == 409 }.count }
        // 8 threads × 12 names, of which the even-numbered are shared by pairs of threads: 6 × 4 + 6 × 8 distinct.
        #expect(created == 72 && conflicts == 24, "\(statuses.withLock { $0 })")
        #expect(try scim.get("/Users?count=0").total == 73)
        // Every PATCH is its own change: its own version, its own event.
        #expect(etags.withLock { $0.count } == threads * each)
        #expect(Set(etags.withLock { $0 }).count == threads * each)
        let events = server.takeEvents(d.id)
        #expect(events.filter { $0 == "user.created" }.count == 72 && events.filter { $0 == "user.updated" }.count == threads * each)
        #expect(try server.store.clock()[server.store.replicaID] >= UInt64(72 + threads * each))
    }

    @Test func listsPageByStartIndexAndCount() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        var ids: [String] = []
        for i in 0..<25 { ids.append(try scim.createUser(String(format: "user%02d@example.com", i))) }
        var seen: [String] = []
        var start = 1
        while true {
            let page = try scim.get("/Users?startIndex=\(start)&count=7&attributes=userName")
            #expect(page.total == 25)
            #expect(page.json?.member("startIndex") == .int(Int64(start)))
            #expect(page.json?.member("itemsPerPage") == .int(Int64(page.resources.count)))
            if page.resources.isEmpty { break }
            seen += page.resources.compactMap { $0.member("id")?.stringValue }
            #expect(page.resources.allSatisfy { $0.member("emails") == nil && $0.member("userName") != nil })
            start += 7
        }
        #expect(seen.sorted() == ids.sorted() && Set(seen).count == 25)
        // Past the end, and count=0: totals only.
        #expect(try scim.get("/Users?startIndex=100").resources.isEmpty)
        let zero = try scim.get("/Users?count=0")
        #expect(zero.total == 25 && zero.resources.isEmpty)
        // Counts and page ends remembered from the pages above are dropped when the directory
        // changes: a create and a delete between pages show at once.
        let first = try scim.get("/Users?startIndex=1&count=10")
        _ = try scim.createUser("late@example.com")
        #expect(try scim.delete("/Users/\(ids[0])").status == 204)
        let second = try scim.get("/Users?startIndex=11&count=10")
        #expect(second.total == 25 && first.total == 25)
        var rest: [String] = []
        for start in stride(from: 1, through: 25, by: 10) {
            rest += try scim.get("/Users?startIndex=\(start)&count=10").resources.compactMap { $0.member("id")?.stringValue }
        }
        #expect(rest.count == 25 && !rest.contains(ids[0]) && Set(rest).count == 25)
        // Another process writing to the file also makes them stale.
        #expect(try scim.get("/Users?count=0").total == 25)
        let other = try ReplicaStoreOpener.open(server.store.path)
        try other.write { tx in try tx.delete(id: ids[1]) }
        other.close()
        #expect(try scim.get("/Users?count=0").total == 24)
        // One directory-level search pages users then groups.
        _ = try scim.createGroup("G")
        let all = try scim.post("/.search", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":24,"count":5}"#)
        #expect(all.total == 25 && all.resources.count == 2)
        #expect(all.resources.last?.member("displayName") == .string("G"))
    }

    @Test func theHubMountsScimBesideSyncAndTheSetupPage() throws {
        let dir = testFolderPath("scim-hub")
        let store = try SetupLinkService.openStore(path: dir + "/hub.sqlite")
        defer { store.close() }
        let service = try SetupLinkService(store: store, externalURL: ScimServer.externalURL)
        let hub = try Hub(service: service, token: .fixed("peer"), configuration: HTTPServerConfiguration(port: 0))
        let port = try hub.start()
        defer { hub.stop() }
        let (link, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: "https://h.example/x", webhookSecret: "s")
        let d = try service.open(link.token).createDirectory(type: .generic)
        let scim = ScimClient(base: "http://127.0.0.1:\(port)\(d.scimPath)", token: d.scimToken)
        #expect(try scim.post("/Users", Self.user).status == 201)
        #expect(try scim.get("/Users").total == 1)
        // The hub's sink is the webhook outbox: the change's event was enqueued with it.
        #expect(try store.outbox.events(directory: d.id, limit: 100).map(\.event) == ["user.created"])
        try service.setDirectoryDeactivated(true, id: d.id)
        #expect(try scim.post("/Users", Self.user.replacingOccurrences(of: "ann@", with: "bob@")).status == 200)
        #expect(try store.outbox.events(directory: d.id, limit: 100).count == 1)
        let client = HTTPClient()
        #expect(try client.send(method: "GET", url: "http://127.0.0.1:\(port)/healthz").status == 200)
        #expect(try client.send(method: "GET", url: "http://127.0.0.1:\(port)/setup/\(link.token)").status == 200)
    }
}

/// Opens a second connection to a replica file, as another process would.
enum ReplicaStoreOpener {
    static func open(_ path: String) throws -> ReplicaStore { try SetupLinkService.openStore(path: path) }
}
