import Foundation
import HTTP
import Testing
import TestSupport

/// Issue 27: what a new user hit, one test per item, each through the built `setuplink`
/// (pipes, one-shot command lines, `serve` as a child, a pseudo-terminal).
@Suite struct NewUserTests {
    static let create = "link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s"

    /// A replica with acme/crm holding one Okta directory, and globex/hr holding one; returns the directory ids.
    static func twoTenants() throws -> (db: String, acme: String, globex: String) {
        let db = temporaryReplica()
        let setup = try runTool(["--db", db], input: """
            \(create)
            link create --tenant globex --product hr --webhook-url https://h.example.com/x --webhook-secret s
            open $(link copy \(linkID("acme", "crm")))
            directory new --type okta-scim-v2 --name "Acme Okta"
            close
            open $(link copy \(linkID("globex", "hr")))
            directory new --type azure-scim-v2 --name "Globex Entra"
            close
            """)
        #expect(setup.status == 0, "\(setup.stderr)")
        let list = json(try runTool(["--db", db, "--json", "directory", "list"]).stdout)["directories"] as? [[String: Any]] ?? []
        let id = { (name: String) in list.first { $0["name"] as? String == name }?["id"] as? String ?? "" }
        return (db, id("Acme Okta"), id("Globex Entra"))
    }

    // MARK: 1. The external URL in force

    /// A mistyped --db is refused by the serve commands that only read, and a serve that cannot
    /// listen leaves no file it made (found by a new user: each created an empty replica).
    @Test func serveCommandsThatReadOrFailToListenCreateNoFile() throws {
        let folder = testFolder("no-stray-file")
        for args in [["serve", "token", "show"], ["serve", "peer-token", "list"], ["serve", "peer-token", "revoke", "laptop"]] {
            let db = folder + "/typo.sqlite"
            let r = try runTool(["--db", db] + args)
            #expect(r.status == 1 && r.errorLines.count == 1 && r.stderr.contains("no replica at"), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: db), "\(args) created \(db)")
        }
        // A port already taken: serve fails before it listens, and the new file is gone again.
        let (taken, port) = try boundSocket()
        defer { close(taken) }
        #expect(listen(taken, 1) == 0)
        let db = folder + "/busy.sqlite"
        let r = try runTool(["--db", db, "serve", "--port", String(port)])
        #expect(r.status == 1 && r.stderr.contains("in use"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db) && !FileManager.default.fileExists(atPath: db + "-wal"))
    }

    @Test func serveSaysWhichExternalURLItUsesAndUsesTheAddressItServesWithoutOne() throws {
        let db = temporaryReplica()
        #expect(try runTool(["--db", db], input: Self.create + "\n").status == 0)
        let hub = try ServedSetuplink(db: db, environment: ["SETUPLINK_TOKEN": "peer-secret-0123456789"])
        defer { hub.stop() }
        #expect(hub.banner.contains("external URL \(hub.url) (none configured: the address this server listens on"), "\(hub.banner)")
        // The page it serves builds the SCIM endpoint from that address, not localhost:8080.
        let link = json(try runTool(["--db", db, "--json", "link", "show", linkID("acme", "crm")]).stdout)
        let token = try #require(link["token"] as? String)
        let open = try runTool(["--db", db], input: "open \(token)\ndirectory new --type okta-scim-v2\n")
        #expect(open.status == 0, "\(open.stderr)")
        let body = String(decoding: try HTTPClient().send(method: "GET", url: "\(hub.url)/setup/\(token)").body, as: UTF8.self)
        #expect(body.contains("\(hub.url)/api/scim/v2.0/"), "the SCIM endpoint is on the address served")
        #expect(!body.contains("localhost:8080"))
        // `link copy` beside the hub gives the address served too, until one is configured.
        let copied = try runTool(["--db", db, "link", "copy", linkID("acme", "crm")])
        #expect(copied.stdout == "\(hub.url)/setup/\(token)\n", "\(copied.stdout)")
        #expect(try runTool(["--db", db, "config", "external-url", "https://hub.example.com"]).status == 0)
        #expect(try runTool(["--db", db, "link", "copy", linkID("acme", "crm")]).stdout.hasPrefix("https://hub.example.com/setup/"))
    }

    @Test func serveWarnsWhenTheConfiguredExternalURLReachesAnotherServerOrNothing() throws {
        let other = temporaryReplica()
        let otherHub = try ServedSetuplink(db: other, environment: ["SETUPLINK_TOKEN": "peer-secret-0123456789"])
        defer { otherHub.stop() }
        // Another replica answers at the configured URL: named as such. The flag is given after `serve`.
        let db = temporaryReplica()
        let wrong = try ServedSetuplink(db: db, serve: ["--port", "0", "--external-url", otherHub.url],
                                        environment: ["SETUPLINK_TOKEN": "peer-secret-0123456789"])
        defer { wrong.stop() }
        #expect(wrong.banner.contains("external URL \(otherHub.url) (from --external-url)"), "\(wrong.banner)")
        #expect(wrong.waitForLog("does not reach this server"), "\(wrong.accessLog)")
        #expect(wrong.accessLog.contains("answers replica"), "\(wrong.accessLog)")
        // Nothing answers there: said too.
        let port = try freePort()
        let nothing = try ServedSetuplink(db: temporaryReplica(), before: ["--external-url", "http://127.0.0.1:\(port)"],
                                          environment: ["SETUPLINK_TOKEN": "peer-secret-0123456789"])
        defer { nothing.stop() }
        #expect(nothing.waitForLog("does not reach this server"), "\(nothing.accessLog)")
        #expect(nothing.accessLog.contains("did not answer"), "\(nothing.accessLog)")
        // Its own address: checked and fine.
        let own = try ServedSetuplink(db: temporaryReplica())
        defer { own.stop() }
        #expect(own.waitForLog("external URL checked"), "\(own.accessLog)")
        #expect(!own.accessLog.contains("warning: the external URL"))
    }

    // MARK: 2. A failed open stops a piped script

    @Test func aPipedScriptStopsAtAFailedOpenAndChangesNothingOfAnotherTenant() throws {
        let (db, acme, globex) = try Self.twoTenants()
        let before = try status(db)
        let r = try runTool(["--db", db], input: """
            open deadbeef
            directory list
            directory delete \(globex) --yes
            # a comment does not count

            directory delete \(acme) --yes
            """)
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty, "nothing after the failed open ran: \(r.stdout)")
        #expect(r.errorLines == ["error: Setup link is not found. Please contact your administrator to get a new setup link"
                                 + " — the script stops here: the remaining 3 lines were not run"], "\(r.stderr)")
        let after = try status(db)
        #expect(after["directories"] as? Int == 2)
        #expect(after["digest"] as? String == before["digest"] as? String, "no change at all")
        // One-shot: the failed open exits 1, so `&&` stops too.
        #expect(try runTool(["--db", db, "open", "deadbeef"]).status == 1)
    }

    @Test func aFailedOpenAtTheTerminalStaysAnError() throws {
        let (db, _, _) = try Self.twoTenants()
        let home = (db as NSString).deletingLastPathComponent + "/home"
        let text = try PseudoTerminal.run(#"""
            P = 'setuplink(admin)> '
            expect(P)
            editing()
            send('open deadbeef\r')
            expect('Setup link is not found')
            expect(P)
            editing()
            send('link list\r')
            expect('globex')
            expect(P)
            editing()
            send('quit\r')
            finish()
            """#, db: db, home: home).stdout
        #expect(text.contains("EXIT 0"), "\(text)")
        #expect(!text.contains("the script stops"))
    }

    // MARK: 3. Hints that work where they are shown

    @Test func tokenHintsNameAWayThatWorksWhereTheyAreShown() throws {
        let db = temporaryReplica()
        #expect(try runTool(["--db", db, "init"]).status == 0)
        // On the command line, --token is refused: the hints say --token-file.
        for words in [["status"], ["peer", "list"], ["sync", "office"]] {
            let r = try runTool(["--db", db] + words)
            let said = r.stdout + r.stderr
            #expect(said.contains("--token-file FILE") && !said.contains("--token T"), "\(words): \(said)")
        }
        // In the REPL (piped too), --token T is accepted, and the hints say so.
        let piped = try runTool(["--db", db], input: "status\npeer list\nsync office\n")
        #expect((piped.stdout + piped.stderr).components(separatedBy: "--token T").count == 4, "\(piped.stdout)\(piped.stderr)")
        // A hub that wants a token: the 401 hint names --token-file and SETUPLINK_TOKEN, which work in both.
        let hub = try ServedSetuplink(db: temporaryReplica())
        defer { hub.stop() }
        let r = try runTool(["--db", db, "sync", hub.url])
        #expect(r.status == 1)
        #expect(r.stderr.contains("requires a token (401); give it with --token-file FILE or SETUPLINK_TOKEN"), "\(r.stderr)")
        // serve's banner, with a token it made: how a peer gives it, on the command line and in the REPL.
        let made = try ServedSetuplink(db: temporaryReplica(), serve: ["--port", "0"])
        defer { made.stop() }
        #expect(made.banner.contains("setuplink peer add NAME URL --token-file FILE"), "\(made.banner)")
    }

    // MARK: 4. Google is not offered

    @Test func googleIsNotOfferedWhereNoHubHasItConfigured() throws {
        let db = temporaryReplica()
        let r = try runTool(["--db", db], input: """
            \(Self.create)
            open $(link copy \(linkID("acme", "crm")))
            providers
            directory new --type google
            """)
        // `providers` leaves Google out and says why; a tenant on a laptop may still make a
        // Google directory offline (for a hub that offers Google), told that it syncs only there.
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("okta-scim-v2") && !r.stdout.contains("google  "), "\(r.stdout)")
        #expect(r.stdout.contains("google (Google Workspace) is not offered here"), "\(r.stdout)")
        #expect(r.stdout.contains("it syncs once a hub with Google configured serves its setup page"), "\(r.stdout)")
        #expect(try status(db)["directories"] as? Int == 1)
        let providers = json(try runTool(["--db", db, "--json"], input: "open $(link copy \(linkID("acme", "crm")))\nproviders\n").lines.last ?? "")
        let ids = (providers["providers"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == ["azure-scim-v2", "okta-scim-v2", "onelogin-scim-v2", "jumpcloud-scim-v2", "generic-scim-v2"])
    }

    // MARK: 5. A change a concurrent delete discarded is told

    @Test func aDeleteThatBeatsAConcurrentRegenerateIsToldAndListedUntilSeen() throws {
        let hubDB = temporaryReplica(), laptop = temporaryReplica()
        #expect(try runTool(["--db", hubDB], input: Self.create + "\n").status == 0)
        let hub = try ServedSetuplink(db: hubDB)
        defer { hub.stop() }
        let acme = linkID("acme", "crm")
        let first = try runTool(["--db", laptop], input: "peer add hub \(hub.url) --token peer-secret-0123456789\nsync hub\n")
        #expect(first.status == 0, "\(first.stderr)")
        let laptopID = try #require(try status(laptop)["replica"] as? String)
        let hubID = try #require(try status(hubDB)["replica"] as? String)
        // Offline: the laptop deletes, the hub regenerates (a REPL beside serve).
        #expect(try runTool(["--db", laptop, "link", "delete", acme, "--yes"]).status == 0)
        #expect(try runTool(["--db", hubDB, "link", "regenerate", acme, "--yes"]).status == 0)
        let sync = try runTool(["--db", laptop, "sync", "hub"])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.stdout.contains("link acme/crm was deleted on replica \(laptopID.prefix(8)) (this replica);"
                                     + " the regenerate made on replica \(hubID.prefix(8)) was discarded"), "\(sync.stdout)")
        #expect(sync.stdout.contains("conflicts 1"), "\(sync.stdout)")
        #expect(try runTool(["--db", hubDB, "link", "show", acme]).status == 1, "delete wins on the hub too")

        // The other way round: the hub deletes a link the laptop regenerated.
        let globex = linkID("globex", "hr")
        #expect(try runTool(["--db", hubDB], input: "link create --tenant globex --product hr --webhook-url https://h.example.com/x --webhook-secret s\n").status == 0)
        #expect(try runTool(["--db", laptop, "sync", "hub"]).status == 0)
        #expect(try runTool(["--db", laptop, "link", "regenerate", globex, "--yes"]).status == 0)
        #expect(try runTool(["--db", hubDB, "link", "delete", globex, "--yes"]).status == 0)
        let back = try runTool(["--db", laptop, "--json", "sync", "hub"])
        let discardedNow = json(back.stdout)["discarded"] as? [[String: Any]]
        #expect(discardedNow?.first?["subject"] as? String == "link globex/hr", "\(back.stdout)")

        // Listed by `conflicts` until marked seen.
        let listed = try runTool(["--db", laptop, "conflicts"]).stdout
        #expect(listed.contains("Discarded by a concurrent delete"), "\(listed)")
        #expect(listed.contains("link globex/hr was deleted on replica \(hubID.prefix(8)); the regenerate made on replica"
                                + " \(laptopID.prefix(8)) (this replica) was discarded"), "\(listed)")
        let listedJSON = json(try runTool(["--db", laptop, "--json", "conflicts"]).stdout)["discarded"] as? [[String: Any]]
        #expect(listedJSON?.count == 2 && listedJSON?.allSatisfy { $0["what"] as? String == "regenerate" } == true, "\(String(describing: listedJSON))")
        #expect(try runTool(["--db", laptop, "conflicts", "--seen"]).stdout.contains("Marked 2 discarded changes seen."))
        #expect(try runTool(["--db", laptop, "conflicts"]).stdout.contains("No conflicts"))
    }

    // MARK: 7. A mistyped --db

    @Test func aReadOnlyOneShotRefusesAMissingReplicaAndInitCreatesOne() throws {
        let folder = testFolder("typo")
        let typo = folder + "/sub/typo.sqlit"
        let r = try runTool(["--db", typo, "link", "list"])
        #expect(r.status == 1)
        #expect(r.errorLines == ["error: no replica at \(typo); create one with `setuplink --db \(typo) init`"], "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/sub"), "neither the file nor its folder is made")
        let j = try runTool(["--db", typo, "--json", "status"])
        #expect(j.status == 1 && (json(j.stdout)["error"] as? String)?.hasPrefix("no replica at") == true)
        let made = try runTool(["--db", typo, "init"])
        #expect(made.status == 0 && made.stdout.hasPrefix("new replica ") && made.stdout.contains(typo), "\(made.stdout)")
        let again = try runTool(["--db", typo, "init"])
        #expect(again.status == 0 && again.stdout.contains("already exists"))
        #expect(try runTool(["--db", typo, "link", "list"]).stdout.contains("No setup links yet"))
    }

    @Test func theREPLSaysWhenItMadeANewReplica() throws {
        let db = testFolder("fresh") + "/new.sqlite"
        let home = (db as NSString).deletingLastPathComponent + "/home"
        let text = try PseudoTerminal.run(#"""
            expect('new replica')
            expect('setuplink(admin)> ')
            editing()
            send('quit\r')
            finish()
            """#, db: db, home: home).stdout
        #expect(text.contains("EXIT 0"), "\(text)")
        let again = try PseudoTerminal.run(#"""
            seen = expect('setuplink(admin)> ')
            print('BANNER', 'new replica' in seen)
            editing()
            send('quit\r')
            finish()
            """#, db: db, home: home).stdout
        #expect(again.contains("BANNER False"), "\(again)")
    }

    // MARK: 8. Global flags after the command, JSON errors, exit codes

    @Test func globalFlagsAfterTheCommandAndJSONErrorsWithConsistentExitCodes() throws {
        let db = temporaryReplica()
        #expect(try runTool(["--db", db, "init"]).status == 0)
        let late = try runTool(["link", "list", "--json", "--db", db])
        #expect(late.status == 0 && late.stdout == "{\"links\":[]}\n", "\(late.stdout)\(late.stderr)")
        // A command's own flag value that looks like a global flag stays its value.
        let named = try runTool(["--db", db, "--json"] + Self.create.split(separator: " ").map(String.init) + ["--name", "--json"])
        #expect(named.status == 0 && json(named.stdout)["name"] as? String == "--json", "\(named.stdout)")
        // Unknown commands: exit 2 both ways, the error as JSON on stdout with --json wherever it is.
        for args in [["--json", "lnik"], ["--db", db, "--json", "link", "lsit"], ["--db", db, "link", "lsit", "--json"]] {
            let r = try runTool(args)
            #expect(r.status == 2, "\(args): \(r.status)")
            #expect((json(r.stdout)["error"] as? String)?.contains("did you mean") == true, "\(args): \(r.stdout)")
        }
        // A command that ran and failed: 1.
        let missing = try runTool(["--db", db, "--json", "link", "show", "ffff"])
        #expect(missing.status == 1 && json(missing.stdout)["error"] != nil)
        // Errors of the command line itself are JSON too: a file that is not a replica, serve's own.
        let notReplica = testFolder("json") + "/notes.txt"
        try "not a replica".write(toFile: notReplica, atomically: true, encoding: .utf8)
        for args in [["--db", notReplica, "--json"], ["--db", notReplica, "status", "--json"], ["--db", notReplica, "serve", "--json"]] {
            let r = try runTool(args, input: "status\n")
            #expect(r.status == 1 && json(r.lines.first ?? "")["error"] != nil && r.lines.count == 1, "\(args): \(r.stdout) \(r.stderr)")
        }
        let badPort = try runTool(["--db", db, "serve", "--port", "x", "--json"])
        #expect(badPort.status == 2 && (json(badPort.stdout)["error"] as? String)?.contains("--port") == true, "\(badPort.stdout)")
    }

    // MARK: 10. Whole errors in status and peer list

    @Test func statusAndPeerListShowAPeersWholeLastError() throws {
        let db = temporaryReplica()
        let port = try freePort()
        let r = try runTool(["--db", db], input: "peer add gone http://127.0.0.1:\(port) --token t\nsync gone\n")
        #expect(r.status == 1)
        let error = try #require(json(try runTool(["--db", db, "--json", "peer", "list"]).stdout)["peers"] as? [[String: Any]])
            .first?["last_error"] as? String
        let whole = try #require(error)
        #expect(whole.count > 48, "a long error: \(whole)")
        for words in [["status"], ["peer", "list"]] {
            let out = try runTool(["--db", db] + words).stdout
            #expect(out.contains(whole), "\(words): \(out)")
        }
    }

    // MARK: 12. help serve

    @Test func helpServeWorksAndTheTopHelpListsWebhookBatch() throws {
        let serve = try runTool(["help", "serve"])
        #expect(serve.status == 0, "\(serve.stderr)")
        for flag in ["--port", "--bind", "--token-file", "--tls-cert", "--webhook-batch", "--external-url"] {
            #expect(serve.stdout.contains(flag), "help serve lacks \(flag)")
        }
        #expect(try runTool(["help"]).stdout.contains("[--webhook-batch N]"))
        #expect(try runTool(["help", "init"]).status == 0)
        // The shell's other commands have help too (`help clone` used to suggest "close").
        for (topic, flag) in [("clone", "--token-file"), ("backup", "COPY")] {
            let r = try runTool(["help", topic])
            #expect(r.status == 0 && r.stdout.contains("usage: setuplink") && r.stdout.contains(flag), "help \(topic): \(r.stdout)\(r.stderr)")
        }
        let inREPL = try runTool(["--db", temporaryReplica()], input: "help serve\n")
        #expect(inREPL.status == 0 && inREPL.stdout.contains("usage: setuplink [--db PATH] serve"))
        let unknown = try runTool(["help", "srve"])
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean \"serve\""), "\(unknown.stderr)")
    }

    // MARK: 13. The small ones

    @Test func ctrlCAtThePromptStartsTheNextPromptOnANewLine() throws {
        let db = temporaryReplica()
        #expect(try runTool(["--db", db, "init"]).status == 0)
        let home = (db as NSString).deletingLastPathComponent + "/home"
        let text = try PseudoTerminal.run(#"""
            P = 'setuplink(admin)> '
            expect(P)
            editing()
            send('link list --tenant half-typed')
            send('\x03')
            seen = expect(P)
            tail = seen[seen.rindex('half-typed'):]
            print('NEWLINE', '\n' in tail)
            editing()
            send('quit\r')
            finish()
            """#, db: db, home: home).stdout
        #expect(text.contains("NEWLINE True"), "\(text)")
        #expect(text.contains("EXIT 0"))
    }

    @Test func statusAlignsPeersAndDirectoryShowHasCreated() throws {
        let (db, acme, _) = try Self.twoTenants()
        let lines = try runTool(["--db", db, "status"]).lines
        let columns = Set(lines.filter { !$0.hasPrefix(" ") }.compactMap { line -> Int? in
            guard let r = line.range(of: #"^[A-Z][a-z]+( [a-z]+)? +"#, options: .regularExpression) else { return nil }
            return line.distance(from: line.startIndex, to: r.upperBound)
        })
        #expect(lines.contains { $0.hasPrefix("Peers ") }, "\(lines)")
        #expect(columns.count == 1, "every value starts in one column: \(lines)")
        let show = try runTool(["--db", db, "directory", "show", acme]).stdout
        #expect(show.range(of: #"Created +\d{4}-\d\d-\d\d \d\d:\d\d UTC"#, options: .regularExpression) != nil, "\(show)")
        let deleted = try runTool(["--db", db, "directory", "delete", acme, "--yes"]).stdout
        #expect(deleted.contains("Acme Okta"), "\(deleted)")
    }

    @Test func conflictsSayWhichReplicaWroteWhichValue() throws {
        let a = temporaryReplica(), b = temporaryReplica()
        #expect(try runTool(["--db", a], input: Self.create + "\n").status == 0)
        let hub = try ServedSetuplink(db: a)
        defer { hub.stop() }
        #expect(try runTool(["--db", b], input: "peer add hub \(hub.url) --token peer-secret-0123456789\nsync hub\n").status == 0)
        let id = linkID("acme", "crm")
        #expect(try runTool(["--db", a, "link", "update", id, "--name", "From A"]).status == 0)
        #expect(try runTool(["--db", b, "link", "update", id, "--name", "From B"]).status == 0)
        #expect(try runTool(["--db", b, "sync", "hub"]).status == 0)
        let aID = try #require(try status(a)["replica"] as? String), bID = try #require(try status(b)["replica"] as? String)
        let rows = json(try runTool(["--db", b, "--json", "conflicts"]).stdout)["conflicts"] as? [[String: Any]] ?? []
        let name = try #require(rows.first { $0["field"] as? String == "name" })
        let writers = Set([name["kept_by"] as? String] + ((name["lost_by"] as? [String]) ?? []).map { Optional($0) })
        #expect(writers == [aID, bID], "\(name)")
        let table = try runTool(["--db", b, "conflicts"]).stdout
        #expect(table.contains("Written by") && table.contains(String(bID.prefix(8)) + " (here)"), "\(table)")
    }
}
