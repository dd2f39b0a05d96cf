import Events
import Foundation
import HTTP
import JSON
import Scim
import SetupLinks
import Storage
import Testing
import TestSupport
import Webhooks

/// The whole chain over real HTTP: an identity provider's SCIM requests to the
/// hub's served SCIM routes (`Hub` in process, its real sender threads), the
/// events they emit leaving through the outbox, and the Python receiver checking
/// every signature with its secret. Each event arrives once, in the order the
/// requests were answered, with the webhook payload of what the client was answered.
@Suite struct ScimOverHTTPTests {
    /// A SCIM client of one directory on a served hub.
    struct Client {
        let base: String
        let token: String

        init(_ hub: WebhookHub, _ directory: Directory) {
            base = "http://127.0.0.1:\(hub.port)" + directory.scimPath
            token = directory.scimToken
        }

        /// Sends `method path` with a JSON body; the answer's status, headers and parsed body (`.null` when empty).
        func send(_ method: String, _ path: String, _ body: String? = nil) throws -> (status: Int, headers: [String: String], json: JSONValue) {
            var headers = ["Authorization": "Bearer \(token)"]
            if body != nil { headers["Content-Type"] = "application/scim+json" }
            let r = try HTTPClient(timeout: .seconds(10)).send(method: method, url: base + path, headers: headers,
                                                                body: body.map { Array($0.utf8) })
            let json = r.body.isEmpty ? JSONValue.null : try JSONParser.parse(r.body, maxDepth: 64)
            return (r.status, r.headers, json)
        }

        /// `POST /Users`: 201; the resource answered.
        func createUser(_ userName: String, given: String, family: String) throws -> JSONValue {
            let r = try send("POST", "/Users", """
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\(userName)",
                 "name":{"givenName":"\(given)","familyName":"\(family)"},
                 "emails":[{"value":"\(userName)","type":"work","primary":true}],"active":true}
                """)
            #expect(r.status == 201, "POST /Users \(userName): \(r.status) \(r.json)")
            return r.json
        }

        /// `PATCH` with these operations; the answer.
        func patch(_ path: String, _ operations: String) throws -> (status: Int, headers: [String: String], json: JSONValue) {
            try send("PATCH", path, #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(operations)}"#)
        }
    }

    /// A user resource as an event carries it: as answered, without `groups`.
    static func eventUser(_ resource: JSONValue) -> JSONValue {
        guard case .object(let members) = resource else { return EventData.user(resource) }
        return EventData.user(.object(members.filter { $0.0 != "groups" }))
    }

    @Test func aScimSequenceOverHTTPArrivesSignedOnceAndInOrder() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/hooks/acme", secret: "whsec-acme")
        receiver.route("/hooks/globex", secret: "whsec-globex")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(tenant: "acme", product: "crm", url: receiver.url("/hooks/acme"), secret: "whsec-acme")
        let other = try hub.directory(tenant: "globex", product: "hr", url: receiver.url("/hooks/globex"), secret: "whsec-globex")
        let scim = Client(hub, d)
        // What each event's `data` must be, built from what the client was answered.
        var expected: [(type: String, data: JSONValue)] = []

        // Two users.
        var alice = try scim.createUser("alice@acme.test", given: "Alice", family: "Liddell")
        let bob = try scim.createUser("bob@acme.test", given: "Bob", family: "Builder")
        let aid = try #require(alice["id"]?.stringValue), bid = try #require(bob["id"]?.stringValue)
        expected += [("user.created", Self.eventUser(alice)), ("user.created", Self.eventUser(bob))]
        // Another tenant's directory on the same hub, meanwhile: its event goes to its own webhook only.
        let carol = try Client(hub, other).createUser("carol@globex.test", given: "Carol", family: "Danvers")

        // Entra ID's rename: a Replace of name.givenName.
        let renamed = try scim.patch("/Users/\(aid)", #"[{"op":"Replace","path":"name.givenName","value":"Alicia"}]"#)
        #expect(renamed.status == 200 && renamed.json["name"]?["givenName"]?.stringValue == "Alicia")
        alice = renamed.json
        expected.append(("user.updated", Self.eventUser(alice)))

        // A group created with a member, then Okta's member add.
        let created = try scim.send("POST", "/Groups", #"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"\#(aid)"}]}
            """#)
        #expect(created.status == 201)
        var group = created.json
        let gid = try #require(group["id"]?.stringValue)
        expected += [("group.created", EventData.group(group)),
                     ("group.user_added", EventData.membership(user: Self.eventUser(alice), groupResource: group))]
        let added = try scim.patch("/Groups/\(gid)", #"[{"op":"add","path":"members","value":[{"value":"\#(bid)"}]}]"#)
        #expect(added.status == 204)
        expected.append(("group.user_added", EventData.membership(user: Self.eventUser(bob), groupResource: group)))

        // Okta's deactivation (a path-less replace); sent again, it changes nothing and emits nothing.
        let deactivated = try scim.patch("/Users/\(aid)", #"[{"op":"replace","value":{"active":false}}]"#)
        #expect(deactivated.status == 200 && deactivated.json["active"] == .bool(false))
        #expect(deactivated.json["groups"]?.arrayValue?.count == 1, "the answer lists her group; the event does not")
        alice = deactivated.json
        expected.append(("user.updated", Self.eventUser(alice)))
        #expect(try scim.patch("/Users/\(aid)", #"[{"op":"replace","value":{"active":false}}]"#).status == 200)

        // Okta's member remove by filter, then Entra ID's rename of the group.
        let removed = try scim.patch("/Groups/\(gid)", #"[{"op":"remove","path":"members[value eq \"\#(bid)\"]"}]"#)
        #expect(removed.status == 204)
        expected.append(("group.user_removed", EventData.membership(user: Self.eventUser(bob), groupResource: group)))
        let renamedGroup = try scim.patch("/Groups/\(gid)", #"[{"op":"Replace","path":"displayName","value":"Eng (EU)"}]"#)
        #expect(renamedGroup.status == 204)
        let fetched = try scim.send("GET", "/Groups/\(gid)")
        #expect(fetched.status == 200 && fetched.json["displayName"]?.stringValue == "Eng (EU)")
        group = fetched.json
        expected.append(("group.updated", EventData.group(group)))

        // Deleting a member leaves her group first; then the group goes.
        #expect(try scim.send("DELETE", "/Users/\(aid)").status == 204)
        expected += [("group.user_removed", EventData.membership(user: Self.eventUser(alice), groupResource: group)),
                     ("user.deleted", Self.eventUser(alice))]
        #expect(try scim.send("DELETE", "/Groups/\(gid)").status == 204)
        expected.append(("group.deleted", EventData.group(group)))

        #expect(expected.map(\.type) == ["user.created", "user.created", "user.updated", "group.created", "group.user_added",
                                         "group.user_added", "user.updated", "group.user_removed", "group.updated",
                                         "group.user_removed", "user.deleted", "group.deleted"])
        try #require(try poll(until: {
            try hub.store.outbox.counts(directory: d.id).delivered == expected.count
                && hub.store.outbox.counts(directory: other.id).delivered == 1
        }, deadline: .seconds(15)), "timed out waiting for every event delivered")

        // One request per event, each verified by the receiver with the directory's secret.
        let got = receiver.received("/hooks/acme")
        #expect(got.count == expected.count, "one request per event, none repeated")
        #expect(got.allSatisfy { $0.rawOK && $0.restringifiedOK && $0.status == 200 && $0.contentType == "application/json" })
        let ids = got.flatMap(\.ids)
        #expect(ids == (try hub.events(d.id)).map { "\(hub.store.replicaID.hex):\($0.seq)" }, "each event once, in commit order")
        // In order, with the payload's fields, in their order, for this directory.
        #expect(got.map { $0.body["event"]?.stringValue } == expected.map(\.type))
        for (r, e) in zip(got, expected) {
            let body = r.body
            guard case .object(let members) = body else { Issue.record("not an object: \(r.bodyText)"); continue }
            #expect(members.map(\.0) == ["event", "tenant", "product", "directory_id", "data"])
            #expect(body["tenant"]?.stringValue == "acme" && body["product"]?.stringValue == "crm")
            #expect(body["directory_id"]?.stringValue == d.id)
            #expect(body["data"] == e.data, "\(e.type): the data of what the client was answered")
        }
        // The fields read as a receiver reads them.
        let data = got.map { $0.body["data"] ?? .null }
        #expect(data[0]["id"]?.stringValue == aid && data[0]["email"]?.stringValue == "alice@acme.test")
        #expect(data[0]["first_name"]?.stringValue == "Alice" && data[0]["last_name"]?.stringValue == "Liddell")
        #expect(data[0]["active"] == .bool(true) && data[0]["raw"]?["userName"]?.stringValue == "alice@acme.test")
        #expect(data[1]["id"]?.stringValue == bid && data[1]["email"]?.stringValue == "bob@acme.test")
        #expect(data[2]["first_name"]?.stringValue == "Alicia" && data[2]["active"] == .bool(true))
        #expect(data[3]["id"]?.stringValue == gid && data[3]["name"]?.stringValue == "Engineering")
        #expect(data[3]["raw"]?["members"] == nil, "a group's raw has no members")
        // Membership events: the user's data, the group under `group` (as Jackson sends them).
        #expect(data[4]["id"]?.stringValue == aid && data[4]["group"]?["id"]?.stringValue == gid)
        #expect(data[4]["email"]?.stringValue == "alice@acme.test" && data[4]["group"]?["name"]?.stringValue == "Engineering")
        #expect(data[4]["group"]?["raw"]?["members"] == nil, "a group's raw has no members")
        #expect(data[5]["id"]?.stringValue == bid && data[5]["email"]?.stringValue == "bob@acme.test")
        #expect(data[5]["first_name"]?.stringValue == "Bob" && data[5]["group"]?["id"]?.stringValue == gid)
        #expect(data[6]["id"]?.stringValue == aid && data[6]["active"] == .bool(false) && data[6]["raw"]?["groups"] == nil)
        #expect(data[7]["group"]?["name"]?.stringValue == "Engineering" && data[7]["id"]?.stringValue == bid)
        #expect(data[8]["id"]?.stringValue == gid && data[8]["name"]?.stringValue == "Eng (EU)")
        #expect(data[9]["group"]?["name"]?.stringValue == "Eng (EU)" && data[9]["id"]?.stringValue == aid)
        #expect(data[9]["active"] == .bool(false), "the user as she was when she left the group")
        #expect(data[10]["id"]?.stringValue == aid && data[10]["active"] == .bool(false))
        #expect(data[11]["id"]?.stringValue == gid)
        for d in data where d["raw"]?["meta"] != nil {
            #expect(d["raw"]?["meta"]?["location"]?.stringValue?.hasPrefix("https://hub.example.test/api/scim/v2.0/") == true)
        }

        // The other tenant's one event went to its own webhook, signed with its own secret.
        let theirs = receiver.received("/hooks/globex")
        #expect(theirs.count == 1 && theirs.allSatisfy { $0.rawOK && $0.status == 200 })
        #expect(theirs.first?.body["event"]?.stringValue == "user.created")
        #expect(theirs.first?.body["tenant"]?.stringValue == "globex" && theirs.first?.body["product"]?.stringValue == "hr")
        #expect(theirs.first?.body["directory_id"]?.stringValue == other.id)
        #expect(theirs.first?.body["data"] == Self.eventUser(carol))
        #expect(try hub.store.outbox.pendingCount() == 0)
    }

    @Test func aReceiverWithAnotherSecretRefusesEventsSentOverHTTP() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/strict", secret: "not-the-directorys-secret")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(url: receiver.url("/strict"), secret: "the-directorys-secret")
        _ = try Client(hub, d).createUser("eve@acme.test", given: "Eve", family: "Moneypenny")
        try #require(try poll(until: { try hub.events(d.id).first?.lastStatus == 401 }, deadline: .seconds(15)), "timed out waiting for a refused attempt")
        let refused = receiver.received("/strict")
        #expect(!refused.isEmpty && refused.allSatisfy { !$0.rawOK && !$0.restringifiedOK && $0.status == 401 })
        #expect(try hub.events(d.id).map(\.status) == [.pending])
        // With the right secret, the retry verifies.
        receiver.route("/strict", secret: "the-directorys-secret")
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == 1 }, deadline: .seconds(15)), "timed out waiting for the event delivered")
        #expect(receiver.received("/strict").last.map { $0.rawOK && $0.status == 200 } == true)
    }
}
