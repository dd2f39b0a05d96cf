import Fixtures
import Foundation
import Replica
import SetupLinks
import Storage
import Testing
@testable import Console

/// Issue 12.3: with `--json`, every command prints exactly one object on one line, errors included.
@Suite struct JSONOutputTests {
    /// Commands that succeed on the fixture of `randomMixesKeepOneObjectPerLine`, and ones that fail.
    static let good = [
        "link list", "link list --tenant acme", "link show 3309", "link copy 330916220c72cb632ccf133a9e897da4", "status",
        "providers", "peer list", "conflicts", "config", "help", "help link create", "directory list",
        "link update 3309 --name Acme", "link create --tenant t --product p --webhook-url https://h/x --webhook-secret s",
        "   ", "# a comment",
    ]
    static let bad = [
        "bogus", "link lsit", "link show ffff", "link show", "link create --tenant x", "directory new", "close",
        "open nothing", "link create --tenant \"x", "directory show 0", "peer remove nobody", "sync nobody",
        "link update 3309", "config colour red", "link create --tenant ' ' --product p --webhook-url https://h/x --webhook-secret s",
        "help lnik", "directory rename 0 x", "$(bogus)",
    ]

    @Test func nInputLinesGiveNObjectsErrorsIncluded() throws {
        let db = temporaryReplica()
        let input = [
            "link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s",
            "link show nothing", "lnik list", "link list", "directory new", "status", "link create --tenant \"x",
        ]
        let r = try runTool(["--db", db, "--json"], input: input.joined(separator: "\n") + "\n")
        #expect(r.status == 1)
        #expect(r.lines.count == input.count, "\(r.stdout)")
        let objects = r.lines.map(json)
        #expect(objects.allSatisfy { !$0.isEmpty }, "every line is one JSON object")
        #expect(objects.map { $0["error"] != nil } == [false, true, true, false, true, false, true])
        #expect(objects[1]["command"] as? String == "link show")
        #expect(objects[2]["command"] is NSNull, "an unknown command has no name")
        #expect((objects[1]["error"] as? String)?.contains("no setup link with id nothing") == true)
        // The stderr lines are still there, one per failure.
        #expect(r.errorLines.count == 4 && r.errorLines.allSatisfy { $0.hasPrefix("error: ") })
    }

    @Test func randomMixesKeepOneObjectPerLine() throws {
        let seed = SeededGenerator.seed()
        print("JSONOutputTests.randomMixesKeepOneObjectPerLine seed \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let db = temporaryReplica()
        let setup = try runTool(["--db", db], input: "link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s\n")
        #expect(setup.status == 0)
        for round in 0..<4 {
            var lines: [(String, Bool?)] = []
            for _ in 0..<Int.random(in: 10...30, using: &rng) {
                if Bool.random(using: &rng) {
                    lines.append((Self.good.randomElement(using: &rng)!, true))
                } else {
                    lines.append((Self.bad.randomElement(using: &rng)!, false))
                }
            }
            let r = try runTool(["--db", db, "--json"], input: lines.map(\.0).joined(separator: "\n") + "\n")
            // Blank and comment lines print nothing; every other line prints one object, up to a
            // failed `open`, which stops the script (the lines after it were meant for that page).
            let ran = lines.firstIndex { $0.0 == "open nothing" }.map { Array(lines[...$0]) } ?? lines
            let expected = ran.filter { !$0.0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.0.hasPrefix("#") }
            #expect(r.lines.count == expected.count, "seed \(seed) round \(round): \(lines.map(\.0))\n\(r.stdout)")
            for (line, (input, good)) in zip(r.lines, expected) {
                let object = json(line)
                #expect(!object.isEmpty, "seed \(seed): \(input) printed \(line)")
                #expect((object["error"] != nil) == (good == false), "seed \(seed): \(input) printed \(line)")
            }
            let failures = expected.filter { $0.1 == false }.count
            #expect(r.status == (failures > 0 ? 1 : 0), "seed \(seed)")
            #expect(r.errorLines.count == failures, "seed \(seed): \(r.stderr)")
        }
    }

    @Test func deletingAGoogleDirectoryDoesNotMentionASCIMToken() throws {
        let store = try SetupLinkService.openStore(path: temporaryReplica())
        defer { store.close() }
        let service = try SetupLinkService(store: store)
        let (link, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: "https://h/x", webhookSecret: "s")
        let google = try service.open(link.token).createDirectory(type: .google)
        let okta = try service.open(link.token).createDirectory(type: .okta)
        let asked = CapturedOutput()
        let session = ConsoleSession(service: service, json: false, io: ConsoleIO(out: { _ in }, confirm: { asked.append($0); return false }))
        #expect(session.run(line: "directory delete \(google.id)") == .ok)
        #expect(session.run(line: "directory delete \(okta.id)") == .ok)
        let questions = asked.text.split(separator: "\n").map(String.init)
        #expect(questions.count == 2)
        #expect(!questions[0].contains("SCIM") && questions[0].contains("Google"), "\(questions[0])")
        #expect(questions[1].contains("SCIM endpoint and token stop working"), "\(questions[1])")
    }

    @Test func aDeclinedQuestionPrintsAnObject() throws {
        let store = try SetupLinkService.openStore(path: temporaryReplica())
        defer { store.close() }
        let service = try SetupLinkService(store: store)
        let (link, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: "https://h/x", webhookSecret: "s")
        let out = CapturedOutput()
        let session = ConsoleSession(service: service, json: true, io: ConsoleIO(out: { out.append($0) }, confirm: { _ in false }))
        #expect(session.run(line: "link delete \(link.id.prefix(6))") == .ok)
        #expect(session.run(line: "link regenerate \(link.id)") == .ok)
        let objects = out.text.split(separator: "\n").map { json(String($0)) }
        #expect(objects.count == 2)
        #expect(objects.allSatisfy { $0["result"] as? String == "declined" && $0["id"] as? String == link.id })
        #expect(objects.map { $0["command"] as? String } == ["link delete", "link regenerate"])
        #expect(try service.link(id: link.id).token == link.token, "nothing changed")
    }
}
