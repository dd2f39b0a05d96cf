import Foundation
import Testing
@testable import Console

/// Issue 12.2: every REPL command works as `setuplink [--db F] [--json] COMMAND …`, with the
/// same output, JSON and exit status as the same line piped in.
@Suite struct OneShotTests {
    /// A replica with two links, a directory and a peer, made once per test.
    static func fixture() throws -> (db: String, directory: String) {
        let db = temporaryReplica()
        let setup = try runTool(["--db", db], input: """
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s --name "Acme EU"
            link create --tenant globex --product hr --webhook-url https://h.example.com/x --webhook-secret s
            open $(link copy \(linkID("acme", "crm")))
            directory new --type okta-scim-v2 --name "Acme Okta"
            close
            peer add hub http://127.0.0.1:9 --token t0k3n
            """)
        #expect(setup.status == 0, "\(setup.stderr)")
        let list = json(try runTool(["--db", db, "--json"], input: "directory list\n").stdout)
        let dir = try #require((list["directories"] as? [[String: Any]])?.first?["id"] as? String)
        return (db, dir)
    }

    /// A copy of the replica file (the store is closed, so the file alone is the replica).
    static func copy(_ db: String) throws -> String {
        let to = temporaryReplica()
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: db + suffix) {
            try FileManager.default.copyItem(atPath: db + suffix, toPath: to + suffix)
        }
        return to
    }

    /// What may differ between two runs: random tokens, the clock's minute, the file's path.
    static func normalized(_ text: String, paths: [String]) -> String {
        var t = text
        for p in paths { t = t.replacingOccurrences(of: p, with: "DB") }
        for (pattern, with) in [("[0-9a-f]{48}", "TOKEN"), ("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", "ISO"),
                                ("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC", "DATE"), ("\"digest\":\"[0-9a-f]+\"", "DIGEST"),
                                ("Digest +[0-9a-f]+", "DIGEST"),
                                // A hint names the way that works where it is shown: a file on the command line, --token in the REPL.
                                ("--token-file FILE", "--token T")] {
            t = t.replacingOccurrences(of: pattern, with: with, options: .regularExpression)
        }
        return t
    }

    /// Runs `line` one-shot on one copy of `db` and piped on another; expects the same result.
    func expectSameAsPiped(_ line: String, db: String, json: Bool) throws {
        let a = try Self.copy(db), b = try Self.copy(db)
        let flags = ["--db", a] + (json ? ["--json"] : [])
        let oneShot = try runTool(flags + CommandLexer.split(line))
        let piped = try runTool(["--db", b] + (json ? ["--json"] : []), input: line + "\n")
        let mode = json ? "--json " : ""
        // A malformed command is a malformed command line once (exit 2); a piped script that had one ends 1.
        let sameStatus = oneShot.status == piped.status || (oneShot.status == 2 && piped.status == 1)
        #expect(sameStatus, "\(mode)\(line): one-shot \(oneShot.status), piped \(piped.status): \(oneShot.stderr)")
        #expect(Self.normalized(oneShot.stdout, paths: [a]) == Self.normalized(piped.stdout, paths: [b]), "\(mode)\(line)")
        #expect(Self.normalized(oneShot.stderr, paths: [a]) == Self.normalized(piped.stderr, paths: [b]), "\(mode)\(line)")
        #expect(!oneShot.stdout.contains("\u{1B}"), "no colour when the output is not a terminal")
        if json {
            #expect(oneShot.lines.count == 1, "\(line): one object")
            #expect(JSONSerialization.isValidJSONObject(parsedJSON(oneShot.lines.first ?? "")), "\(line)")
        }
    }

    @Test(arguments: ["link", "directory", "tenant", "peer", "sync", "housekeeping"])
    func oneShotMatchesPiped(group: String) throws {
        let (db, dir) = try Self.fixture()
        let acme = linkID("acme", "crm"), globex = linkID("globex", "hr")
        let lines: [String]
        switch group {
        case "link":
            lines = ["link list", "link list --tenant acme", "link list --product nothing", "link show \(acme.prefix(5))",
                     "link copy \(acme)", "link update \(acme) --name 'Acme Europe'", "link update \(acme) --name 'Acme EU'",
                     "link regenerate \(acme) --yes", "link delete \(globex) --yes", "link show ffff",
                     "link create --tenant initech --product crm --webhook-url https://h.example.com/x --webhook-secret s",
                     "link create --tenant ' ' --product crm --webhook-url https://h.example.com/x --webhook-secret s", "link lsit"]
        case "directory":
            lines = ["directory list", "directory list --tenant acme", "directory show \(dir.prefix(6))",
                     "directory rename \(dir) 'Okta EU'", "directory deactivate \(dir)", "directory activate \(dir)",
                     "directory delete \(dir) --yes", "directory show 0000"]
        case "tenant":
            lines = ["providers", "close", "directory new", "open 0123abcd"]
        case "peer":
            // A one-shot takes the token from a file: a --token on a process's command line is refused (ps shows it).
            let tokenFile = (temporaryReplica() as NSString).deletingLastPathComponent + "/token"
            try "t0k3n\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            lines = ["peer list", "peer add p2 http://127.0.0.1:1", "peer add hub http://127.0.0.1:9 --token-file \(tokenFile)",
                     "peer remove hub", "peer remove nobody"]
        case "sync":
            lines = ["sync nobody", "sync 127.0.0.1:1", "sync http://127.0.0.1:1", "sync --token-file /nonexistent"]
        default:
            lines = ["status", "conflicts", "config", "config default-expiry-days 5", "config external-url https://sso.example.com",
                     "config colour red", "help link create", "help lnik"]
        }
        for line in lines {
            try expectSameAsPiped(line, db: db, json: false)
            try expectSameAsPiped(line, db: db, json: true)
        }
    }

    @Test func versionAndGlobalFlagHints() throws {
        let v = try runTool(["--version"])
        #expect(v.status == 0 && v.stdout.hasPrefix("setuplink "))
        let typo = try runTool(["--dbb", "x", "link", "list"])
        #expect(typo.status == 2 && typo.stderr.contains("did you mean --db?"), "\(typo.stderr)")
        let unknown = try runTool(["--db", temporaryReplica(), "lnik", "list"])
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean \"link\""), "\(unknown.stderr)")
        // help needs no replica.
        let help = try runTool(["--db", "/nonexistent/dir/r.sqlite", "help", "link", "create"])
        #expect(help.status == 0 && help.stdout.contains("usage: link create"))
        // `setuplink help` is the program's usage followed by the REPL's command list.
        let all = try runTool(["help"])
        #expect(all.stdout.contains("usage: setuplink") && all.stdout.contains("link regenerate"))
        #expect(all.stdout.components(separatedBy: "  directory show ").count == 2, "listed once")
    }

    @Test func externalURLSettingIsUsedWhenNoFlagOrEnvironmentGivesOne() throws {
        let (db, _) = try Self.fixture()
        let acme = linkID("acme", "crm")
        #expect(try runTool(["--db", db, "config", "external-url", "https://sso.example.com/"]).status == 0)
        #expect(try runTool(["--db", db, "link", "copy", acme]).stdout.hasPrefix("https://sso.example.com/setup/"))
        let flag = try runTool(["--db", db, "--external-url", "https://flag.example.com", "link", "copy", acme])
        #expect(flag.stdout.hasPrefix("https://flag.example.com/setup/"))
        let config = json(try runTool(["--db", db, "--json", "config"]).stdout)
        #expect(config["external-url"] as? String == "https://sso.example.com" && config["external-url-source"] as? String == "config")
        #expect(try runTool(["--db", db, "config", "external-url", "not a url"]).status == 1)
        #expect(try runTool(["--db", db, "config", "external-url", ""]).status == 0)
        #expect(try runTool(["--db", db, "link", "copy", acme]).stdout.hasPrefix("http://localhost:8080/setup/"))
    }

    @Test func idempotentCommandsSaySoAndLeaveTheClock() throws {
        let (db, dir) = try Self.fixture()
        #expect(try runTool(["--db", db, "directory", "deactivate", dir]).status == 0)
        let before = try status(db)
        let again = try runTool(["--db", db, "directory", "deactivate", String(dir.prefix(8))])
        #expect(again.status == 0 && again.stdout.contains("already inactive"), "\(again.stdout)")
        let lines = [
            "directory deactivate \(dir)", "directory rename \(dir) 'Acme Okta'",
            "link update \(linkID("acme", "crm")) --name 'Acme EU' --webhook-secret s",
            "link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s",
            "peer add hub http://127.0.0.1:9 --token t0k3n",
        ]
        let r = try runTool(["--db", db, "--json"], input: lines.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.lines.map { json($0)["result"] as? String } == ["unchanged", "unchanged", "unchanged", "existing", "unchanged"])
        let after = try status(db)
        #expect(after["clock"] as? String == before["clock"] as? String)
        #expect(after["digest"] as? String == before["digest"] as? String)
    }
}

/// Parses one line of JSON (any top-level value), for validity checks.
func parsedJSON(_ line: String) -> Any {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) ?? NSNull()
}
