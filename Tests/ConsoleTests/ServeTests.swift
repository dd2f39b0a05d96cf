import Foundation
import Glibc
import HTTP
import PeerSync
import Replica
import Storage
import Testing
import TestSupport

/// `setuplink --db DB serve --port 0 EXTRA…` as a child process, `environment` added
/// to this process's (less SETUPLINK_*), once it listens (see `ServedSetuplink`).
func serverProcess(db: String, extra: [String] = [], environment: [String: String] = [:]) throws -> ServedSetuplink {
    try ServedSetuplink(db: db, serve: ["--port", "0"] + extra, environment: environment)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}

@Suite struct ServeTests {
    @Test func theTwoPeersSampleRuns() throws {
        let run = try runChild(URL(fileURLWithPath: "/bin/bash"),
                               [packageRoot().appendingPathComponent("Samples/two-peers.sh").path, setuplinkBinary().path])
        let text = run.stdout + run.stderr
        #expect(run.status == 0, "\(text)")
        #expect(text.contains("converged"))
        #expect(text.contains("acme"))
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func serveStopsCleanlyOnASignal(signal: Int32) throws {
        let db = temporaryReplica()
        let server = try serverProcess(db: db, environment: ["SETUPLINK_TOKEN": "secret-1"])
        let health = try HTTPClient().send(method: "GET", url: server.url + "/healthz")
        #expect(health.status == 200)
        kill(server.process.processIdentifier, signal)
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0)
        #expect(server.waitForLog(" GET /healthz 200 ", seconds: 10), "the log is read by a thread of its own: wait for it")
        #expect(!server.accessLog.contains("secret-1"), "the log never shows the token")
        // The replica closed cleanly and opens again.
        #expect(try status(db)["replica"] != nil)
    }

    @Test func serveGeneratesAStoredTokenOnceAndRefusesBadFlags() throws {
        let db = temporaryReplica()
        let first = try serverProcess(db: db)
        #expect(first.token.count == 48)
        kill(first.process.processIdentifier, SIGTERM)
        first.process.waitUntilExit()
        let second = try serverProcess(db: db)
        #expect(second.token.isEmpty, "the stored token is not printed again")
        #expect(try runTool(["--db", db, "serve", "token", "show"]).stdout == "\(first.token)\n")
        let summary = try HTTPClient().send(method: "GET", url: second.url + "/sync/v1/summary",
                                            headers: ["Authorization": "Bearer \(first.token)"])
        #expect(summary.status == 200, "the stored token still works")
        kill(second.process.processIdentifier, SIGTERM)
        second.process.waitUntilExit()
        for args in [["serve", "--port", "x"], ["serve", "--port", "1", "--colour"], ["serve", "--port", "70000"],
                     ["serve", "--token", "t"], ["serve", "--tls-cert", "c.pem"], ["serve", "token"], ["serve", "token", "shw"]] {
            let r = try runTool(["--db", db] + args)
            #expect(r.status == 2, "\(args)")
            #expect(r.errorLines.count == 1 && r.stderr.hasPrefix("error: "), "\(args): \(r.stderr)")
        }
    }

    @Test func aREPLOnTheServedFileSeesPushesAndItsWritesAreServed() throws {
        let hubDB = temporaryReplica(), laptopDB = temporaryReplica()
        let hub = try serverProcess(db: hubDB, environment: ["SETUPLINK_TOKEN": "tok"])
        defer {
            kill(hub.process.processIdentifier, SIGTERM)
            hub.process.waitUntilExit()
        }
        // A second process writes to the file the server is serving.
        let local = try runTool(["--db", hubDB], input: "link create --tenant hubside --product crm --webhook-url https://h.example.com/x --webhook-secret s\n")
        #expect(local.status == 0, "\(local.stderr)")
        let laptop = try runTool(["--db", laptopDB, "--json"], input: """
            link create --tenant fieldside --product crm --webhook-url https://h.example.com/x --webhook-secret s
            sync \(hub.url) --token tok
            link list
            """)
        #expect(laptop.status == 0, "\(laptop.stderr)")
        let laptopTenants = (json(laptop.lines.last ?? "")["links"] as? [[String: Any]] ?? []).compactMap { $0["tenant"] as? String }
        #expect(laptopTenants == ["fieldside", "hubside"], "the hub served the REPL's write")
        let onHub = json(try runTool(["--db", hubDB, "--json"], input: "link list\n").stdout)
        let hubTenants = (onHub["links"] as? [[String: Any]] ?? []).compactMap { $0["tenant"] as? String }
        #expect(hubTenants == ["fieldside", "hubside"], "a REPL on the served file sees what the peer pushed")
    }

    @Test func killNineDuringALargePushThenSyncAgainLosesNothing() throws {
        let laptopDB = temporaryReplica(), hubDB = temporaryReplica()
        do {
            let laptop = try ReplicaStore(path: laptopDB)
            for batch in 0..<100 {
                try laptop.write { tx in
                    for i in 0..<100 {
                        let l = validLink(tenant: "t\(batch)", product: "p\(i)")
                        try tx.write(id: l.id, kind: .link, l.values, revive: true)
                    }
                }
            }
            laptop.close()
        }
        var hub = try serverProcess(db: hubDB, environment: ["SETUPLINK_TOKEN": "tok"])
        let client = Process()
        client.executableURL = setuplinkBinary()
        client.arguments = ["--db", laptopDB, "sync", hub.url]
        client.environment = ProcessInfo.processInfo.environment.merging(["SETUPLINK_TOKEN": "tok"]) { $1 }
        client.standardOutput = FileHandle.nullDevice
        let clientErr = Pipe()
        client.standardError = clientErr
        try client.run()
        #expect(hub.waitForLog("POST /sync/v1/push 200"), "a first page was pushed")
        kill(hub.process.processIdentifier, SIGKILL)
        hub.process.waitUntilExit()
        client.waitUntilExit()
        let clientError = String(decoding: clientErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(client.terminationStatus == 1, "the cut-off sync fails: \(clientError)")
        #expect(clientError.hasPrefix("error: "))
        let partial = try status(hubDB)["links"] as? Int ?? -1
        #expect(partial > 0 && partial < 10_000, "the hub holds the pages it acknowledged: \(partial)")

        hub = try serverProcess(db: hubDB, environment: ["SETUPLINK_TOKEN": "tok"])
        let again = try runTool(["--db", laptopDB, "--json", "sync", hub.url], environment: ["SETUPLINK_TOKEN": "tok"])
        #expect(again.status == 0, "\(again.stderr)")
        let report = json(again.stdout)
        #expect((report["pushed"] as? Int ?? 0) < 10_000, "the second sync resumed instead of starting over")
        let a = try status(laptopDB), b = try status(hubDB)
        #expect(b["links"] as? Int == 10_000)
        #expect(a["digest"] as? String == b["digest"] as? String)
        kill(hub.process.processIdentifier, SIGTERM)
        hub.process.waitUntilExit()
        let store = try ReplicaStore(path: hubDB)
        #expect(try store.integrityCheck() == "ok")
    }
}
