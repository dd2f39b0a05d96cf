import Foundation
import Glibc
import HTTP
import SetupLinks
import Storage
import Testing
import TestSupport

/// A file only its owner can read, in a test's folder.
private func secretFile(_ text: String, in folder: String, name: String) -> String {
    let path = folder + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600])
    return path
}

/// A directory made in process on the replica at `db` (before it is served), with its SCIM token.
private func makeDirectory(_ db: String, tenant: String = "acme") throws -> Directory {
    let store = try SetupLinkService.openStore(path: db)
    defer { store.close() }
    return try SetupLinkService(store: store).createDirectory(tenant: tenant, product: "crm", type: .generic)
}

/// `POST {hub}{scim path}/Users`: returns the status and the new user's id.
private func createUser(_ hub: String, _ d: Directory, _ userName: String) throws -> (status: Int, id: String?) {
    let body = """
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\(userName)",\
        "name":{"givenName":"G","familyName":"F"},"emails":[{"value":"\(userName)","primary":true}],"active":true}
        """
    let r = try HTTPClient().send(method: "POST", url: hub + d.scimPath + "/Users",
                                  headers: ["Authorization": "Bearer \(d.scimToken)", "Content-Type": "application/scim+json"],
                                  body: Array(body.utf8))
    return (r.status, json(String(decoding: r.body, as: UTF8.self))["id"] as? String)
}

/// The status of `GET {hub}{scim path}/{path}`.
private func scimGet(_ hub: String, _ d: Directory, _ path: String) -> Int {
    (try? HTTPClient(timeout: .seconds(5)).send(method: "GET", url: hub + d.scimPath + path,
                                                headers: ["Authorization": "Bearer \(d.scimToken)"]).status) ?? 0
}

/// `setuplink --db DB serve --port PORT` with the peer token in the environment and `extra` serve flags.
private func hub(_ db: String, port: UInt16, token: String = "mesh-token", _ extra: [String] = []) throws -> ServedSetuplink {
    try ServedSetuplink(db: db, before: ["--external-url", "http://127.0.0.1:\(port)"], serve: ["--port", String(port)] + extra,
                        environment: ["SETUPLINK_TOKEN": token])
}

/// `setuplink ARGS` with `environment`; the run must succeed.
@discardableResult
private func tool(_ args: [String], _ environment: [String: String] = [:]) throws -> RunResult {
    let r = try runTool(args, environment: environment)
    #expect(r.status == 0, "setuplink \(args.joined(separator: " ")): \(r.stderr)")
    return r
}

/// Hubs that keep each other current (issue 25): following, per-peer tokens, backup, metrics.
@Suite struct MeshTests {
    /// Three hubs in a ring of follows (A follows B, B follows C, C follows A; each sync is
    /// both ways, so every hub is kept current with the other two), SCIM writes on all three
    /// at once: every hub reaches the same digest with no `sync` command. Then C stops, A and
    /// B take writes, C restarts and catches up by itself. And a change on A is readable on B.
    @Test func aRingOfFollowsConvergesByItself() throws {
        let folder = testFolder("mesh-ring")
        let names = ["a", "b", "c"]
        let dbs = names.map { folder + "/\($0).sqlite" }
        let ports = try names.map { _ in try freePort() }
        let tokenFile = secretFile("mesh-token", in: folder, name: "peer.token")
        for i in 0..<3 {
            let next = (i + 1) % 3
            try tool(["--db", dbs[i], "peer", "add", names[next], "http://127.0.0.1:\(ports[next])", "--token-file", tokenFile, "--follow"])
        }
        let directory = try makeDirectory(dbs[0])
        var hubs = try (0..<3).map { try hub(dbs[$0], port: ports[$0]) }
        defer { for h in hubs { h.stop() } }
        #expect(hubs[0].process.isRunning)
        // The directory made on A reaches B and C by itself: their SCIM endpoints answer.
        for h in hubs { #expect(poll(until: { scimGet(h.url, directory, "/Users") == 200 }, deadline: .seconds(60)), "\(h.url)") }

        // Concurrent SCIM writes on the three hubs.
        let perHub = 8
        let created = Locked<[String]>([])
        let urls = hubs.map(\.url)
        DispatchQueue.concurrentPerform(iterations: 3) { i in
            for n in 0..<perHub {
                if let r = try? createUser(urls[i], directory, "u\(n)@\(names[i]).example.com"), r.status == 201, let id = r.id {
                    created.withLock { $0.append(id) }
                }
            }
        }
        #expect(created.withLock { $0.count } == 3 * perHub)
        func converged(_ indexes: [Int], users: Int) -> Bool {
            let statuses = indexes.compactMap { try? status(dbs[$0]) }
            guard statuses.count == indexes.count else { return false }
            let digests = Set(statuses.compactMap { $0["digest"] as? String })
            return digests.count == 1 && statuses.allSatisfy { $0["users"] as? Int == users }
        }
        #expect(poll(until: { converged([0, 1, 2], users: 3 * perHub) }, deadline: .seconds(90)), "the ring converges without sync")
        // Status shows the followed peer: following, a last success, nothing it lacks.
        let peers = try status(dbs[0])["peers"] as? [[String: Any]] ?? []
        #expect(peers.count == 1 && peers[0]["following"] as? Bool == true && peers[0]["last_success"] is String)

        // A change accepted by A is readable on B: it arrives (B follows C, C follows A, A follows B).
        let one = try createUser(hubs[0].url, directory, "arrives@a.example.com")
        #expect(one.status == 201)
        #expect(poll(until: { scimGet(hubs[1].url, directory, "/Users/\(one.id ?? "")") == 200 }, deadline: .seconds(30)))

        // C stops; A and B take writes; C restarts on its port and catches up by itself.
        hubs[2].stop()
        for n in 0..<4 {
            #expect(try createUser(hubs[0].url, directory, "late\(n)@a.example.com").status == 201)
            #expect(try createUser(hubs[1].url, directory, "late\(n)@b.example.com").status == 201)
        }
        #expect(poll(until: { converged([0, 1], users: 3 * perHub + 1 + 8) }, deadline: .seconds(60)))
        hubs[2] = try hub(dbs[2], port: ports[2])
        #expect(poll(until: { converged([0, 1, 2], users: 3 * perHub + 1 + 8) }, deadline: .seconds(90)), "C catches up")
        #expect(!hubs[2].accessLog.contains(" 500 "), "\(hubs[2].accessLog.suffix(2000))")
    }

    /// `Samples/mesh.sh`: three hubs, each following the other two with per-peer tokens,
    /// converge by themselves, and one restarted catches up.
    @Test func theMeshSampleRuns() throws {
        let run = try runChild(URL(fileURLWithPath: "/bin/bash"),
                               [packageRoot().appendingPathComponent("Samples/mesh.sh").path, setuplinkBinary().path])
        let text = run.stdout + run.stderr
        #expect(run.status == 0, "\(text)")
        #expect(text.contains("three hubs converged by themselves") && text.contains("caught up after a restart"))
        #expect(text.contains("mesh converged"))
    }

    /// Bad input to the new commands: one line naming what was wrong, the usual exit
    /// status, and nothing changed.
    @Test func badInputIsOneLineAndChangesNothing() throws {
        let folder = testFolder("mesh-bad")
        let db = folder + "/hub.sqlite"
        try tool(["--db", db, "peer", "add", "b", "http://127.0.0.1:9", "--token-file", secretFile("t", in: folder, name: "t")])
        let before = try status(db)["digest"] as? String
        let cases: [([String], Int32, String)] = [
            (["serve", "peer-token"], 2, "needs create, list or revoke"),
            (["serve", "peer-token", "create"], 2, "needs one NAME"),
            (["serve", "peer-token", "create", "a b"], 2, "must be 1-64"),
            (["serve", "peer-token", "create", "default"], 2, "serve token"),
            (["serve", "peer-token", "list", "--read-only"], 2, "--read-only goes with"),
            (["serve", "peer-token", "revoke", "nobody"], 1, "no peer token named"),
            (["serve", "peer-token", "craete", "x"], 2, "did you mean create"),
            (["serve", "--port", "0", "--follow"], 2, "--follow needs"),
            (["serve", "--port", "0", "--follow", "c"], 2, "no peer named \"c\""),
            (["serve", "--port", "0", "--metrics-token", "x"], 2, "--metrics-token-file"),
            (["serve", "--port", "0", "--metrics-token-file", folder + "/missing"], 1, "cannot read"),
            (["backup"], 2, "needs the file"),
            (["backup", folder + "/no/such/folder/x.sqlite"], 1, "does not exist"),
            (["backup", db], 1, "another file"),
            (["peer", "update", "b", "--follow", "--no-follow"], 2, "not both"),
            (["peer", "update", "nobody", "--follow"], 1, "no peer named"),
        ]
        for (args, code, text) in cases {
            let r = try runTool(["--db", db] + args, environment: ["SETUPLINK_TOKEN": "t0"])
            #expect(r.status == code && r.errorLines.count == 1 && r.stderr.contains(text), "\(args): \(r.status) \(r.stderr)")
        }
        #expect(try status(db)["digest"] as? String == before)
        #expect((try status(db)["peers"] as? [[String: Any]])?.first?["following"] as? Bool == false)
        #expect(!FileManager.default.fileExists(atPath: folder + "/no"))
    }

    /// Per-peer tokens: shown once and stored hashed; a revoked one is refused (401) at once
    /// while other peers keep syncing; a read-only one pulls, and its push is 403 and changes nothing.
    @Test func perPeerTokensRevokeAndReadOnly() throws {
        let folder = testFolder("mesh-tokens")
        let hubDB = folder + "/hub.sqlite"
        try tool(["--db", hubDB, "link", "create", "--tenant", "acme", "--product", "crm",
                  "--webhook-url", "https://h.example.com/x", "--webhook-secret", "s"])
        func create(_ name: String, _ extra: [String] = []) throws -> String {
            let r = try tool(["--db", hubDB, "--json", "serve", "peer-token", "create", name] + extra)
            return json(r.stdout)["token"] as? String ?? ""
        }
        let t1 = try create("laptop1"), t2 = try create("laptop2"), tr = try create("reports", ["--read-only"])
        #expect(Set([t1, t2, tr]).count == 3 && t1.count > 40)
        let duplicate = try runTool(["--db", hubDB, "serve", "peer-token", "create", "laptop1"])
        #expect(duplicate.status == 1 && duplicate.errorLines.count == 1 && duplicate.stderr.contains("already exists"))
        let reserved = try runTool(["--db", hubDB, "serve", "peer-token", "create", "default"])
        #expect(reserved.status == 2)
        // Only hashes are stored: the tokens appear nowhere in the replica's files.
        let bytes = [hubDB, hubDB + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }.reduce(Data(), +)
        for t in [t1, t2, tr] { #expect(bytes.range(of: Data(t.utf8)) == nil) }

        let served = try hub(hubDB, port: try freePort(), token: "the-default-token")
        defer { served.stop() }
        let laptops = (1...4).map { folder + "/laptop\($0).sqlite" }
        let files = [t1, t2, tr, "the-default-token"].enumerated().map { secretFile($1, in: folder, name: "t\($0)") }
        for i in 0..<4 { try tool(["--db", laptops[i], "peer", "add", "hub", served.url, "--token-file", files[i]]) }
        for i in [0, 1, 3] { try tool(["--db", laptops[i], "sync", "hub"]) }

        // Revoke laptop1: its next sync is refused; laptop2 and the default credential keep syncing.
        try tool(["--db", hubDB, "serve", "peer-token", "revoke", "laptop1"])
        let refused = try runTool(["--db", laptops[0], "sync", "hub"])
        #expect(refused.status == 1 && refused.stderr.contains("401"), "\(refused.stderr)")
        #expect(served.waitForLog("GET /sync/v1/summary 401"))
        try tool(["--db", laptops[1], "link", "create", "--tenant", "two", "--product", "crm",
                  "--webhook-url", "https://h.example.com/x", "--webhook-secret", "s"])
        try tool(["--db", laptops[1], "sync", "hub"])
        try tool(["--db", laptops[3], "sync", "hub"])
        #expect(try status(hubDB)["links"] as? Int == 2)

        // Read-only: it pulls what the hub holds, and succeeds; its push is 403 and the report says
        // why; nothing changes on the hub, and the peer's last sync is a success, not an error.
        try tool(["--db", laptops[2], "link", "create", "--tenant", "readonly", "--product", "crm",
                  "--webhook-url", "https://h.example.com/x", "--webhook-secret", "s"])
        let pushed = try runTool(["--db", laptops[2], "sync", "hub"])
        #expect(pushed.status == 0 && pushed.stdout.contains("push refused") && pushed.stdout.contains("read-only"), "\(pushed.stdout) \(pushed.stderr)")
        #expect(served.waitForLog("POST /sync/v1/push 403"))
        let peers = json(try tool(["--db", laptops[2], "--json", "status"]).stdout)["peers"] as? [[String: Any]] ?? []
        #expect(peers.first?["last_error"] is NSNull && peers.first?["last_success"] is String, "\(peers)")
        // (Its first pull made it a member of the hub's replicated membership; a push adds nothing.)
        let before = try status(hubDB)["digest"] as? String
        let again = try runTool(["--db", laptops[2], "--json", "sync", "hub"])
        #expect(again.status == 0 && (json(again.stdout)["push_refused"] as? String)?.contains("read-only") == true, "\(again.stdout)")
        #expect(try status(hubDB)["digest"] as? String == before)
        #expect(try status(hubDB)["links"] as? Int == 2)
        #expect(try status(laptops[2])["links"] as? Int == 3, "the pull came through: the hub's two links and its own")

        // The list: names, read-only, last used; the revoked one is gone.
        let list = json(try tool(["--db", hubDB, "--json", "serve", "peer-token", "list"]).stdout)
        let tokens = list["tokens"] as? [[String: Any]] ?? []
        #expect(tokens.map { $0["name"] as? String ?? "" } == ["laptop2", "reports"])
        #expect(tokens.first { $0["name"] as? String == "reports" }?["read_only"] as? Bool == true)
        #expect(tokens.allSatisfy { $0["last_used"] is String })
        let unknown = try runTool(["--db", hubDB, "serve", "peer-token", "revoke", "laptop9"])
        #expect(unknown.status == 1 && unknown.errorLines.count == 1)

        // Revoking the default credential refuses the serve token too (within a second), until it is rotated.
        try tool(["--db", hubDB, "serve", "peer-token", "revoke", "default"])
        #expect(poll(until: { (try? runTool(["--db", laptops[3], "sync", "hub"]))?.status == 1 }, deadline: .seconds(10)))
        try tool(["--db", laptops[1], "sync", "hub"])
    }

    /// A backup taken during a burst of SCIM creates opens cleanly, holds every create
    /// acknowledged before it started, is a new replica, and syncs without duplicating anything.
    @Test func backupDuringABurstIsANewReplica() throws {
        let python = try requires(.python3)
        let folder = testFolder("mesh-backup")
        let hubDB = folder + "/hub.sqlite", copyDB = folder + "/copy.sqlite"
        let directory = try makeDirectory(hubDB)
        try tool(["--db", hubDB, "peer", "add", "elsewhere", "http://127.0.0.1:9", "--token-file", secretFile("x", in: folder, name: "x")])
        _ = try tool(["--db", hubDB, "serve", "peer-token", "create", "someone"])
        let served = try hub(hubDB, port: try freePort(), token: "backup-token")
        defer { served.stop() }

        let acknowledged = Locked<[String]>([])
        let stop = Locked(false)
        let burst = Thread {
            var n = 0
            while !stop.withLock({ $0 }) {
                if let r = try? createUser(served.url, directory, "b\(n)@x.example.com"), r.status == 201, let id = r.id {
                    acknowledged.withLock { $0.append(id) }
                }
                n += 1
            }
        }
        burst.start()
        #expect(poll(until: { acknowledged.withLock { $0.count } >= 40 }, deadline: .seconds(60)))
        let before = acknowledged.withLock { $0 }
        let backup = try tool(["--db", hubDB, "--json", "backup", copyDB])
        #expect(poll(until: { acknowledged.withLock { $0.count } >= before.count + 20 }, deadline: .seconds(60)), "writes went on")
        stop.withLock { $0 = true }
        while !burst.isFinished { usleep(10_000) }
        let all = acknowledged.withLock { $0 }

        let report = json(backup.stdout)
        let check = try run(python, ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", copyDB])
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(check.stderr)")
        let copyStatus = try status(copyDB)
        let hubStatus = try status(hubDB)
        #expect(copyStatus["replica"] as? String == report["replica"] as? String)
        #expect(copyStatus["replica"] as? String != hubStatus["replica"] as? String, "a new replica id")
        #expect((copyStatus["peers"] as? [Any])?.isEmpty == true)
        #expect(copyStatus["events_pending"] as? Int == 0)
        let tokens = json(try tool(["--db", copyDB, "--json", "serve", "peer-token", "list"]).stdout)["tokens"] as? [Any]
        #expect(tokens?.isEmpty == true)
        do {
            let copy = try SetupLinkService.openStore(path: copyDB)
            defer { copy.close() }
            let missing = try before.filter { try copy.record(id: $0)?.isLive != true }
            #expect(missing.isEmpty, "every create acknowledged before the backup started: \(missing.count) missing")
        }
        let again = try runTool(["--db", hubDB, "backup", copyDB])
        #expect(again.status == 1 && again.errorLines.count == 1 && again.stderr.contains("exists"))

        // It joins by syncing: the same state, every user once.
        try tool(["--db", copyDB, "sync", served.url], ["SETUPLINK_TOKEN": "backup-token"])
        let (c, h) = (try status(copyDB), try status(hubDB))
        #expect(c["digest"] as? String == h["digest"] as? String)
        #expect(c["users"] as? Int == all.count && h["users"] as? Int == all.count)
        let members = try runTool(["--db", hubDB, "--json", "member", "list"])
        #expect(members.stdout.contains(copyStatus["replica"] as? String ?? "-"), "the copy is a member of its own")
    }

    /// `/metrics` is off without a metrics token, refuses another token, and its counters
    /// move by exactly the requests sent; the text parses as Prometheus' format.
    @Test func metricsMoveWithTheTraffic() throws {
        let python = try requires(.venvPython)
        let folder = testFolder("mesh-metrics")
        let db = folder + "/hub.sqlite"
        let directory = try makeDirectory(db)
        let metricsFile = secretFile("metrics-secret", in: folder, name: "metrics.token")
        let plain = try hub(db, port: try freePort(), token: "peer-token")
        #expect(try HTTPClient().send(method: "GET", url: plain.url + "/metrics", headers: ["Authorization": "Bearer metrics-secret"]).status == 404)
        plain.stop()
        let sameAsPeer = try runTool(["--db", db, "serve", "--port", "0", "--metrics-token-file", secretFile("peer-token", in: folder, name: "p")],
                                     environment: ["SETUPLINK_TOKEN": "peer-token"])
        #expect(sameAsPeer.status == 1 && sameAsPeer.errorLines.count == 1)

        let served = try hub(db, port: try freePort(), token: "peer-token", ["--metrics-token-file", metricsFile])
        defer { served.stop() }
        #expect(try HTTPClient().send(method: "GET", url: served.url + "/metrics", headers: ["Authorization": "Bearer peer-token"]).status == 401)
        func scrape() throws -> [String: Double] {
            let r = try HTTPClient().send(method: "GET", url: served.url + "/metrics", headers: ["Authorization": "Bearer metrics-secret"])
            #expect(r.status == 200 && r.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let file = folder + "/scrape.txt"
            try Data(r.body).write(to: URL(fileURLWithPath: file))
            // Prometheus' own client library parses it; every sample printed as name{labels} value.
            let parsed = try run(python, ["-c", """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                    for s in family.samples:
                        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                        print(f"{s.name}{{{labels}}} {s.value}")
                """, file])
            #expect(parsed.status == 0, "the exposition does not parse: \(parsed.stderr)")
            var out: [String: Double] = [:]
            for line in parsed.stdout.split(separator: "\n") {
                guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
                out[String(line[..<space])] = v
            }
            return out
        }
        let first = try scrape()
        let created = "setuplink_http_requests_total{group=\"scim\",status=\"201\"}"
        let changes = "setuplink_scim_changes_total{kind=\"user.created\"}"
        let liveUsers = "setuplink_records{kind=\"user\",state=\"live\"}"
        #expect(first[changes] == 0 && first[liveUsers] == 0)
        let sent = 7
        for n in 0..<sent { #expect(try createUser(served.url, directory, "m\(n)@x.example.com").status == 201) }
        #expect(scimGet(served.url, directory, "/Users/nobody") == 404)
        var second: [String: Double] = [:]
        #expect(try poll(until: { second = try scrape(); return second[created] == Double(sent) }, deadline: .seconds(10)))
        #expect(second[changes] == Double(sent))
        #expect(second[liveUsers] == Double(sent))
        #expect(second["setuplink_http_requests_total{group=\"scim\",status=\"404\"}"] == 1)
        #expect(second["setuplink_http_request_duration_seconds_count{group=\"scim\"}"] == Double(sent + 1))
        #expect((second["setuplink_replica_file_bytes{file=\"db\"}"] ?? 0) > 0)
        #expect(second["setuplink_webhook_backlog{}"] != nil)
        // Scrapes count themselves in their own group: the SCIM counters did not move.
        let third = try scrape()
        #expect(third[created] == Double(sent) && (third["setuplink_http_requests_total{group=\"metrics\",status=\"200\"}"] ?? 0) >= 2)
        // promtool, when this machine has it (Debian's prometheus package), checks it too.
        if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let checked = try run("/bin/sh", ["-c", "\(promtool) check metrics < \(folder)/scrape.txt"])
            #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
        }
    }
}
