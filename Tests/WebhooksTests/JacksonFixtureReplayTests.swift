import Foundation
import HTTP
import JSON
import SetupLinks
import Testing
import TestSupport

/// The SCIM requests of Jackson's own directory-sync tests (the user and group
/// fixtures, the user PATCH fixtures, the roles sequence of its users test, its
/// e2e member add), written here in our words with the same shapes, sent to a
/// served hub as `application/json`. The webhooks they cause are received by
/// the Python receiver (which checks every signature), and each body is then
/// read by Node.js's `JSON.parse`, the way an app written for Jackson reads it:
/// the assertions are on what Node read.
@Suite struct JacksonFixtureReplayTests {
    /// A SCIM client of one directory, sending JSON as Jackson's tests do.
    struct Client {
        let base: String
        let token: String

        init(_ hub: WebhookHub, _ directory: Directory) {
            base = "http://127.0.0.1:\(hub.port)" + directory.scimPath
            token = directory.scimToken
        }

        /// Sends `method path` with `body`; the status and the parsed answer (`.null` when empty).
        @discardableResult
        func send(_ method: String, _ path: String, _ body: String, expect status: Int) throws -> JSONValue {
            let r = try HTTPClient(timeout: .seconds(10)).send(
                method: method, url: base + path,
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: Array(body.utf8))
            let json = r.body.isEmpty ? JSONValue.null : try JSONParser.parse(r.body, maxDepth: 64)
            #expect(r.status == status, "\(method) \(path): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
            return json
        }
    }

    /// What Node read from each body: `JSON.parse`, then the fields an app reads.
    static func readByNode(_ bodies: [String]) throws -> [JSONValue] {
        let node = try requires(.node)
        let script = """
            const bodies = JSON.parse(require('fs').readFileSync(0, 'utf8'));
            const read = bodies.map((text) => {
              const e = JSON.parse(text);
              const d = e.data;
              return {
                event: e.event, tenant: e.tenant, product: e.product, directory_id: e.directory_id,
                keys: Object.keys(d), id: d.id, email: d.email ?? null, first_name: d.first_name ?? null,
                last_name: d.last_name ?? null, active: d.active ?? null,
                has_roles: 'roles' in d, roles: d.roles ?? null,
                roles_are_strings: Array.isArray(d.roles) && d.roles.every((r) => typeof r === 'string'),
                group_id: d.group ? d.group.id : null, group_name: d.group ? d.group.name : null,
                group_keys: d.group ? Object.keys(d.group) : null,
                user_name: d.raw ? d.raw.userName ?? null : null,
              };
            });
            process.stdout.write(JSON.stringify(read));
            """
        let run = try runChild(URL(fileURLWithPath: node), ["-e", script],
                               input: String(decoding: JSONWriter.write(.array(bodies.map(JSONValue.string))), as: UTF8.self))
        try #require(run.status == 0, "node: \(run.stderr)")
        return try #require(try JSONParser.parse(Array(run.stdout.utf8), maxDepth: 16).arrayValue)
    }

    @Test func jacksonsFixtureRequestsGiveTheEventsItsAppsRead() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/dsync", secret: "whsec-replay")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(tenant: "boxyhq", product: "saas", url: receiver.url("/dsync"), secret: "whsec-replay")
        let scim = Client(hub, d)

        // The second user of Jackson's users fixture: its roles test creates it, then replaces it three times.
        let kiranBody = #"""
            "userName":"kiran@boxyhq.com","name":{"givenName":"Kiran","familyName":"K"},
            "emails":[{"primary":true,"value":"kiran@boxyhq.com","type":"work"}],
            "displayName":"Kiran K","locale":"en-US","externalId":"00u1b1hpjh91GaknX5d7","groups":[],"active":true
            """#
        let kiran = try scim.send("POST", "/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],\#(kiranBody)}"#, expect: 201)
        let kid = try #require(kiran["id"]?.stringValue)
        try scim.send("PUT", "/Users/\(kid)", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],\#(kiranBody),"roles":["viewer"]}"#, expect: 200)
        try scim.send("PUT", "/Users/\(kid)", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],\#(kiranBody),"roles":"viewer,editor"}"#, expect: 200)
        try scim.send("PUT", "/Users/\(kid)", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],\#(kiranBody)}"#, expect: 200)

        // The first user, created without schemas, then Jackson's user PATCH fixtures (none has schemas).
        let jackson = try scim.send("POST", "/Users", #"""
            {"userName":"jackson@boxyhq.com","name":{"givenName":"Jackson","familyName":"M"},
             "emails":[{"primary":true,"value":"jackson@boxyhq.com","type":"work"}],
             "displayName":"Jackson M","locale":"en-US","externalId":"00u5b1hpjh9tGaknX5d7","groups":[],"active":true}
            """#, expect: 201)
        let jid = try #require(jackson["id"]?.stringValue)
        try scim.send("PATCH", "/Users/\(jid)", #"{"Operations":[{"op":"replace","value":{"active":false}}]}"#, expect: 200)
        try scim.send("PATCH", "/Users/\(jid)", #"""
            {"Operations":[{"op":"replace","path":"name.givenName","value":"David"},
                           {"op":"replace","path":"name.familyName","value":"Jones"},
                           {"op":"replace","value":{"active":false}}]}
            """#, expect: 200)
        let custom = try scim.send("PATCH", "/Users/\(jid)", #"""
            {"Operations":[{"op":"replace","path":"companyName","value":"BoxyHQ"},{"op":"add","path":"address.streetAddress","value":"123 Main St"}]}
            """#, expect: 200)
        #expect(custom["companyName"]?.stringValue == "BoxyHQ" && custom["address"]?["streetAddress"]?.stringValue == "123 Main St")
        try scim.send("PATCH", "/Users/\(jid)", #"{"Operations":[{"op":"replace","path":"roles","value":"admin, auditor"}]}"#, expect: 200)

        // The groups fixture's first group, Kiran added as the group tests add members, Jackson
        // as the e2e helper adds them (no schemas, an extra "action"), and the e2e test's unknown member.
        let group = try scim.send("POST", "/Groups", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Developers","members":[]}"#,
                                  expect: 201)
        let gid = try #require(group["id"]?.stringValue)
        try scim.send("PATCH", "/Groups/\(gid)", #"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"\#(kid)"}]}]}
            """#, expect: 204)
        for member in [jid, "member1"] {
            try scim.send("PATCH", "/Groups/\(gid)", #"""
                {"Operations":[{"action":"addGroupMember","op":"add","path":"members","value":[{"value":"\#(member)"}]}]}
                """#, expect: 204)
        }
        try scim.send("PATCH", "/Groups/\(gid)", #"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"\#(kid)\"]"}]}
            """#, expect: 204)

        let expected = ["user.created", "user.updated", "user.updated", "user.updated",
                        "user.created", "user.updated", "user.updated", "user.updated", "user.updated",
                        "group.created", "group.user_added", "group.user_added", "group.user_added", "group.user_removed"]
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == expected.count },
                              deadline: .seconds(15)), "timed out waiting for every event delivered")
        let got = receiver.received("/dsync")
        #expect(got.count == expected.count && got.allSatisfy { $0.rawOK && $0.status == 200 }, "each once, each signature verified")

        let read = try Self.readByNode(got.map(\.bodyText))
        try #require(read.count == expected.count)
        #expect(read.map { $0["event"]?.stringValue } == expected)
        #expect(read.allSatisfy { $0["tenant"]?.stringValue == "boxyhq" && $0["product"]?.stringValue == "saas" && $0["directory_id"]?.stringValue == d.id })
        func roles(_ k: Int) -> [String]? { read[k]["roles"]?.arrayValue?.compactMap(\.stringValue) }

        // Jackson's roles sequence: none, ["viewer"], "viewer,editor", none again.
        #expect(read[0]["id"]?.stringValue == kid && read[0]["email"]?.stringValue == "kiran@boxyhq.com")
        #expect(read[0]["first_name"]?.stringValue == "Kiran" && read[0]["last_name"]?.stringValue == "K")
        #expect(read[0]["has_roles"] == .bool(false), "created without roles: no roles key")
        #expect(roles(1) == ["viewer"] && read[1]["roles_are_strings"] == .bool(true))
        #expect(roles(2) == ["viewer", "editor"] && read[2]["roles_are_strings"] == .bool(true))
        #expect(read[3]["has_roles"] == .bool(false), "a PUT without roles leaves no roles key")
        #expect(read[0...3].allSatisfy { $0["id"]?.stringValue == kid })

        // The PATCH fixtures, read back.
        #expect(read[4]["id"]?.stringValue == jid && read[4]["first_name"]?.stringValue == "Jackson" && read[4]["active"] == .bool(true))
        #expect(read[5]["active"] == .bool(false))
        #expect(read[6]["first_name"]?.stringValue == "David" && read[6]["last_name"]?.stringValue == "Jones")
        #expect(read[7]["user_name"]?.stringValue == "jackson@boxyhq.com")
        #expect(roles(8) == ["admin", "auditor"])

        #expect(read[9]["id"]?.stringValue == gid && read[9]["keys"] == json(#"["id","name","raw"]"#))

        // Membership events: data is the user, the group under data.group.
        #expect(read[10]["id"]?.stringValue == kid && read[10]["email"]?.stringValue == "kiran@boxyhq.com")
        #expect(read[10]["first_name"]?.stringValue == "Kiran" && read[10]["has_roles"] == .bool(false))
        #expect(read[10]["group_id"]?.stringValue == gid && read[10]["group_name"]?.stringValue == "Developers")
        #expect(read[10]["group_keys"] == json(#"["id","name","raw"]"#))
        #expect(read[10]["keys"] == json(#"["id","email","first_name","last_name","active","raw","group"]"#))
        #expect(read[11]["id"]?.stringValue == jid && read[11]["email"]?.stringValue == "jackson@boxyhq.com")
        #expect(read[11]["first_name"]?.stringValue == "David" && roles(11) == ["admin", "auditor"])
        #expect(read[11]["group_id"]?.stringValue == gid && read[11]["group_name"]?.stringValue == "Developers")
        // A member that is no user here: its value as id, and the group.
        #expect(read[12]["keys"] == json(#"["id","group"]"#) && read[12]["id"]?.stringValue == "member1")
        #expect(read[12]["group_id"]?.stringValue == gid)
        #expect(read[13]["id"]?.stringValue == kid && read[13]["group_id"]?.stringValue == gid && read[13]["email"]?.stringValue == "kiran@boxyhq.com")
    }
}
