import Dates
import Events
import JSON
import Replica
import SetupLinks
import Testing
@testable import Scim

/// Record ↔ resource: exact round trips, register layout, validation of incoming resources.
@Suite struct ResourceMappingTests {
    static let rich = #"""
    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:example:custom:1.0:User"],
     "userName":"round@trip.example","externalId":"E-1",
     "name":{"givenName":"Ro","familyName":"Trip","x-pronunciation":"ro trip"},
     "emails":[{"value":"r@t.example","type":"work","primary":true,"verified":"yes"}],
     "addresses":[{"streetAddress":"1 Main St","locality":"Springfield","country":"US","geo":{"lat":1.5,"lon":-2.25}}],
     "favoriteNumbers":[3,1.25,-7,12345678901234],
     "nested":{"deep":{"deeper":[null,true,{"k":"v"}]}},
     "unicode":"naïve 👩‍💻 \u0000\n",
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"9","manager":{"value":"m","$ref":"https://x/Users/m"},"shoeSize":44},
     "urn:example:custom:1.0:User":{"color":"blue","tags":["a","b"]}}
    """#

    @Test func unknownAttributesAndExtensionsRoundTripExactly() throws {
        let f = Fixture()
        let body = json(Self.rich)
        let id = try f.createUser(Self.rich)
        let got = try f.user(id)
        for (key, value) in body.objectValue! where key != "schemas" {
            #expect(got.member(key) == value, "\(key): \(got.member(key).map(ResourceMapping.text) ?? "nil")")
        }
        #expect(same(got.member("schemas"), body.member("schemas")))
        // Through the replica: a record decoded on another replica renders the same resource.
        let copy = try Record(id: id, kind: .user, fields: f.store.record(id)!.fields,
                              deleted: f.store.record(id)!.deletedRegister, clock: f.store.record(id)!.clock)
        #expect(ResourceMapping.resource(copy, schema: f.users, baseURL: f.dir.baseURL) == got)
    }

    @Test func registersHoldOneAttributeEach() throws {
        let f = Fixture()
        let r = try f.dir.createUser(json(Self.rich), in: f.store).record
        let names = r.fields.map(\.name)
        #expect(names.contains("a:userName"))
        #expect(names.contains("a:name"))
        #expect(names.contains("a:urn:example:custom:1.0:User"))
        #expect(names.contains("e:\(ScimSchemas.enterpriseUserURN):employeeNumber"))
        #expect(names.contains("e:\(ScimSchemas.enterpriseUserURN):shoeSize"))
        #expect(r["a:userName"] == #""round@trip.example""#)
        #expect(r[ScimRecords.userNameKeyField] == "round@trip.example")
        #expect(r[ScimRecords.externalIdField] == "E-1")
        #expect(r[ScimRecords.directoryField] == Fixture.directoryID)
        for hidden in ["a:password", "a:schemas", "a:meta", "a:id", "a:groups"] { #expect(!names.contains(hidden)) }
    }

    @Test func metaCarriesTimesLocationAndVersion() throws {
        let f = Fixture()
        let id = try f.createUser(named: "meta@x")
        let meta = try f.user(id).member("meta")!
        #expect(meta.member("resourceType") == .string("User"))
        #expect(meta.member("location") == .string("https://hub.example/api/scim/v2.0/\(Fixture.directoryID)/Users/\(id)"))
        let version = meta.member("version")?.stringValue ?? ""
        #expect(version.hasPrefix("W/\"") && version.count == 20)
        #expect(DateTime.milliseconds(meta.member("created")!.stringValue!) != nil)
        let v2 = try f.patchUser(id, #"[{"op":"add","path":"title","value":"T"}]"#).resource.member("meta")?.member("version")
        #expect(v2 != .string(version))
        // If-Match: the current version passes, an old one is 412.
        #expect(scimError { _ = try f.dir.patchUser(id, json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"U"}]}"#), ifMatch: version, in: f.store) }?.status == 412)
        #expect(throws: Never.self) {
            _ = try f.dir.patchUser(id, json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"U"}]}"#), ifMatch: v2?.stringValue, in: f.store)
        }
        #expect(throws: Never.self) { _ = try f.dir.deleteUser(id, ifMatch: "*", in: f.store) }
    }

    @Test func putClearsWhatItLeavesOut() throws {
        let f = Fixture()
        let id = try f.createUser(Self.rich)
        let o = try f.dir.replaceUser(id, json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"round@trip.example","title":"Only"}"#), in: f.store)
        let u = o.resource
        #expect(u.member("title") == .string("Only"))
        for gone in ["name", "emails", "nested", "externalId", ScimSchemas.enterpriseUserURN, "urn:example:custom:1.0:User"] {
            #expect(u.member(gone) == nil, "\(gone)")
        }
        #expect(u.member("schemas") == .array([.string(ScimSchemas.userURN)]))
        #expect(o.record[ScimRecords.externalIdField] == "")
    }

    @Test func invalidResourcesGetTheRightErrors() {
        let f = Fixture()
        func e(_ body: String) -> ScimError? { scimError { try f.createUser(body) } }
        let core = #""schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]"#
        #expect(e("[]")?.kind == .invalidSyntax)
        #expect(e(#"{"schemas":[],"userName":"x"}"#)?.kind == .invalidSyntax)
        #expect(e(#"{"schemas":null,"userName":"x"}"#)?.kind == .invalidSyntax)
        #expect(e(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"x"}"#)?.kind == .invalidSyntax)
        #expect(e(#"{"schemas":"urn:ietf:params:scim:schemas:core:2.0:User","userName":"x"}"#)?.kind == .invalidSyntax)
        #expect(e("{\(core)}")?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":"  "}"#)?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":42}"#)?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":"x","active":"sometimes"}"#)?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":"x","emails":{"value":"a@b"}}"#)?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":"x","name":"Just A String"}"#)?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":"x","emails":[{"value":"a","primary":true},{"value":"b","primary":true}]}"#)?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":"x","UserName":"y"}"#)?.kind == .invalidSyntax)
        #expect(e(#"{\#(core),"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"no"}"#)?.kind == .invalidValue)
        #expect(e(#"{\#(core),"userName":"\#(String(repeating: "u", count: 1025))"}"#)?.kind == .invalidValue)
        let many = (0..<201).map { #""k\#($0)":1"# }.joined(separator: ",")
        #expect(e(#"{\#(core),"userName":"x",\#(many)}"#)?.kind == .invalidValue)
        #expect(scimError { _ = try ScimDirectory.parseBody(Array("{\"a\":".utf8)) }?.kind == .invalidSyntax)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(scimError { _ = try ScimDirectory.parseBody(Array(deep.utf8)) }?.kind == .invalidSyntax)
        // Nothing was written by any of them.
        #expect(f.store.replica.records.isEmpty)
    }

    @Test func stringBooleansAndCanonicalNamesAreNormalized() throws {
        let f = Fixture()
        let id = try f.createUser(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"USERNAME":"n@x","Active":"False","EMAILS":[{"VALUE":"n@x","Primary":"True"}]}"#)
        let u = try f.user(id)
        #expect(u.member("active") == .bool(false))
        #expect(u.member("emails") == json(#"[{"value":"n@x","primary":true}]"#))
        #expect(u.objectValue!.contains { $0.0 == "userName" })
    }

    @Test func webhookDataHasTheSpecFields() throws {
        let f = Fixture()
        let o = try f.dir.createUser(json(Self.rich), in: f.store)
        let d = EventData.user(o.resource)
        #expect(d.objectValue?.map(\.0) == ["id", "email", "first_name", "last_name", "active", "raw"])
        #expect(d.member("email") == .string("r@t.example"))
        #expect(d.member("first_name") == .string("Ro"))
        #expect(d.member("last_name") == .string("Trip"))
        #expect(d.member("active") == .bool(true))
        #expect(d.member("raw") == o.resource)
        let g = try f.dir.createGroup(json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops","members":[{"value":"\#(o.record.id)"}]}"#), in: f.store)
        #expect(g.events.map(\.name) == ["group.created", "group.user_added"])
        // A membership event is the user's data with the group under `group`, last (Jackson's shape).
        let gd = g.events[1].data
        #expect(gd.objectValue?.map(\.0) == ["id", "email", "first_name", "last_name", "active", "raw", "group"])
        #expect(gd.member("id") == .string(o.record.id))
        #expect(gd.member("email") == .string("r@t.example"))
        #expect(gd.member("raw") == o.resource)
        let group = try #require(gd.member("group"))
        #expect(group.objectValue?.map(\.0) == ["id", "name", "raw"])
        #expect(group.member("id") == .string(g.record.id))
        #expect(group.member("name") == .string("Ops"))
        #expect(group.member("raw")?.member("members") == nil)
        #expect(group == g.events[0].data, "the group as group.created sent it")
    }

    @Test func aMembershipEventOfAMemberThatIsNoUserHereCarriesItsIdAndTheGroup() throws {
        let f = Fixture()
        let gid = try f.createGroup("Ops")
        let groupData = EventData.group(try f.group(gid))
        // A member value no user of this replica has (a user created on another hub, not synced yet).
        let added = try f.patchGroup(gid, #"[{"op":"add","path":"members","value":[{"value":"elsewhere-1"}]}]"#)
        #expect(added.events.map(\.name) == ["group.user_added"])
        #expect(added.events[0].data == .object([("id", .string("elsewhere-1")), ("group", groupData)]))
        let removed = try f.patchGroup(gid, #"[{"op":"remove","path":"members[value eq \"elsewhere-1\"]"}]"#)
        #expect(removed.events.map(\.name) == ["group.user_removed"])
        #expect(removed.events[0].data == .object([("id", .string("elsewhere-1")), ("group", groupData)]))
    }
}
