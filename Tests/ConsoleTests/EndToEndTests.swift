import Foundation
import SetupLinks
import Testing
import TestSupport

@Suite struct EndToEndTests {
    @Test func statusPrintsOneJSONObjectAndNewReplicasDiffer() throws {
        let a = try status(temporaryReplica()), b = try status(temporaryReplica())
        for key in ["replica", "links", "directories", "digest"] { #expect(a[key] != nil, "missing \(key)") }
        #expect(a["replica"] as? String != b["replica"] as? String)
        #expect(a["digest"] as? String == b["digest"] as? String)
        #expect(a["links"] as? Int == 0)
    }

    @Test func aFileThatIsNotAReplicaIsRefusedUnchanged() throws {
        let db = temporaryReplica()
        let junk = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        try junk.write(to: URL(fileURLWithPath: db))
        let r = try runTool(["--db", db, "--json"], input: "status\n")
        #expect(r.status == 1)
        #expect(r.errorLines.count == 1)
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains("is not a setuplink replica"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == junk)
    }

    @Test func theAdminSampleRuns() throws {
        let db = temporaryReplica()
        let script = try String(contentsOf: packageRoot().appendingPathComponent("Samples/admin.repl"), encoding: .utf8)
        let r = try runTool(["--db", db], input: script)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("already exists; it is unchanged"))
        #expect(r.stdout.contains("Regenerated"))
        let copied = try #require(r.lines.first { $0.hasPrefix("http://localhost:8080/setup/") })
        let list = json(try runTool(["--db", db, "--json"], input: "link list\n").stdout)
        let links = try #require(list["links"] as? [[String: Any]])
        #expect(links.count == 1, "globex's link was deleted")
        #expect(links[0]["tenant"] as? String == "acme")
        #expect(links[0]["url"] as? String != copied, "regenerate replaced the copied URL")
        let reopened = try runTool(["--db", db], input: "open \(copied)\n")
        #expect(reopened.status == 1)
        #expect(reopened.stderr.contains("Setup link is not found"))
        #expect(reopened.stderr.contains("Please contact your administrator to get a new setup link."))
    }

    @Test func theTenantSampleRuns() throws {
        let db = temporaryReplica()
        let script = try String(contentsOf: packageRoot().appendingPathComponent("Samples/tenant.repl"), encoding: .utf8)
        let r = try runTool(["--db", db], input: script)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("SCIM Endpoint"))
        #expect(r.stdout.contains("SCIM Token"))
        #expect(try status(db)["directories"] as? Int == 2)
    }

    @Test func theLibrarySampleRuns() throws {
        let r = try runTool([temporaryReplica()], product: "LibraryDemo")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("1 link(s), 1 directory(ies)"))
    }

    @Test func jsonOutputUsesTheSpecFieldNames() throws {
        let db = temporaryReplica()
        let r = try runTool(["--db", db, "--json", "--external-url", "https://sso.example.com"], input: """
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
            open $(link copy 330916220c72cb632ccf133a9e897da4)
            directory new --type okta-scim-v2
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.lines.count == 3, "one JSON object per command")
        let link = json(r.lines[0])
        for key in ["id", "tenant", "product", "token", "url", "valid_till", "status"] { #expect(link[key] != nil, "link lacks \(key)") }
        #expect((link["token"] as? String)?.count == 48)
        #expect(link["url"] as? String == "https://sso.example.com/setup/\(link["token"] as? String ?? "")")
        let dir = json(r.lines[2])
        for key in ["id", "type", "scim_endpoint", "scim_token", "deactivated", "status"] { #expect(dir[key] != nil, "directory lacks \(key)") }
        #expect(dir["deactivated"] as? Bool == false)
        #expect((dir["scim_endpoint"] as? String)?.hasPrefix("https://sso.example.com/api/scim/v2.0/") == true)
    }

    @Test func externalURLComesFromTheEnvironment() throws {
        let db = temporaryReplica()
        let r = try runTool(["--db", db], input: """
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
            link copy 330916220c72cb632ccf133a9e897da4
            """, environment: ["SETUPLINK_EXTERNAL_URL": "https://env.example.com"])
        #expect(r.lines.last?.hasPrefix("https://env.example.com/setup/") == true)
        #expect(try runTool(["--db", db, "--external-url", "not a url"], input: "status\n").status == 1)
    }

    @Test func everyBadInputGetsOneLineAndChangesNothing() throws {
        let db = temporaryReplica()
        let setup = try runTool(["--db", db], input: """
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
            link create --tenant globex --product crm --webhook-url https://h.example.com/x --webhook-secret s
            open $(link copy \(linkID("globex", "crm")))
            directory new
            """)
        #expect(setup.status == 0, "\(setup.stderr)")
        let globexDir = try #require(json(try runTool(["--db", db, "--json"], input: "directory list --tenant globex\n").stdout)["directories"] as? [[String: Any]]).first?["id"] as? String
        let before = try status(db)["digest"] as? String
        let acme = "open $(link copy 330916220c72cb632ccf133a9e897da4)\n"
        let cases: [(String, String)] = [
            ("lnik list", "did you mean \"link\""),
            ("link lsit", "did you mean \"link list\""),
            ("link create --tenant x --product y --webhook-url https://h/x --webhook-secret s --colour red", "unknown flag --colour"),
            ("link create --tenant x --webhook-url https://h/x --webhook-secret s", "needs --product"),
            ("link create --tenant x --product y --webhook-url ftp://h/x --webhook-secret s", "not an absolute http(s) URL"),
            ("link create --tenant x --product y --webhook-url example.com --webhook-secret s", "not an absolute http(s) URL"),
            ("link create --tenant a:b --product y --webhook-url https://h/x --webhook-secret s", "must not contain ':'"),
            ("link create --tenant \"$(printf 'a\\tb')\" --product y --webhook-url https://h/x --webhook-secret s", "unknown command"),
            ("link create --tenant \(String(repeating: "t", count: 257)) --product y --webhook-url https://h/x --webhook-secret s", "at most 256"),
            ("link create --tenant x --product y --webhook-url https://h/x --webhook-secret s --expiry-days 0", "not a positive whole number"),
            ("link create --tenant x --product y --webhook-url https://h/x --webhook-secret s --expiry-days -3", "not a positive whole number"),
            ("link create --tenant x --product y --webhook-url https://h/x --webhook-secret s --expiry-days soon", "not a positive whole number"),
            ("link create --tenant \"x --product y", "unterminated double quote"),
            ("link show 0000", "no setup link with id 0000"),
            ("link delete 0000 --yes", "no setup link with id 0000"),
            ("directory new", "no setup page is open"),
            ("directory delete 0000 --yes", "no directory with id 0000"),
            ("link create --tenant '  ' --product y --webhook-url https://h/x --webhook-secret s", "tenant must not be empty or only blanks"),
            ("link create --tenant x --product y --webhook-url https://h/x --webhook-secret ' '", "webhook secret must not be empty"),
            ("link create --tenant x --product y --webhook-url https://h/x --webhook-secret s --name ' '", "name must not be empty"),
            ("directory rename \(globexDir ?? "x") '   '", "name must not be empty"),
            ("link update \(linkID("acme", "crm"))", "needs at least one of"),
            (acme + "directory new --type azure", "unknown provider type \"azure\""),
            (acme + "directory deactivate \(globexDir ?? "x")", "no directory with id"),
            (acme + "directory delete \(globexDir ?? "x") --yes", "no directory with id"),
            (acme + "directory show \(globexDir ?? "x")", "no directory with id"),
            ("open 1234", "Setup link is not found"),
            ("close", "no setup page is open"),
            ("peer add hub notaurl", "not an absolute http(s) URL"),
            ("sync 127.0.0.1:42395", "to sync with an address give a URL: sync http://127.0.0.1:42395"),
        ]
        for (line, message) in cases {
            let r = try runTool(["--db", db], input: line + "\n")
            #expect(r.status == 1, "\(line) should fail")
            #expect(r.errorLines.count == 1, "\(line): \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(message), "\(line): got \(r.stderr)")
            #expect(try status(db)["digest"] as? String == before, "\(line) changed the replica")
        }
    }

    @Test func pipedInputRunsEveryLineAndReportsFailure() throws {
        let db = temporaryReplica()
        let r = try runTool(["--db", db], input: """
            # a comment line
            bogus
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
               # an indented comment
            link list
            """)
        #expect(r.status == 1)
        #expect(r.errorLines == ["error: unknown command \"bogus\" (type help for the list)"])
        #expect(r.stdout.contains("acme"))
        #expect(!r.stdout.contains("setuplink(admin)>"), "no prompt on a pipe")
    }

    @Test func emptyListsSayHowToCreateTheFirst() throws {
        let r = try runTool(["--db", temporaryReplica()], input: "link list\ndirectory list\npeer list\n")
        #expect(r.lines[0].contains("link create --tenant T --product P"))
        #expect(r.lines[1].contains("directory new"))
        #expect(r.lines[2].contains("peer add"))
    }

    @Test func helpListsCommandsAndShowsOne() throws {
        let r = try runTool(["--db", temporaryReplica()], input: "help\nhelp link create\nhelp lnik\n")
        #expect(r.stdout.contains("link regenerate"))
        #expect(r.stdout.contains("usage: link create --tenant T"))
        #expect(r.stdout.contains("example: link create"))
        #expect(r.stderr.contains("did you mean"))
    }

    @Test func badCommandLinesExitTwo() throws {
        #expect(try runTool(["--frobnicate"]).status == 2)
        #expect(try runTool(["--db"]).status == 2)
        let r = try runTool(["--db", temporaryReplica(), "sycn"])
        #expect(r.status == 2 && r.stderr.contains("did you mean \"sync\""))
    }
}

/// The deterministic id of a link.
func linkID(_ tenant: String, _ product: String) -> String {
    SetupLinkService.linkID(tenant: tenant, product: product)
}
