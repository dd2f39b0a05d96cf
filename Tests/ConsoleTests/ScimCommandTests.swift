import Foundation
import JSON
import Replica
import Scim
import SetupLinks
import Storage
import Synchronization
import Testing
@testable import Console

/// Issue 9: a field admin sees who was provisioned, offline: `directory users`,
/// `directory groups`, `user show`, `group show`, each with `--json`, paged when long.
@Suite struct ScimCommandTests {
    /// A replica with one directory of `users` users (`user000@example.com`…, given
    /// names `Name000`…, every tenth inactive) and a group `Staff` of the first three,
    /// the second of whom was removed again; provisioned through the SCIM flows.
    struct Fixture {
        let db: String
        let directory: Directory
        let users: [String]
        let group: String
        let linkToken: String

        init(users count: Int) throws {
            db = temporaryReplica()
            let store = try SetupLinkService.openStore(path: db)
            defer { store.close() }
            let service = try SetupLinkService(store: store, externalURL: "https://hub.example.test")
            let (link, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: "https://h.example.com/x", webhookSecret: "s")
            linkToken = link.token
            directory = try service.open(link.token).createDirectory(type: .okta, name: "Acme Okta")
            let scim = ScimDirectory(id: directory.id, baseURL: "https://hub.example.test" + directory.scimPath)
            var ids: [String] = []
            try store.write { tx in
                let s = ScimReplicaTransaction(store: store, tx: tx)
                for i in 0..<count {
                    let n = String(format: "%03d", i)
                    let body = #"""
                        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user\#(n)@example.com",
                         "name":{"givenName":"Name\#(n)","familyName":"Doe"},"emails":[{"value":"user\#(n)@example.com","primary":true}],
                         "active":\#(i % 10 != 9)}
                        """#
                    ids.append(try scim.createUser(JSONParser.parse(Array(body.utf8)), in: s).record.id)
                }
            }
            users = ids
            let members = ids.prefix(3).map { #"{"value":"\#($0)","display":"member"}"# }.joined(separator: ",")
            let g = #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Staff","members":[\#(members)]}"#
            group = try store.write { tx in
                try scim.createGroup(JSONParser.parse(Array(g.utf8)), in: ScimReplicaTransaction(store: store, tx: tx)).record.id
            }
            let remove = #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"\#(ids[1])\"]"}]}"#
            _ = try store.write { tx in
                try scim.patchGroup(group, JSONParser.parse(Array(remove.utf8)), in: ScimReplicaTransaction(store: store, tx: tx))
            }
        }
    }

    @Test func directoryUsersListsEveryUserOfflineWithFiltersAndJSON() throws {
        let f = try Fixture(users: 250)
        let table = try runTool(["--db", f.db, "directory", "users", String(f.directory.id.prefix(8))])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.lines.first == "Directory Acme Okta (\(f.directory.id)): 250 users")
        #expect(table.lines[1].hasPrefix("ID ") && table.lines[1].contains("User name") && table.lines[1].contains("Status"))
        let rows = table.lines.dropFirst(2)
        #expect(rows.count == 250)
        #expect(Set(rows.map { String($0.prefix(36)) }) == Set(f.users))
        #expect(rows.filter { $0.hasSuffix("inactive") }.count == 25)
        #expect(rows.contains { $0.contains("user007@example.com") && $0.contains("Name007 Doe") })

        // Filters: one the index answers, one tested row by row, one that is wrong.
        let byName = try runTool(["--db", f.db, "--json", "directory", "users", f.directory.id, "--filter", #"userName eq "USER042@example.com""#])
        let found = try #require(json(byName.stdout)["users"] as? [[String: Any]])
        #expect(found.map { $0["id"] as? String } == [f.users[42]])
        let scanned = try runTool(["--db", f.db, "directory", "users", f.directory.id, "--filter", #"active eq false and name.givenName sw "Name2""#])
        // Inactive (every tenth) and named Name2…: 209, 219, 229, 239, 249, in list order.
        #expect(scanned.lines.dropFirst().map { String($0.prefix(36)) } == [209, 219, 229, 239, 249].map { f.users[$0] }, "\(scanned.stdout)")
        let none = try runTool(["--db", f.db, "directory", "users", f.directory.id, "--filter", #"userName eq "nobody""#])
        #expect(none.status == 0 && none.stdout.contains("match the filter"))
        let bad = try runTool(["--db", f.db, "directory", "users", f.directory.id, "--filter", #"shoeSize eq 9"#])
        #expect(bad.status != 0 && bad.stderr.hasPrefix("error: --filter:") && bad.stderr.contains("shoeSize"), "\(bad.stderr)")

        // JSON: one object, every user as its SCIM resource.
        let all = try runTool(["--db", f.db, "--json", "directory", "users", f.directory.id])
        #expect(all.lines.count == 1)
        let users = try #require(json(all.stdout)["users"] as? [[String: Any]])
        #expect(users.count == 250 && (users.first?["meta"] as? [String: Any])?["resourceType"] as? String == "User")
        #expect(json(all.stdout)["directory_id"] as? String == f.directory.id)

        let unknown = try runTool(["--db", f.db, "directory", "users", "ffffffff"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no directory with id ffffffff"))
    }

    @Test func groupsAndTheirMembersAndAUsersGroups() throws {
        let f = try Fixture(users: 5)
        let groups = try runTool(["--db", f.db, "directory", "groups", f.directory.id])
        #expect(groups.lines.first == "Directory Acme Okta (\(f.directory.id)): 1 group")
        #expect(groups.lines.count == 3 && groups.lines[2].hasPrefix(f.group) && groups.lines[2].hasSuffix(" 2"), "\(groups.stdout)")
        let groupsJSON = try #require(json(try runTool(["--db", f.db, "--json", "directory", "groups", f.directory.id]).stdout)["groups"] as? [[String: Any]])
        #expect(groupsJSON.first?["displayName"] as? String == "Staff" && groupsJSON.first?["member_count"] as? Int == 2)

        let show = try runTool(["--db", f.db, "group", "show", String(f.group.prefix(6))])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("Members        2") && show.stdout.contains("Name           Staff"), "\(show.stdout)")
        let memberRows = show.lines.filter { $0.hasPrefix(f.users[0]) || $0.hasPrefix(f.users[1]) || $0.hasPrefix(f.users[2]) }
        #expect(memberRows.count == 2 && !show.stdout.contains(f.users[1]), "the removed member is not listed: \(show.stdout)")
        #expect(memberRows.allSatisfy { $0.contains("@example.com") && $0.hasSuffix("member") })
        let showJSON = json(try runTool(["--db", f.db, "--json", "group", "show", f.group]).stdout)
        #expect((showJSON["members"] as? [[String: Any]])?.compactMap { $0["value"] as? String }.sorted() == [f.users[0], f.users[2]].sorted())
        #expect((showJSON["group"] as? [String: Any])?["displayName"] as? String == "Staff")

        let user = try runTool(["--db", f.db, "user", "show", String(f.users[0].prefix(8)).uppercased()])
        #expect(user.status == 0, "\(user.stderr)")
        #expect(user.stdout.contains("User name      user000@example.com") && user.stdout.contains("Groups         Staff (\(f.group))"), "\(user.stdout)")
        #expect(user.stdout.contains("Directory      Acme Okta (\(f.directory.id))"))
        let removed = json(try runTool(["--db", f.db, "--json", "user", "show", f.users[1]]).stdout)
        #expect((removed["user"] as? [String: Any])?["groups"] == nil)
        #expect(removed["directory_id"] as? String == f.directory.id)
        let missing = try runTool(["--db", f.db, "user", "show", "ffffffff"])
        #expect(missing.status == 1 && missing.stderr.contains("no user with id ffffffff"))
        #expect(try runTool(["--db", f.db, "group", "show", f.users[0]]).stderr.contains("no group with id"))
        let counts = try status(f.db)
        #expect(counts["users"] as? Int == 5 && counts["groups"] as? Int == 1 && counts["directories"] as? Int == 1)
    }

    @Test func aSetupPageReachesOnlyItsOwnDirectoriesUsers() throws {
        let f = try Fixture(users: 2)
        let store = try SetupLinkService.openStore(path: f.db)
        let (other, _) = try SetupLinkService(store: store).createLink(tenant: "globex", product: "crm",
                                                                      webhookURL: "https://h.example.com/x", webhookSecret: "s")
        store.close()
        let r = try runTool(["--db", f.db], input: "open \(other.token)\nuser show \(f.users[0])\ngroup show \(f.group)\ndirectory users \(f.directory.id)\n"
                            + "close\nopen \(f.linkToken)\nuser show \(f.users[0])\n")
        #expect(r.errorLines.count == 3, "\(r.stderr)")
        #expect(r.errorLines[0].contains("no user with id \(f.users[0]) on this setup page"))
        #expect(r.errorLines[1].contains("no group with id"))
        #expect(r.errorLines[2].contains("no directory with id \(f.directory.id) on this setup page"), "\(r.stderr)")
        #expect(r.stdout.contains("User name      user000@example.com"))
    }

    @Test func tabCompletesUserAndGroupIdsOfThePagesDirectoriesOnly() throws {
        let f = try Fixture(users: 3)
        let store = try SetupLinkService.openStore(path: f.db)
        defer { store.close() }
        let service = try SetupLinkService(store: store)
        let (other, _) = try service.createLink(tenant: "globex", product: "crm", webhookURL: "https://h.example.com/x", webhookSecret: "s")
        let session = ConsoleSession(service: service, json: false, io: ConsoleIO(out: { _ in }, confirm: nil))
        // The admin view completes every user; the owner's page its own; another tenant's page none.
        #expect(Set(session.completions(for: LineContext(line: "user show ")).filter { f.users.contains($0) }) == Set(f.users))
        #expect(session.run(line: "open \(f.linkToken)") == .ok)
        #expect(session.completions(for: LineContext(line: "group show ")).contains(f.group))
        #expect(session.run(line: "close") == .ok)
        #expect(session.run(line: "open \(other.token)") == .ok)
        #expect(session.completions(for: LineContext(line: "user show ")).filter { f.users.contains($0) }.isEmpty)
        #expect(!session.completions(for: LineContext(line: "group show ")).contains(f.group))
    }

    @Test func aLongListShowsItsFirstPageAtOnceAndPagesOnATerminal() throws {
        let f = try Fixture(users: 120)
        let store = try SetupLinkService.openStore(path: f.db)
        defer { store.close() }
        let service = try SetupLinkService(store: store)
        let printed = Lines()
        let asked = Lines()
        // A terminal of 20 rows whose user stops at the second `-- more --`.
        let io = ConsoleIO(out: { printed.append($0) }, confirm: nil,
                           paging: .more(rows: 20, ask: { prompt in asked.append(prompt); return asked.count < 2 }))
        let session = ConsoleSession(service: service, json: false, io: io)
        #expect(session.run(line: "directory users \(f.directory.id)") == .ok)
        #expect(asked.count == 2 && asked.all.allSatisfy { $0.contains("-- more --") })
        let rows = printed.all.filter { $0.contains("@example.com") }
        #expect(rows.count == 39, "two screens, then stopped: \(printed.all.count) lines")
    }

    @Test func conflictsLeaveOutAddWinsMembershipsAndNameScimAttributes() throws {
        // Two replicas holding the same directory and group change it apart, then sync.
        let f = try Fixture(users: 3)
        let copy = temporaryReplica()
        let a = try SetupLinkService.openStore(path: f.db)
        let b = try SetupLinkService.openStore(path: copy)
        defer { a.close(); b.close() }
        try exchange(a, b)
        let scim = ScimDirectory(id: f.directory.id, baseURL: "https://hub.example.test" + f.directory.scimPath)
        func patch(_ store: ReplicaStore, _ id: String, _ ops: String, group: Bool) throws {
            let body = try JSONParser.parse(Array(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(ops)}"#.utf8))
            _ = try store.write { tx in
                let s = ScimReplicaTransaction(store: store, tx: tx)
                return group ? try scim.patchGroup(id, body, in: s) : try scim.patchUser(id, body, in: s)
            }
        }
        // A re-adds the removed member while B removes another: add vs remove on two memberships.
        try patch(a, f.group, #"[{"op":"add","path":"members","value":[{"value":"\#(f.users[0])"}]}]"#, group: true)
        try patch(b, f.group, #"[{"op":"remove","path":"members[value eq \"\#(f.users[0])\"]"}]"#, group: true)
        try patch(a, f.users[2], #"[{"op":"replace","path":"displayName","value":"From A"}]"#, group: false)
        try patch(b, f.users[2], #"[{"op":"replace","path":"displayName","value":"From B"}]"#, group: false)
        try exchange(a, b)
        #expect(try a.digest() == b.digest())
        let r = try runTool(["--db", f.db, "--json", "conflicts"])
        let rows = try #require(json(r.stdout)["conflicts"] as? [[String: Any]])
        #expect(rows.map { $0["field"] as? String } == ["displayName"], "\(rows)")
        #expect(rows.first?["kind"] as? String == "user" && rows.first?["id"] as? String == f.users[2])
        // The add won: the member is still there.
        let show = json(try runTool(["--db", f.db, "--json", "group", "show", f.group]).stdout)
        #expect((show["members"] as? [[String: Any]])?.contains { $0["value"] as? String == f.users[0] } == true)
    }

}

/// Lines printed or asked, gathered across threads.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ s: String) { lines.withLock { $0.append(s) } }
    var all: [String] { lines.withLock { $0 } }
    var count: Int { lines.withLock { $0.count } }
}
