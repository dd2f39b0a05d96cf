import JSON
import Testing
@testable import Scim

/// One test per request shape that Okta and Microsoft Entra ID document for
/// SCIM 2.0 provisioning, replayed through the flows.
@Suite struct ProviderShapeTests {
    static let entraUser = #"""
    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
     "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee@contoso.com","active":true,
     "emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@testuser.com"}],
     "meta":{"resourceType":"User"},
     "name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
     "roles":[],
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","employeeNumber":"4"}}
    """#

    static let oktaUser = #"""
    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
     "name":{"givenName":"Test","familyName":"User"},
     "emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
     "displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],
     "password":"1mz050nq","active":true}
    """#

    // MARK: Okta

    @Test func oktaLooksUpUserNameThenCreates() throws {
        let f = Fixture()
        let before = try f.listUsers(filter: #"userName eq "test.user@okta.local""#, startIndex: 1, count: 100)
        #expect(before.member("totalResults") == .int(0))
        #expect(before.member("Resources") == .array([]))
        let id = try f.createUser(Self.oktaUser)
        let after = try f.listUsers(filter: #"userName eq "test.user@okta.local""#, startIndex: 1, count: 100)
        #expect(after.member("totalResults") == .int(1))
        #expect(after.member("itemsPerPage") == .int(1))
        #expect(after.member("Resources")?.arrayValue?.first?.member("id") == .string(id))
    }

    @Test func oktaCreateKeepsEverythingButThePassword() throws {
        let f = Fixture()
        let outcome = try f.dir.createUser(json(Self.oktaUser), in: f.store)
        let u = outcome.resource
        #expect(u.member("password") == nil)
        #expect(!ResourceMapping.text(u).contains("1mz050nq"))
        #expect(!outcome.record.fields.contains { $0.register.versions.contains { $0.value.contains("1mz050nq") } })
        #expect(u.member("groups") == nil)  // read-only in a request: ignored
        #expect(u.member("locale") == .string("en-US"))
        #expect(u.member("meta")?.member("location") == .string(f.dir.baseURL + "/Users/" + outcome.record.id))
        #expect(outcome.events.map(\.name) == ["user.created"])
        #expect(outcome.events[0].data.member("email") == .string("test.user@okta.local"))
        #expect(outcome.events[0].data.member("first_name") == .string("Test"))
    }

    @Test func oktaPutOfTheWholeUserWithActiveFalseDeactivates() throws {
        let f = Fixture()
        let id = try f.createUser(Self.oktaUser)
        var body = json(Self.oktaUser).objectValue!
        body = body.map { $0.0 == "active" ? ("active", .bool(false)) : $0 }
        body.append(("id", .string(id)))
        let outcome = try f.dir.replaceUser(id, .object(body), in: f.store)
        #expect(outcome.changed)
        #expect(outcome.resource.member("active") == .bool(false))
        #expect(outcome.events.map(\.name) == ["user.updated"])
        #expect(outcome.events[0].data.member("active") == .bool(false))
        // Only the changed attribute was written.
        #expect(outcome.record.register("a:active")?.winner?.dot != outcome.record.register("a:userName")?.winner?.dot)
        // The same PUT again changes nothing and emits nothing.
        let again = try f.dir.replaceUser(id, .object(body), in: f.store)
        #expect(!again.changed)
        #expect(again.events.isEmpty)
    }

    @Test func oktaPatchReplacesActiveWithoutPath() throws {
        let f = Fixture()
        let id = try f.createUser(Self.oktaUser)
        let o = try f.patchUser(id, #"[{"op":"replace","value":{"active":false}}]"#)
        #expect(o.resource.member("active") == .bool(false))
    }

    @Test func oktaGroupPushAndRename() throws {
        let f = Fixture()
        let created = try f.dir.createGroup(json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}"#), in: f.store)
        let gid = created.record.id
        #expect(created.events.map(\.name) == ["group.created"])
        #expect(created.events[0].data.member("name") == .string("Test SCIMv2"))
        let found = try f.listGroups(filter: #"displayName eq "Test SCIMv2""#)
        #expect(found.member("totalResults") == .int(1))
        // Okta renames with a path-less replace whose value repeats the id.
        let renamed = try f.patchGroup(gid, #"[{"op":"replace","value":{"id":"\#(gid)","displayName":"Test SCIMv2 renamed"}}]"#)
        #expect(renamed.resource.member("displayName") == .string("Test SCIMv2 renamed"))
        #expect(renamed.events.map(\.name) == ["group.updated"])
        // An id that is not the group's is refused.
        let e = scimError { _ = try f.patchGroup(gid, #"[{"op":"replace","value":{"id":"other","displayName":"x"}}]"#) }
        #expect(e?.kind == .mutability)
    }

    @Test func oktaGroupMembersAddAndRemove() throws {
        let f = Fixture()
        let u1 = try f.createUser(named: "one@okta.local")
        let u2 = try f.createUser(named: "two@okta.local")
        let gid = try f.createGroup("Engineering")
        let added = try f.patchGroup(gid, #"""
            [{"op":"add","path":"members","value":[{"value":"\#(u1)","display":"one@okta.local"},{"value":"\#(u2)","display":"two@okta.local"}]}]
            """#)
        #expect(added.events.map(\.name) == ["group.user_added", "group.user_added"])
        // Each is the user's data with the group under `group`.
        #expect(added.events.map { $0.data.member("id")?.stringValue } == [u1, u2])
        #expect(added.events[1].data.member("email") == .string("two@okta.local"))
        #expect(added.events.allSatisfy { $0.data.member("group")?.member("id") == .string(gid) })
        #expect(added.events.allSatisfy { $0.data.member("group")?.member("name") == .string("Engineering") })
        #expect(try f.memberValues(gid) == [u1, u2].sorted())
        let removed = try f.patchGroup(gid, #"[{"op":"remove","path":"members[value eq \"\#(u1)\"]"}]"#)
        #expect(removed.events.map(\.name) == ["group.user_removed"])
        #expect(try f.memberValues(gid) == [u2])
        #expect(try f.group(gid).member("members")?.arrayValue?.first?.member("display") == .string("two@okta.local"))
        // Adding a member already there changes nothing visible and emits nothing.
        let again = try f.patchGroup(gid, #"[{"op":"add","path":"members","value":[{"value":"\#(u2)","display":"two@okta.local"}]}]"#)
        #expect(!again.changed && again.events.isEmpty)
        #expect(try f.memberValues(gid) == [u2])
    }

    @Test func oktaDeletesUsersAndGroups() throws {
        let f = Fixture()
        let uid = try f.createUser(named: "gone@okta.local")
        let gid = try f.createGroup("Gone", members: [uid])
        let events = try f.dir.deleteUser(uid, in: f.store)
        #expect(events.map(\.name) == ["group.user_removed", "user.deleted"])
        #expect(scimError { _ = try f.user(uid) }?.status == 404)
        #expect(try f.memberValues(gid) == [])
        #expect(try f.dir.deleteGroup(gid, in: f.store).map(\.name) == ["group.deleted"])
        #expect(scimError { _ = try f.group(gid) }?.status == 404)
    }

    // MARK: Entra ID

    @Test func entraCreateWithExtensionAndReadOnlyMeta() throws {
        let f = Fixture()
        let o = try f.dir.createUser(json(Self.entraUser), in: f.store)
        let u = o.resource
        #expect(u.member("schemas") == .array([.string(ScimSchemas.userURN), .string(ScimSchemas.enterpriseUserURN)]))
        #expect(u.member(ScimSchemas.enterpriseUserURN)?.member("department") == .string("Sales"))
        #expect(u.member("roles") == nil)  // an empty array is unassigned
        #expect(u.member("meta")?.member("resourceType") == .string("User"))
        #expect(u.member("meta")?.member("created") != nil)
    }

    @Test func entraLooksUpByUserNameAndExternalId() throws {
        let f = Fixture()
        let id = try f.createUser(Self.entraUser)
        let byName = try f.listUsers(filter: #"userName eq "test_user_AB6490EE@contoso.com""#)
        #expect(byName.member("Resources")?.arrayValue?.first?.member("id") == .string(id))
        let byExternal = try f.listUsers(filter: #"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#)
        #expect(byExternal.member("totalResults") == .int(1))
        #expect(try f.listUsers(filter: #"externalId eq "0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF""#).member("totalResults") == .int(0))
    }

    @Test func entraReplaceWithCapitalizedOpAndStringBoolean() throws {
        let f = Fixture()
        let id = try f.createUser(Self.entraUser)
        let o = try f.patchUser(id, #"[{"op":"Replace","path":"active","value":"False"}]"#)
        #expect(o.resource.member("active") == .bool(false))
        let back = try f.patchUser(id, #"[{"op":"Replace","path":"active","value":"True"}]"#)
        #expect(back.resource.member("active") == .bool(true))
        #expect(scimError { _ = try f.patchUser(id, #"[{"op":"Replace","path":"active","value":"Nope"}]"#) }?.kind == .invalidValue)
    }

    @Test func entraMultiValuedAndSingleValuedReplaces() throws {
        let f = Fixture()
        let id = try f.createUser(Self.entraUser)
        let o = try f.patchUser(id, #"""
            [{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
             {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
             {"op":"Replace","path":"userName","value":"5b50642d@testuser.com"}]
            """#)
        let u = o.resource
        #expect(u.member("emails") == json(#"[{"primary":true,"type":"work","value":"updatedEmail@microsoft.com"}]"#))
        #expect(u.member("name")?.member("familyName") == .string("updatedFamilyName"))
        #expect(u.member("name")?.member("givenName") == .string("givenName"))
        #expect(u.member("userName") == .string("5b50642d@testuser.com"))
        // The id stays; the new name is found, the old one is free again.
        #expect(try f.listUsers(filter: #"userName eq "5b50642d@TESTUSER.com""#).member("totalResults") == .int(1))
        #expect(try f.listUsers(filter: #"userName eq "Test_User_ab6490ee@contoso.com""#).member("totalResults") == .int(0))
    }

    @Test func entraAddsAWorkEmailThroughAFilterPathWhenNoneExists() throws {
        let f = Fixture()
        let id = try f.createUser(named: "nomail@contoso.com")
        let o = try f.patchUser(id, #"[{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@contoso.com"}]"#)
        #expect(o.resource.member("emails") == json(#"[{"type":"work","value":"w@contoso.com"}]"#))
        let p = try f.patchUser(id, #"[{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555"}]"#)
        #expect(p.resource.member("phoneNumbers") == json(#"[{"type":"mobile","value":"+1 555"}]"#))
    }

    @Test func entraPathlessAddAndReplaceWithDottedKeysAndExtensionURNs() throws {
        let f = Fixture()
        let id = try f.createUser(Self.entraUser)
        let o = try f.patchUser(id, #"""
            [{"op":"add","value":{"nickName":"Babs","name.givenName":"Barbara",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"701984",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":{"value":"mgr-1"}}},
             {"op":"replace","value":{"displayName":"Pvlo","emails[type eq \"work\"].value":"pvlo@contoso.com",
              "name.familyName":"Cyrus",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Tour Operations",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"4130"}}}]
            """#)
        let u = o.resource
        let ext = u.member(ScimSchemas.enterpriseUserURN)
        #expect(u.member("nickName") == .string("Babs"))
        #expect(u.member("displayName") == .string("Pvlo"))
        #expect(u.member("name") == json(#"{"formatted":"givenName familyName","familyName":"Cyrus","givenName":"Barbara"}"#))
        #expect(u.member("emails")?.arrayValue?.first?.member("value") == .string("pvlo@contoso.com"))
        #expect(ext?.member("employeeNumber") == .string("701984"))
        #expect(ext?.member("department") == .string("Tour Operations"))
        #expect(ext?.member("costCenter") == .string("4130"))
        #expect(ext?.member("manager") == json(#"{"value":"mgr-1"}"#))
    }

    @Test func entraManagerShapes() throws {
        let f = Fixture()
        let id = try f.createUser(Self.entraUser)
        let path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
        // An array of one object with a null $ref (Entra ID), a bare id, an object.
        for value in [#"[{"$ref":null,"value":"m-1"}]"#, #""m-1""#, #"{"value":"m-1"}"#] {
            let o = try f.patchUser(id, #"[{"op":"Add","path":"\#(path)","value":\#(value)}]"#)
            #expect(o.resource.member(ScimSchemas.enterpriseUserURN)?.member("manager") == json(#"{"value":"m-1"}"#))
        }
        let removed = try f.patchUser(id, #"[{"op":"Remove","path":"\#(path)"}]"#)
        #expect(removed.resource.member(ScimSchemas.enterpriseUserURN)?.member("manager") == nil)
        #expect(removed.resource.member(ScimSchemas.enterpriseUserURN)?.member("department") == .string("Sales"))
    }

    @Test func entraGroupCreateWithItsExtraSchemaAndExcludedMembers() throws {
        let f = Fixture()
        let o = try f.dir.createGroup(json(#"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
             "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}
            """#), in: f.store)
        let gid = o.record.id
        let g = try f.group(gid, excluded: "members")
        #expect(g.member("members") == nil)
        #expect(g.member("externalId") == .string("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"))
        let list = try f.listGroups(filter: #"displayName eq "DISPLAYNAME""#, excluded: "members")
        #expect(list.member("Resources")?.arrayValue?.first?.member("id") == .string(gid))
    }

    @Test func entraGroupDisplayNameReplace() throws {
        let f = Fixture()
        let gid = try f.createGroup("Before")
        let o = try f.patchGroup(gid, #"[{"op":"Replace","path":"displayName","value":"After"}]"#)
        #expect(o.resource.member("displayName") == .string("After"))
    }

    @Test func entraGroupMembersAddAndRemoveWithValueLists() throws {
        let f = Fixture()
        let u1 = try f.createUser(named: "a@contoso.com")
        let u2 = try f.createUser(named: "b@contoso.com")
        let gid = try f.createGroup("G")
        _ = try f.patchGroup(gid, #"[{"op":"Add","path":"members","value":[{"$ref":null,"value":"\#(u1)"},{"$ref":null,"value":"\#(u2)"}]}]"#)
        #expect(try f.memberValues(gid) == [u1, u2].sorted())
        #expect(try f.group(gid).member("members")?.arrayValue?.first?.member("$ref") == nil)
        let o = try f.patchGroup(gid, #"[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"\#(u1)"}]}]"#)
        #expect(o.events.map(\.name) == ["group.user_removed"])
        #expect(try f.memberValues(gid) == [u2])
        // A user's groups attribute follows.
        #expect(try f.user(u2).member("groups")?.arrayValue?.first?.member("value") == .string(gid))
        #expect(try f.user(u1).member("groups") == nil)
    }

    @Test func entraChecksAMembershipWithAFilterAndNoMembers() throws {
        let f = Fixture()
        let u = try f.createUser(named: "m@contoso.com")
        let gid = try f.createGroup("With", members: [u])
        let other = try f.createGroup("Without")
        let hit = try f.dir.listGroups(ListRequest(filter: #"id eq "\#(gid)" and members[value eq "\#(u)"]"#,
                                                   excludedAttributes: "members"), in: f.store)
        #expect(hit.member("totalResults") == .int(1))
        #expect(hit.member("Resources")?.arrayValue?.first?.member("members") == nil)
        let miss = try f.dir.listGroups(ListRequest(filter: #"id eq "\#(other)" and members[value eq "\#(u)"]"#,
                                                    excludedAttributes: "members"), in: f.store)
        #expect(miss.member("totalResults") == .int(0))
    }

    @Test func userNameIsComparedWithoutCase() throws {
        let f = Fixture()
        try f.createUser(named: "Alice@Example.com")
        let e = scimError { try f.createUser(named: "ALICE@example.COM") }
        #expect(e?.status == 409)
        #expect(e?.kind == .uniqueness)
        #expect(e?.responseBody.member("status") == .string("409"))
        let other = try f.createUser(named: "bob@example.com")
        #expect(scimError { _ = try f.patchUser(other, #"[{"op":"replace","path":"userName","value":"alice@EXAMPLE.com"}]"#) }?.status == 409)
        // Changing only the case of one's own userName is allowed.
        #expect(try f.patchUser(other, #"[{"op":"replace","path":"userName","value":"Bob@Example.com"}]"#).changed)
    }
}
