import Foundation
import TestSupport
import Glibc
import Testing

/// Issue 12.9: `sync` of several peers prints one line per peer, and one error line.
@Suite struct SyncFeedbackTests {
    @Test func syncOfSeveralPeersPrintsOneLinePerPeer() throws {
        let hubDB = temporaryReplica(), laptop = temporaryReplica()
        let seed = try runTool(["--db", hubDB, "link", "create", "--tenant", "acme", "--product", "crm",
                                "--webhook-url", "https://h.example.com/x", "--webhook-secret", "s"])
        #expect(seed.status == 0)
        let hub = try serverProcess(db: hubDB, environment: ["SETUPLINK_TOKEN": "hub-token"])
        defer {
            kill(hub.process.processIdentifier, SIGTERM)
            hub.process.waitUntilExit()
        }
        let setup = try runTool(["--db", laptop], input: """
            peer add hub \(hub.url) --token hub-token
            peer add gone http://127.0.0.1:1
            """)
        #expect(setup.status == 0, "\(setup.stderr)")
        let r = try runTool(["--db", laptop], input: "sync\n")
        #expect(r.status == 1)
        #expect(r.lines.count == 2, "\(r.stdout)")
        #expect(r.lines[0].hasPrefix("gone  failed: ") && r.lines[0].contains("connection refused"), "\(r.stdout)")
        // The link and the hub's two member records of its first contact; the laptop's two go up (Storage.docc/Tombstones.md):
        // counted by kind, the members apart as bookkeeping.
        #expect(r.lines[1].hasPrefix("hub   pulled 1 link; pushed nothing; conflicts 0 ("), "\(r.stdout)")
        #expect(r.lines[1].hasSuffix("; 4 bookkeeping records)"), "\(r.stdout)")
        #expect(r.errorLines == ["error: 1 of 2 peers failed: gone"], "\(r.stderr)")
        let j = try runTool(["--db", laptop, "--json"], input: "sync\n")
        #expect(j.lines.count == 1)
        let object = json(j.lines.first ?? "")
        let peers = try #require(object["peers"] as? [[String: Any]])
        #expect(peers.map { $0["peer"] as? String } == ["gone", "hub"])
        #expect(peers[0]["error"] is String && peers[1]["pulled"] as? Int == 0)
        #expect(object["failed"] as? Int == 1)
    }
}
