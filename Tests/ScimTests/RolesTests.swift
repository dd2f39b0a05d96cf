import Events
import JSON
@testable import Scim
import SetupLinks
import Testing

/// A user's `roles` as Jackson takes them (`"viewer,editor"`, `["viewer"]`) and as
/// SCIM defines them (role objects), stored in SCIM's form and sent in events as
/// `data.roles`, the role names.
@Suite struct RolesTests {
    static let user = #""userName":"kiran@example.com","name":{"givenName":"Kiran","familyName":"K"},"emails":[{"primary":true,"value":"kiran@example.com","type":"work"}],"active":true"#

    /// The user's stored roles as GET answers them.
    static func roles(_ scim: ScimClient, _ uid: String) throws -> JSONValue? {
        try scim.get("/Users/\(uid)").json?.member("roles")
    }

    /// The `data.roles` of the one event `server` received last for `d`, or nil when it has no `roles` key.
    static func eventRoles(_ server: ScimServer, _ d: Directory, _ kind: String) throws -> JSONValue? {
        let events = server.takeDirectoryEvents(d.id)
        try #require(events.map(\.name) == [kind], "\(events.map(\.name))")
        let data = events[0].data
        // Where Jackson puts it: after active, before raw; raw keeps SCIM's role objects.
        let keys = data.objectValue?.map(\.0) ?? []
        #expect(keys == ["id", "email", "first_name", "last_name", "active"] + (data.member("roles") == nil ? [] : ["roles"]) + ["raw"])
        // The names are the values of the role objects `raw` holds, in order.
        let stored = data.member("raw")?.member("roles")?.arrayValue?.compactMap { $0.member("value") }
        #expect(data.member("roles")?.arrayValue == stored)
        return data.member("roles")
    }

    @Test func everyFormIsStoredAsRoleObjectsAndSentAsNames() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)

        // A comma-separated string: parts trimmed, empty parts dropped.
        let created = try scim.post("/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],\#(Self.user),"roles":" viewer, editor ,,admin"}"#)
        #expect(created.status == 201, "\(created.text)")
        let uid = try #require(created.id)
        #expect(created.json?.member("roles") == json(#"[{"value":"viewer"},{"value":"editor"},{"value":"admin"}]"#))
        #expect(try Self.roles(scim, uid) == json(#"[{"value":"viewer"},{"value":"editor"},{"value":"admin"}]"#))
        #expect(try Self.eventRoles(server, d, "user.created") == json(#"["viewer","editor","admin"]"#))

        // An array of strings; then SCIM's role objects mixed with a string.
        #expect(try scim.put("/Users/\(uid)", #"{\#(Self.user),"roles":["viewer"]}"#).status == 200)
        #expect(try Self.roles(scim, uid) == json(#"[{"value":"viewer"}]"#))
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["viewer"]"#))
        #expect(try scim.put("/Users/\(uid)", #"{\#(Self.user),"roles":[{"value":"owner","display":"Owner","primary":true},"auditor"]}"#).status == 200)
        #expect(try Self.roles(scim, uid) == json(#"[{"value":"owner","display":"Owner","primary":true},{"value":"auditor"}]"#))
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["owner","auditor"]"#))

        // A PUT without roles removes them: no roles key at all.
        #expect(try scim.put("/Users/\(uid)", #"{\#(Self.user)}"#).status == 200)
        #expect(try Self.roles(scim, uid) == nil)
        #expect(try Self.eventRoles(server, d, "user.updated") == nil)

        // PATCH with path "roles" takes the same forms: replace, add, and remove by names.
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"replace","path":"roles","value":"a,b"}]"#).status == 200)
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["a","b"]"#))
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"add","path":"roles","value":"c, d"}]"#).status == 200)
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["a","b","c","d"]"#))
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"add","path":"roles","value":["d","e"]}]"#).status == 200)
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["a","b","c","d","e"]"#), "d is there already")
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"remove","path":"roles","value":"a, c"}]"#).status == 200)
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["b","d","e"]"#))
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"remove","path":"roles","value":["e"]}]"#).status == 200)
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["b","d"]"#))
        // A path-less replace naming roles, then one role object added alone (SCIM's single value).
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"replace","value":{"roles":"x"}}]"#).status == 200)
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["x"]"#))
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"add","path":"roles","value":{"value":"y"}}]"#).status == 200)
        #expect(try Self.roles(scim, uid) == json(#"[{"value":"x"},{"value":"y"}]"#))
        #expect(try Self.eventRoles(server, d, "user.updated") == json(#"["x","y"]"#))

        // Membership events carry the user's roles too.
        let gid = try scim.createGroup("Developers")
        _ = server.takeDirectoryEvents(d.id)
        #expect(try scim.patch("/Groups/\(gid)", #"[{"op":"add","path":"members","value":[{"value":"\#(uid)"}]}]"#).status == 204)
        let added = server.takeDirectoryEvents(d.id)
        #expect(added.map(\.name) == ["group.user_added"])
        #expect(added.first?.data.member("roles") == json(#"["x","y"]"#))
        #expect(added.first?.data.objectValue?.map(\.0) == ["id", "email", "first_name", "last_name", "active", "roles", "raw", "group"])

        // A replace with an empty string, or with only commas and spaces, leaves no roles.
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"replace","path":"roles","value":" , "}]"#).status == 200)
        #expect(try Self.roles(scim, uid) == nil)
        #expect(try Self.eventRoles(server, d, "user.updated") == nil)
        let empty = try scim.post("/Users", #"{"userName":"empty@example.com","roles":""}"#)
        #expect(empty.status == 201 && empty.json?.member("roles") == nil, "\(empty.text)")
        #expect(try Self.eventRoles(server, d, "user.created") == nil)
    }

    @Test func rolesOfAnotherTypeAreRefusedAndChangeNothing() throws {
        let server = try ScimServer()
        let d = try server.directory()
        let scim = ScimClient(server, d)
        let uid = try scim.createUser("ann@example.com", extra: #","roles":"viewer""#)
        _ = server.takeEvents(d.id)
        let cases: [(String, () throws -> ScimReply)] = [
            ("a POST with a number", { try scim.post("/Users", #"{"userName":"bob@example.com","roles":5}"#) }),
            ("a POST with one object", { try scim.post("/Users", #"{"userName":"bob@example.com","roles":{"value":"viewer"}}"#) }),
            ("a POST with a boolean", { try scim.post("/Users", #"{"userName":"bob@example.com","roles":true}"#) }),
            ("a PUT with a number", { try scim.put("/Users/\(uid)", #"{"userName":"ann@example.com","roles":42}"#) }),
            ("a PUT with a number in the array", { try scim.put("/Users/\(uid)", #"{"userName":"ann@example.com","roles":["viewer",7]}"#) }),
            ("a PATCH replace with a number", { try scim.patch("/Users/\(uid)", #"[{"op":"replace","path":"roles","value":3}]"#) }),
            ("a path-less PATCH with a number", { try scim.patch("/Users/\(uid)", #"[{"op":"replace","value":{"roles":3}}]"#) }),
            ("a PATCH remove with a boolean", { try scim.patch("/Users/\(uid)", #"[{"op":"remove","path":"roles","value":false}]"#) }),
        ]
        for (what, send) in cases {
            let before = try server.digest()
            let r = try send()
            #expect(r.status == 400 && r.scimType == "invalidValue", "\(what): \(r.status) \(r.text)")
            #expect(r.json?.member("detail")?.stringValue?.contains("roles") == true, "\(what): \(r.text)")
            #expect(try server.digest() == before, "\(what) changed the replica")
        }
        #expect(server.takeEvents(d.id).isEmpty)
        #expect(try Self.roles(scim, uid) == json(#"[{"value":"viewer"}]"#))
        #expect(try scim.get("/Users").total == 1)
    }

    @Test func theShorthandIsReadAsJacksonWritesIt() throws {
        func roles(_ v: String, allowsOne: Bool = false) throws -> JSONValue {
            try Normalizer.roles(json(v), path: "roles", allowsOne: allowsOne)
        }
        #expect(try roles(#""viewer,editor""#) == json(#"[{"value":"viewer"},{"value":"editor"}]"#))
        #expect(try roles(#""\tviewer ,\n editor, ""#) == json(#"[{"value":"viewer"},{"value":"editor"}]"#))
        #expect(try roles(#""""#) == json("[]"))
        #expect(try roles(#""Zoë Admin""#) == json(#"[{"value":"Zoë Admin"}]"#), "spaces inside a name stay")
        #expect(try roles(#"[" a ","",{"value":"b","type":"t"},null]"#) == json(#"[{"value":"a"},null,{"value":"b","type":"t"},null]"#))
        #expect(try roles("null") == .null)
        #expect(try roles(#"{"value":"one"}"#, allowsOne: true) == json(#"{"value":"one"}"#))
        for bad in ["5", "true", #"{"value":"one"}"#] {
            #expect(scimError { _ = try roles(bad) }?.kind == .invalidValue, "\(bad)")
        }
        // The checks that follow drop the nulls and hold a role object to the schema.
        let attrs = try Normalizer.resource(json(#"{"userName":"x","roles":["a","",{"value":"b"}]}"#), schema: ScimSchemas.userResource)
        #expect(attrs.member("roles") == json(#"[{"value":"a"},{"value":"b"}]"#))
        #expect(scimError { _ = try Normalizer.resource(json(#"{"userName":"x","roles":[{"value":5}]}"#), schema: ScimSchemas.userResource) }?.kind
            == .invalidValue)
    }
}
