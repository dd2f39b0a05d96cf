import Events
import Foundation
import JSON
@testable import Scim
import SetupLinks
import Testing

/// Request bodies that clients written for Jackson send, over real HTTP: bodies
/// without `"schemas"` (Jackson never reads it; its tests, its e2e helpers and
/// its Google sync leave it out). A `schemas` that is present must still be
/// right (`ScimRoutesTests` has those refusals).
@Suite struct JacksonShapesTests {
    @Test func bodiesWithoutSchemasAreTakenAsTheEndpointsType() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)

        // POST /Users with no schemas (the shape Jackson's Google sync feeds its handlers).
        let created = try scim.post("/Users", #"""
            {"userName":"kiran@example.com","name":{"givenName":"Kiran","familyName":"K"},
             "emails":[{"primary":true,"value":"kiran@example.com","type":"work"}],"active":true}
            """#)
        #expect(created.status == 201, "\(created.text)")
        let uid = try #require(created.id)
        #expect(created.json?.member("schemas") == .array([.string(ScimSchemas.userURN)]), "the answer names its schema")
        #expect(created.json?.member("name")?.member("givenName") == .string("Kiran"))

        // PATCH /Users/<id> with only Operations: a path-less replace, then paths mixed with a path-less one.
        let off = try scim.send("PATCH", "/Users/\(uid)", #"{"Operations":[{"op":"replace","value":{"active":false}}]}"#)
        #expect(off.status == 200 && off.json?.member("active") == .bool(false), "\(off.text)")
        let renamed = try scim.send("PATCH", "/Users/\(uid)", #"""
            {"Operations":[{"op":"replace","path":"name.givenName","value":"David"},
                           {"op":"replace","path":"name.familyName","value":"Jones"},
                           {"op":"replace","value":{"active":true}}]}
            """#)
        #expect(renamed.status == 200, "\(renamed.text)")
        #expect(renamed.json?.member("name") == json(#"{"givenName":"David","familyName":"Jones"}"#))
        #expect(renamed.json?.member("active") == .bool(true))
        let custom = try scim.send("PATCH", "/Users/\(uid)", #"""
            {"Operations":[{"op":"replace","path":"companyName","value":"BoxyHQ"},{"op":"add","path":"addresses","value":[{"streetAddress":"123 Main St"}]}]}
            """#)
        #expect(custom.status == 200, "\(custom.text)")
        #expect(custom.json?.member("companyName") == .string("BoxyHQ"))

        // PUT /Users/<id> with no schemas replaces the user.
        let put = try scim.put("/Users/\(uid)", #"{"userName":"kiran@example.com","name":{"givenName":"Kiran","familyName":"K"},"active":true}"#)
        #expect(put.status == 200 && put.json?.member("companyName") == nil, "\(put.text)")

        // POST /Groups with only a displayName; Jackson's e2e member add (with its extra "action" key) and rename.
        let group = try scim.post("/Groups", #"{"displayName":"Developers"}"#)
        #expect(group.status == 201, "\(group.text)")
        let gid = try #require(group.id)
        let added = try scim.send("PATCH", "/Groups/\(gid)", #"""
            {"Operations":[{"action":"addGroupMember","op":"add","path":"members","value":[{"value":"\#(uid)"}]}]}
            """#)
        #expect(added.status == 204, "\(added.text)")
        #expect(try scim.members(gid) == [uid])
        let renamedGroup = try scim.send("PATCH", "/Groups/\(gid)", #"{"Operations":[{"op":"replace","path":"displayName","value":"New name"}]}"#)
        #expect(renamedGroup.status == 204, "\(renamedGroup.text)")
        let put2 = try scim.put("/Groups/\(gid)", #"{"displayName":"Builders","members":[{"value":"\#(uid)"}]}"#)
        #expect(put2.status == 200 && put2.json?.member("displayName") == .string("Builders"), "\(put2.text)")

        // Searches with no schemas.
        let search = try scim.post("/Users/.search", #"{"filter":"userName eq \"kiran@example.com\""}"#)
        #expect(search.status == 200 && search.total == 1 && search.resources.first?.member("id") == .string(uid), "\(search.text)")
        let all = try scim.post("/.search", #"{"count":10}"#)
        #expect(all.status == 200 && all.total == 2, "\(all.text)")

        #expect(server.takeEvents(d.id) == ["user.created", "user.updated", "user.updated", "user.updated", "user.updated",
                                            "group.created", "group.user_added", "group.updated", "group.updated"])
    }
}
