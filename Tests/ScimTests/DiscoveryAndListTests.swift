import JSON
import Replica
import SetupLinks
import Testing
@testable import Scim

/// Discovery documents, error and list shapes, paging, search bodies and tenant isolation.
@Suite struct DiscoveryAndListTests {
    static let base = "https://hub.example/api/scim/v2.0/d1"

    @Test func serviceProviderConfigSaysWhatIsSupported() {
        let c = Discovery.serviceProviderConfig(baseURL: Self.base)
        #expect(c.member("schemas") == .array([.string(Discovery.serviceProviderConfigURN)]))
        #expect(c.member("patch")?.member("supported") == .bool(true))
        #expect(c.member("bulk")?.member("supported") == .bool(false))
        #expect(c.member("filter") == json(#"{"supported":true,"maxResults":1000}"#))
        #expect(c.member("changePassword")?.member("supported") == .bool(false))
        #expect(c.member("sort")?.member("supported") == .bool(false))
        #expect(c.member("etag")?.member("supported") == .bool(true))
        #expect(c.member("authenticationSchemes")?.arrayValue?.first?.member("type") == .string("oauthbearertoken"))
        #expect(c.member("meta")?.member("location") == .string(Self.base + "/ServiceProviderConfig"))
    }

    @Test func resourceTypesNameTheirSchemasAndExtensions() {
        let list = Discovery.resourceTypesList(baseURL: Self.base)
        #expect(list.member("totalResults") == .int(2))
        let user = Discovery.resourceType(id: "user", baseURL: Self.base)
        #expect(user?.member("endpoint") == .string("/Users"))
        #expect(user?.member("schema") == .string(ScimSchemas.userURN))
        #expect(user?.member("schemaExtensions") == json(#"[{"schema":"\#(ScimSchemas.enterpriseUserURN)","required":false}]"#))
        #expect(Discovery.resourceType(id: "Group", baseURL: Self.base)?.member("schemaExtensions") == .array([]))
        #expect(Discovery.resourceType(id: "Widget", baseURL: Self.base) == nil)
    }

    @Test func schemasDescribeEveryAttribute() throws {
        let list = Discovery.schemasList(baseURL: Self.base)
        let names = list.member("Resources")?.arrayValue?.compactMap { $0.member("name")?.stringValue }
        #expect(names == ["User", "EnterpriseUser", "Group", "ServiceProviderConfig", "ResourceType", "Schema"])
        let user = try #require(Discovery.schema(id: ScimSchemas.userURN.uppercased(), baseURL: Self.base))
        let attrs = user.member("attributes")?.arrayValue ?? []
        func attr(_ n: String) -> JSONValue? { attrs.first { $0.member("name") == .string(n) } }
        #expect(attr("userName")?.member("uniqueness") == .string("server"))
        #expect(attr("userName")?.member("required") == .bool(true))
        #expect(attr("userName")?.member("caseExact") == .bool(false))
        #expect(attr("password")?.member("returned") == .string("never"))
        #expect(attr("password")?.member("mutability") == .string("writeOnly"))
        #expect(attr("groups")?.member("mutability") == .string("readOnly"))
        #expect(attr("emails")?.member("subAttributes")?.arrayValue?.count == 4)
        // The common attributes are not published (RFC 7643 §3.1).
        #expect(attr("id") == nil && attr("externalId") == nil && attr("meta") == nil)
        let group = try #require(Discovery.schema(id: ScimSchemas.groupURN, baseURL: Self.base))
        let members = group.member("attributes")?.arrayValue?.first { $0.member("name") == .string("members") }
        let ref = members?.member("subAttributes")?.arrayValue?.first { $0.member("name") == .string("$ref") }
        #expect(ref?.member("referenceTypes") == json(#"["User","Group"]"#))
        #expect(Discovery.schema(id: "urn:nope", baseURL: Self.base) == nil)
        // Every attribute document has the qualities a client needs.
        for s in list.member("Resources")?.arrayValue ?? [] {
            for a in s.member("attributes")?.arrayValue ?? [] {
                for q in ["name", "type", "multiValued", "description", "required", "mutability", "returned", "uniqueness"] {
                    #expect(a.member(q) != nil, "\(s.member("name")!) \(a.member("name")!) lacks \(q)")
                }
            }
        }
    }

    @Test func errorAndListShapes() {
        let e = ScimError.invalidFilter("bad").responseBody
        #expect(e == json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"bad"}"#))
        #expect(ScimError.notFound("x").responseBody.member("scimType") == nil)
        #expect(ScimError.notFound("x").responseBody.member("status") == .string("404"))
        let l = ListResponse.body(totalResults: 5, startIndex: 3, resources: [.object([])])
        #expect(l == json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":5,"startIndex":3,"itemsPerPage":1,"Resources":[{}]}"#))
    }

    @Test func listRequestsFromQueriesAndSearchBodies() throws {
        let q = try ListRequest.fromQuery([("filter", #"userName eq "x""#), ("StartIndex", "3"), ("COUNT", "5"),
                                           ("attributes", "userName"), ("sortBy", "userName")])
        #expect(q == ListRequest(filter: #"userName eq "x""#, startIndex: 3, count: 5, attributes: "userName"))
        #expect(scimError { _ = try ListRequest.fromQuery([("count", "ten")]) }?.kind == .invalidValue)
        #expect(ListRequest(startIndex: -4, count: 100_000).effectiveStartIndex == 1)
        #expect(ListRequest(count: 100_000).effectiveCount == ListRequest.maxCount)
        #expect(ListRequest(count: -1).effectiveCount == 0)
        let s = try ListRequest.fromSearchBody(json(#"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"title pr",
             "startIndex":2,"count":1,"excludedAttributes":["emails","name"]}
            """#))
        #expect(s == ListRequest(filter: "title pr", startIndex: 2, count: 1, excludedAttributes: "emails,name"))
        // Without schemas the body is a SearchRequest still (Jackson's clients leave it out); another message's is refused.
        #expect(try ListRequest.fromSearchBody(json(#"{"filter":"title pr","count":3}"#)) == ListRequest(filter: "title pr", count: 3))
        #expect(scimError { _ = try ListRequest.fromSearchBody(json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"filter":"title pr"}"#)) }?.kind == .invalidSyntax)
        #expect(scimError { _ = try ListRequest.fromSearchBody(json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":"1"}"#)) }?.kind == .invalidSyntax)
    }

    @Test func pagingIsOneBasedAndItemsPerPageIsWhatIsReturned() throws {
        let f = Fixture()
        var ids: [String] = []
        for i in 0..<7 { ids.append(try f.createUser(named: "p\(i)", extra: i % 2 == 0 ? #","title":"even""# : "")) }
        ids.sort()
        let all = try f.listUsers()
        #expect(all.member("totalResults") == .int(7))
        #expect(all.member("Resources")?.arrayValue?.compactMap { $0.member("id")?.stringValue } == ids)
        let page = try f.listUsers(startIndex: 3, count: 2)
        #expect(page.member("startIndex") == .int(3))
        #expect(page.member("itemsPerPage") == .int(2))
        #expect(page.member("Resources")?.arrayValue?.compactMap { $0.member("id")?.stringValue } == Array(ids[2..<4]))
        let tail = try f.listUsers(startIndex: 6, count: 10)
        #expect(tail.member("itemsPerPage") == .int(2))
        let past = try f.listUsers(startIndex: 50)
        #expect(past.member("totalResults") == .int(7))
        #expect(past.member("itemsPerPage") == .int(0))
        let none = try f.listUsers(count: 0)
        #expect(none.member("totalResults") == .int(7) && none.member("Resources") == .array([]))
        let even = try f.listUsers(filter: #"title eq "EVEN""#, startIndex: 2, count: 1)
        #expect(even.member("totalResults") == .int(4))
        #expect(even.member("itemsPerPage") == .int(1))
        // A filter that is not valid is an error, never the whole list.
        #expect(scimError { _ = try f.listUsers(filter: "title eq") }?.kind == .invalidFilter)
        #expect(scimError { _ = try f.listUsers(filter: #"favoriteColor eq "red""#) }?.kind == .invalidFilter)
    }

    @Test func searchAllListsUsersThenGroups() throws {
        let f = Fixture()
        let u = try f.createUser(named: "s1")
        let g = try f.createGroup("S")
        let all = try f.dir.searchAll(ListRequest(), in: f.store)
        #expect(all.member("totalResults") == .int(2))
        #expect(all.member("Resources")?.arrayValue?.compactMap { $0.member("id")?.stringValue } == [u, g])
        let second = try f.dir.searchAll(ListRequest(startIndex: 2, count: 1), in: f.store)
        #expect(second.member("Resources")?.arrayValue?.first?.member("id") == .string(g))
        let named = try f.dir.searchAll(ListRequest(filter: #"displayName eq "s""#), in: f.store)
        #expect(named.member("totalResults") == .int(1))
        let users = try f.dir.searchAll(ListRequest(filter: #"userName eq "S1""#), in: f.store)
        #expect(users.member("Resources")?.arrayValue?.first?.member("id") == .string(u))
        #expect(scimError { _ = try f.dir.searchAll(ListRequest(filter: #"nothing eq "x""#), in: f.store) }?.kind == .invalidFilter)
    }

    @Test func oneDirectoryNeverSeesAnother() throws {
        let store = MemoryScimStore()
        let a = Fixture(store: store, directoryID: "aaaaaaaa-0000-4000-8000-000000000001")
        let b = Fixture(store: store, directoryID: "bbbbbbbb-0000-4000-8000-000000000002")
        let uid = try a.createUser(named: "shared@x")
        let gid = try a.createGroup("A only", members: [uid])
        // The same userName is a different user in another directory.
        let other = try b.createUser(named: "shared@x")
        #expect(other != uid)
        #expect(scimError { _ = try b.user(uid) }?.status == 404)
        #expect(scimError { _ = try b.group(gid) }?.status == 404)
        #expect(scimError { _ = try b.patchUser(uid, #"[{"op":"add","path":"title","value":"x"}]"#) }?.status == 404)
        #expect(scimError { _ = try b.dir.deleteUser(uid, in: b.store) }?.status == 404)
        #expect(scimError { _ = try b.dir.replaceGroup(gid, json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"x"}"#), in: b.store) }?.status == 404)
        #expect(try b.listUsers().member("totalResults") == .int(1))
        #expect(try b.listUsers(filter: #"id eq "\#(uid)""#).member("totalResults") == .int(0))
        #expect(try b.listGroups().member("totalResults") == .int(0))
        #expect(try b.listGroups(filter: #"members[value eq "\#(uid)"]"#).member("totalResults") == .int(0))
        #expect(try a.user(uid).member("userName") == .string("shared@x"))
    }
}
