import Foundation
import JSON
@testable import Scim
import SetupLinks
import Testing

/// An Okta-shaped and an Entra-ID-shaped provisioning sequence, each replayed end
/// to end over HTTP against a served replica: the requests each provider sends,
/// in the order it sends them, with the answers and webhook events each expects.
@Suite struct ScimProviderSequenceTests {
    @Test func oktaProvisionsEndToEnd() throws {
        let server = try ScimServer()
        let d = try server.directory(type: .okta)
        let scim = ScimClient(server, d)

        // Import: Okta looks the user up before creating it.
        let none = try scim.findUsers(#"userName eq "jane.doe@okta.example""#, extra: "&startIndex=1&count=100")
        #expect(none.status == 200 && none.total == 0 && none.resources.isEmpty)
        #expect(none.headers["content-type"] == "application/scim+json; charset=utf-8")

        let created = try scim.post("/Users", #"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane.doe@okta.example",
             "name":{"givenName":"Jane","familyName":"Doe"},
             "emails":[{"primary":true,"value":"jane.doe@okta.example","type":"work"}],
             "displayName":"Jane Doe","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],
             "password":"1mz050nq","active":true}
            """#)
        #expect(created.status == 201)
        let uid = try #require(created.id)
        #expect(created.headers["location"] == "\(ScimServer.externalURL)\(d.scimPath)/Users/\(uid)")
        #expect(created.headers["etag"] == created.json?.member("meta")?.member("version")?.stringValue)
        #expect(created.json?.member("password") == nil && !created.text.contains("1mz050nq"))
        #expect(server.takeEvents(d.id) == ["user.created"])

        // Found by userName (any case) and by externalId; GET by id.
        #expect(try scim.findUsers(#"userName eq "JANE.DOE@okta.example""#).resources.first?.member("id")?.stringValue == uid)
        #expect(try scim.findUsers(#"externalId eq "00ujl29u0le5T6Aj10h7""#).total == 1)
        let got = try scim.get("/Users/\(uid)")
        #expect(got.status == 200 && got.json?.member("name")?.member("givenName") == .string("Jane"))

        // Profile push: the whole user with PUT.
        let put = try scim.put("/Users/\(uid)", #"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"\#(uid)","userName":"jane.doe@okta.example",
             "name":{"givenName":"Janet","familyName":"Doe"},"emails":[{"primary":true,"value":"jane.doe@okta.example","type":"work"}],
             "displayName":"Janet Doe","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","active":true}
            """#)
        #expect(put.status == 200 && put.json?.member("name")?.member("givenName") == .string("Janet"))
        #expect(server.takeEvents(d.id) == ["user.updated"])

        // Deactivation: a path-less replace of active.
        let deactivated = try scim.patch("/Users/\(uid)", #"[{"op":"replace","value":{"active":false}}]"#)
        #expect(deactivated.status == 200 && deactivated.json?.member("active") == .bool(false))
        #expect(server.takeEvents(d.id) == ["user.updated"])
        // And back, with PUT active:true (Okta's older shape): then deactivate by PUT.
        for active in [true, false] {
            let r = try scim.put("/Users/\(uid)", #"""
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane.doe@okta.example",
                 "name":{"givenName":"Janet","familyName":"Doe"},"emails":[{"primary":true,"value":"jane.doe@okta.example","type":"work"}],
                 "displayName":"Janet Doe","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","active":\#(active)}
                """#)
            #expect(r.status == 200 && r.json?.member("active") == .bool(active))
        }
        #expect(server.takeEvents(d.id) == ["user.updated", "user.updated"])

        // Group push: look up, create, add members, rename, remove a member.
        let bob = try scim.createUser("bob@okta.example")
        _ = server.takeEvents(d.id)
        #expect(try scim.findGroups(#"displayName eq "Engineering""#).total == 0)
        let group = try scim.post("/Groups", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[]}"#)
        #expect(group.status == 201)
        let gid = try #require(group.id)
        #expect(server.takeEvents(d.id) == ["group.created"])
        let added = try scim.patch("/Groups/\(gid)", #"""
            [{"op":"add","path":"members","value":[{"value":"\#(uid)","display":"jane.doe@okta.example"},{"value":"\#(bob)","display":"bob@okta.example"}]}]
            """#)
        #expect(added.status == 204 && added.text.isEmpty)
        #expect(server.takeEvents(d.id) == ["group.user_added", "group.user_added"])
        #expect(try scim.members(gid) == [uid, bob].sorted())
        let renamed = try scim.patch("/Groups/\(gid)", #"[{"op":"replace","value":{"id":"\#(gid)","displayName":"Engineering EU"}}]"#)
        #expect(renamed.status == 204)
        #expect(try scim.get("/Groups/\(gid)").json?.member("displayName") == .string("Engineering EU"))
        let removed = try scim.patch("/Groups/\(gid)", #"[{"op":"remove","path":"members[value eq \"\#(uid)\"]"}]"#)
        #expect(removed.status == 204)
        #expect(server.takeEvents(d.id) == ["group.updated", "group.user_removed"])
        #expect(try scim.members(gid) == [bob])
        // The user's groups, read back from the memberships.
        #expect(try scim.get("/Users/\(bob)").json?.member("groups")?.arrayValue?.first?.member("display") == .string("Engineering EU"))

        // Deletes: the group, then a user (who leaves the groups it was in).
        _ = try scim.patch("/Groups/\(gid)", #"[{"op":"add","path":"members","value":[{"value":"\#(uid)"}]}]"#)
        _ = server.takeEvents(d.id)
        let deletedUser = try scim.delete("/Users/\(uid)")
        #expect(deletedUser.status == 204 && deletedUser.text.isEmpty)
        #expect(server.takeEvents(d.id) == ["group.user_removed", "user.deleted"])
        #expect(try scim.get("/Users/\(uid)").status == 404)
        #expect(try scim.members(gid) == [bob])
        #expect(try scim.delete("/Groups/\(gid)").status == 204)
        #expect(server.takeEvents(d.id) == ["group.deleted"])
        #expect(try scim.get("/Groups/\(gid)").status == 404)
        #expect(try scim.delete("/Groups/\(gid)").status == 404)
        #expect(try scim.get("/Groups").total == 0 && scim.get("/Users").total == 1)
    }

    @Test func entraProvisionsEndToEnd() throws {
        let server = try ScimServer()
        let d = try server.directory(type: .azure)
        // Entra ID is given the endpoint with `/?aadOptscim062020` and keeps the flag on every request.
        #expect(d.scimEndpoint(externalURL: ScimServer.externalURL).hasSuffix("/?aadOptscim062020"))
        var scim = ScimClient(server, d)
        scim.suffix = "aadOptscim062020"

        // Entra's connection test and user lookup before a create.
        let probe = try scim.findUsers(#"userName eq "Test_User_ab6490ee@contoso.com""#)
        #expect(probe.status == 200 && probe.total == 0)
        let created = try scim.post("/Users", ProviderShapeTests.entraUser)
        #expect(created.status == 201)
        let uid = try #require(created.id)
        #expect(created.json?.member(ScimSchemas.enterpriseUserURN)?.member("department") == .string("Sales"))
        #expect(server.takeEvents(d.id) == ["user.created"])
        #expect(try scim.findUsers(#"userName eq "test_user_AB6490EE@contoso.com""#).resources.first?.member("id")?.stringValue == uid)
        #expect(try scim.findUsers(#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#).total == 1)

        // Updates: capitalised ops, filtered paths, a path-less add with dotted keys and extension URNs.
        let updated = try scim.patch("/Users/\(uid)", #"""
            [{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
             {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
             {"op":"Add","value":{"nickName":"Babs","name.givenName":"Barbara",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":[{"$ref":null,"value":"mgr-1"}]}}]
            """#)
        #expect(updated.status == 200)
        #expect(updated.json?.member("emails")?.arrayValue?.first?.member("value") == .string("updatedEmail@microsoft.com"))
        #expect(updated.json?.member("name")?.member("givenName") == .string("Barbara"))
        #expect(updated.json?.member(ScimSchemas.enterpriseUserURN)?.member("manager")?.member("value") == .string("mgr-1"))
        #expect(server.takeEvents(d.id) == ["user.updated"])

        // Soft delete: a string boolean.
        let disabled = try scim.patch("/Users/\(uid)", #"[{"op":"Replace","path":"active","value":"False"}]"#)
        #expect(disabled.status == 200 && disabled.json?.member("active") == .bool(false))
        #expect(server.takeEvents(d.id) == ["user.updated"])
        // The same request again changes nothing and emits nothing.
        #expect(try scim.patch("/Users/\(uid)", #"[{"op":"Replace","path":"active","value":"False"}]"#).status == 200)
        #expect(server.takeEvents(d.id) == [])

        // Group provisioning: lookup without members, create, add, check, remove with a value list, rename.
        let lookup = try scim.findGroups(#"displayName eq "Sales EMEA""#, extra: "&excludedAttributes=members")
        #expect(lookup.status == 200 && lookup.total == 0)
        let group = try scim.post("/Groups", #"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
             "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"Sales EMEA","members":[]}
            """#)
        #expect(group.status == 201)
        let gid = try #require(group.id)
        let other = try scim.createUser("other@contoso.com")
        _ = server.takeEvents(d.id)
        let add = try scim.patch("/Groups/\(gid)", #"[{"op":"Add","path":"members","value":[{"value":"\#(uid)"},{"value":"\#(other)"}]}]"#)
        #expect(add.status == 204)
        #expect(server.takeEvents(d.id) == ["group.user_added", "group.user_added"])
        // Entra checks a membership with a filter on the group list.
        let check = try scim.findGroups(#"id eq "\#(gid)" and members[value eq "\#(uid)"]"#, extra: "&excludedAttributes=members")
        #expect(check.total == 1 && check.resources.first?.member("members") == nil)
        let remove = try scim.patch("/Groups/\(gid)", #"[{"op":"Remove","path":"members","value":[{"value":"\#(uid)"}]}]"#)
        #expect(remove.status == 204)
        #expect(server.takeEvents(d.id) == ["group.user_removed"])
        #expect(try scim.findGroups(#"id eq "\#(gid)" and members[value eq "\#(uid)"]"#, extra: "&excludedAttributes=members").total == 0)
        let rename = try scim.patch("/Groups/\(gid)", #"[{"op":"Replace","path":"displayName","value":"Sales Europe"}]"#)
        #expect(rename.status == 204)
        #expect(server.takeEvents(d.id) == ["group.updated"])
        #expect(try scim.get("/Groups/\(gid)?excludedAttributes=members").json?.member("displayName") == .string("Sales Europe"))
        #expect(try scim.members(gid) == [other])

        // Hard delete.
        #expect(try scim.delete("/Users/\(uid)").status == 204)
        #expect(try scim.delete("/Groups/\(gid)").status == 204)
        #expect(server.takeEvents(d.id) == ["user.deleted", "group.deleted"])
        #expect(try scim.get("/Users/\(uid)").status == 404)
        #expect(try scim.get("/Users").total == 1)
    }

    @Test func entraEndpointWithTrailingSlashAndFlagIsTheBase() throws {
        let server = try ScimServer()
        let d = try server.directory(type: .azure)
        // What a client makes of `<endpoint>/?aadOptscim062020` joined with `/Users`.
        let scim = ScimClient(base: server.url + d.scimPath + "/", token: d.scimToken)
        #expect(try scim.get("/Users?aadOptscim062020").status == 200)
        #expect(try scim.get("?aadOptscim062020").status == 404)
        #expect(try scim.get("/ServiceProviderConfig?aadOptscim062020").json?.member("patch")?.member("supported") == .bool(true))
    }
}
