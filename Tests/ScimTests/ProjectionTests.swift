import JSON
import Testing
@testable import Scim

/// `attributes` / `excludedAttributes` over each attribute's `returned`.
@Suite struct ProjectionTests {
    static let user = json(#"""
    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
     "id":"u1","externalId":"e1","userName":"bj","name":{"givenName":"B","familyName":"J"},"title":"T",
     "emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}],"custom":1,
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","department":"D"},
     "meta":{"resourceType":"User","location":"https://x/Users/u1"}}
    """#)

    func project(_ attributes: String?, _ excluded: String?) throws -> JSONValue {
        try Projection(schema: ScimSchemas.userResource, attributes: attributes, excludedAttributes: excluded).apply(to: Self.user)
    }

    func keys(_ v: JSONValue) -> [String] { v.objectValue?.map(\.0) ?? [] }

    @Test func defaultKeepsEverythingReturnedByDefault() throws {
        #expect(try project(nil, nil) == Self.user)
        // A password never leaves, even if something put one in the resource.
        var withPassword = Self.user.objectValue!
        withPassword.append(("password", .string("x")))
        #expect(Projection(schema: ScimSchemas.userResource).apply(to: .object(withPassword)).member("password") == nil)
        #expect(try Projection(schema: ScimSchemas.userResource, attributes: "password", excludedAttributes: nil)
            .apply(to: .object(withPassword)).member("password") == nil)
    }

    @Test func attributesKeepsIdAndWhatIsNamed() throws {
        let p = try project("userName,name.givenName,emails.value", nil)
        #expect(keys(p) == ["schemas", "id", "userName", "name", "emails"])
        #expect(p.member("name") == json(#"{"givenName":"B"}"#))
        #expect(p.member("emails") == json(#"[{"value":"a@x"},{"value":"b@x"}]"#))
        #expect(p.member("schemas") == .array([.string(ScimSchemas.userURN)]))
        // Case-insensitive, URN-qualified, whole extension.
        let q = try project("USERNAME, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", nil)
        #expect(keys(q) == ["schemas", "id", "userName", ScimSchemas.enterpriseUserURN])
        #expect(q.member(ScimSchemas.enterpriseUserURN) == json(#"{"employeeNumber":"7"}"#))
        #expect(q.member("schemas")?.arrayValue?.count == 2)
        let e = try project(ScimSchemas.enterpriseUserURN, nil)
        #expect(e.member(ScimSchemas.enterpriseUserURN) == Self.user.member(ScimSchemas.enterpriseUserURN))
        #expect(try project("urn:ietf:params:scim:schemas:core:2.0:User:title", nil).member("title") == .string("T"))
        #expect(try project("meta", nil).member("meta") != nil)
        #expect(try project("custom", nil).member("custom") == .int(1))
    }

    @Test func excludedAttributesDropsWhatIsNamedButNeverId() throws {
        let p = try project(nil, "emails,name.familyName,id,custom,meta")
        #expect(keys(p) == ["schemas", "id", "externalId", "userName", "name", "title", ScimSchemas.enterpriseUserURN])
        #expect(p.member("name") == json(#"{"givenName":"B"}"#))
        let x = try project(nil, ScimSchemas.enterpriseUserURN)
        #expect(x.member(ScimSchemas.enterpriseUserURN) == nil)
        #expect(x.member("schemas") == .array([.string(ScimSchemas.userURN)]))
    }

    @Test func projectionTellsFlowsWhatToLoad() throws {
        let g = ScimSchemas.groupResource
        #expect(Projection(schema: g).includes("members"))
        #expect(try !Projection(schema: g, attributes: nil, excludedAttributes: "members").includes("members"))
        #expect(try !Projection(schema: g, attributes: "displayName", excludedAttributes: nil).includes("members"))
        #expect(try Projection(schema: g, attributes: "members.value", excludedAttributes: nil).includes("members"))
        #expect(try Projection(schema: ScimSchemas.userResource, attributes: "groups", excludedAttributes: nil).explicitlyRequests("groups"))
    }

    @Test func bothParametersOrBadNamesAreErrors() {
        #expect(scimError { _ = try Projection(schema: ScimSchemas.userResource, attributes: "userName", excludedAttributes: "title") }?.kind == .invalidSyntax)
        #expect(scimError { _ = try Projection(schema: ScimSchemas.userResource, attributes: "name..x", excludedAttributes: nil) }?.kind == .invalidSyntax)
        #expect(scimError { _ = try Projection(schema: ScimSchemas.userResource, attributes: nil, excludedAttributes: "name.nosuch") }?.kind == .invalidSyntax)
        #expect(scimError { _ = try Projection(schema: ScimSchemas.userResource, attributes: " , ", excludedAttributes: nil) } == nil)
    }

    @Test func flowsApplyTheProjectionToGroupsWithoutLoadingMembers() throws {
        let f = Fixture()
        let gid = try f.createGroup("G", members: ["u1", "u2"])
        #expect(try f.group(gid).member("members")?.arrayValue?.count == 2)
        #expect(try f.group(gid, excluded: "members").member("members") == nil)
        #expect(try f.group(gid, attributes: "members.value").member("members") == json(#"[{"value":"u1"},{"value":"u2"}]"#))
        #expect(try f.group(gid, attributes: "displayName").member("members") == nil)
    }
}

extension ProjectionTests {
    @Test func usersCarryTheirGroupsWhereCheap() throws {
        let f = Fixture()
        let uid = try f.createUser(named: "member@x")
        let gid = try f.createGroup("Team", members: [uid])
        let expected = json(#"[{"value":"\#(gid)","$ref":"\#(f.dir.baseURL)/Groups/\#(gid)","display":"Team","type":"direct"}]"#)
        #expect(try f.user(uid).member("groups") == expected)
        #expect(try f.user(uid, excluded: "groups").member("groups") == nil)
        #expect(try f.patchUser(uid, #"[{"op":"add","path":"title","value":"T"}]"#).resource.member("groups") == expected)
        // Lists leave groups out unless asked for by name.
        #expect(try f.listUsers().member("Resources")?.arrayValue?.first?.member("groups") == nil)
        let asked = try f.dir.listUsers(ListRequest(attributes: "userName,groups"), in: f.store)
        #expect(asked.member("Resources")?.arrayValue?.first?.member("groups") == expected)
        // A deleted group is not listed.
        _ = try f.dir.deleteGroup(gid, in: f.store)
        #expect(try f.user(uid).member("groups") == nil)
    }
}
