import Foundation
import Glibc
import HTTP
import Testing
import TestSupport

/// Writes `text` to a new private file and returns its path.
private func privateFile(_ text: String, name: String = "token") -> String {
    let path = (temporaryReplica() as NSString).deletingLastPathComponent + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    return path
}

/// The status of `GET /sync/v1/summary` with `token`.
private func summaryStatus(_ url: String, token: String, caCertificate: String? = nil) throws -> Int {
    try HTTPClient(caCertificatePEM: caCertificate).send(method: "GET", url: url + "/sync/v1/summary",
                                                         headers: ["Authorization": "Bearer \(token)"]).status
}

/// `serve` as an operator runs it: HTTPS, the token off the command line, private files, a useful log.
@Suite struct ServeOperationsTests {
    @Test func httpsEndToEndWithAPrivateCA() throws {
        let tls = try TLSFixture()
        let hubDB = temporaryReplica(), laptopDB = temporaryReplica()
        let hub = try serverProcess(db: hubDB, extra: ["--tls-cert", tls.certificateFile, "--tls-key", tls.keyFile],
                                    environment: ["SETUPLINK_TOKEN": "tls-token"])
        defer { hub.stop() }
        #expect(hub.url.hasPrefix("https://127.0.0.1:"))
        let token = ["SETUPLINK_TOKEN": "tls-token"]

        let created = try runTool(["--db", laptopDB], input: "link create --tenant tls --product crm --webhook-url https://h.example.com/x --webhook-secret s\n")
        #expect(created.status == 0, "\(created.stderr)")
        let synced = try runTool(["--db", laptopDB, "--json", "sync", hub.url, "--cacert", tls.caCertificateFile], environment: token)
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(json(synced.stdout)["pushed"] as? Int == 1 + 2, "the link and the laptop's two member records (Storage.docc/Tombstones.md)")

        // Without the CA: refused, in one line of words.
        let refused = try runTool(["--db", laptopDB, "sync", hub.url], environment: token)
        #expect(refused.status == 1)
        #expect(refused.errorLines == ["error: peer at \(hub.url): the peer's TLS certificate is not signed by a trusted CA"
                                       + " (for a private CA or a self-signed certificate, give its CA with --cacert PEM)"])

        // Plain HTTP to the TLS port.
        let plainURL = hub.url.replacingOccurrences(of: "https://", with: "http://")
        let plain = try runTool(["--db", laptopDB, "sync", plainURL], environment: token)
        #expect(plain.status == 1)
        #expect(plain.errorLines == ["error: peer at \(plainURL): the peer speaks HTTPS, not plain HTTP (use \(hub.url))"])

        // A stored peer keeps its CA; peer update replaces what is given.
        let peers = try runTool(["--db", laptopDB], input: """
            peer add hub \(plainURL) --token tls-token
            peer update hub --url \(hub.url) --cacert \(tls.caCertificateFile)
            sync hub
            """)
        #expect(peers.status == 0, "\(peers.stderr)")
        #expect(peers.stdout.contains("Updated peer hub: URL, CA certificate."))
        #expect(peers.stdout.contains("Synced with \"hub\""))
        #expect(try status(laptopDB)["digest"] as? String == (try status(hubDB)["digest"] as? String))
    }

    @Test func tlsToAPlainPortIsNamedInWords() throws {
        let tls = try TLSFixture()
        let hub = try serverProcess(db: temporaryReplica(), environment: ["SETUPLINK_TOKEN": "t"])
        defer { hub.stop() }
        let httpsURL = hub.url.replacingOccurrences(of: "http://", with: "https://")
        let r = try runTool(["--db", temporaryReplica(), "sync", httpsURL, "--cacert", tls.caCertificateFile],
                            environment: ["SETUPLINK_TOKEN": "t"])
        #expect(r.status == 1)
        #expect(r.errorLines == ["error: peer at \(httpsURL): the peer does not speak TLS (is it a plain http:// URL?)"])
    }

    @Test func theHTTPSSampleRuns() throws {
        let run = try runChild(URL(fileURLWithPath: "/bin/bash"),
                               [packageRoot().appendingPathComponent("Samples/https-peers.sh").path, setuplinkBinary().path])
        let text = run.stdout + run.stderr
        #expect(run.status == 0, "\(text)")
        #expect(text.contains("converged over HTTPS"))
    }

    /// Two servers on one replica file would both send its webhook events: the second is
    /// refused with a sentence, the first keeps serving, and once it stops the file serves again.
    @Test func oneServerPerReplicaFile() throws {
        let db = temporaryReplica()
        let env = ["SETUPLINK_TOKEN": "one-server"]
        let first = try serverProcess(db: db, environment: env)
        // Under `timeout`: were it not refused, it would serve until killed.
        let second = try runChild(URL(fileURLWithPath: "/usr/bin/timeout"),
                                  ["10", setuplinkBinary().path, "--db", db, "serve", "--port", "0"], environment: env)
        #expect(second.status == 1)
        #expect(second.errorLines == ["error: another setuplink serve is already serving \(db): one server per replica file"
                                      + " (a second would send its webhook events twice)"], "\(second.stderr)")
        #expect(try summaryStatus(first.url, token: "one-server") == 200, "the first server is untouched")
        // The REPL and one-shot commands still use the file while it is served.
        #expect(try runTool(["--db", db, "--json"], input: "status\n").status == 0)
        first.stop()
        let again = try serverProcess(db: db, environment: env)
        #expect(try summaryStatus(again.url, token: "one-server") == 200)
        // A server killed with SIGKILL leaves no lock behind.
        kill(again.process.processIdentifier, SIGKILL)
        again.process.waitUntilExit()
        let afterKill = try serverProcess(db: db, environment: env)
        #expect(try summaryStatus(afterKill.url, token: "one-server") == 200)
        afterKill.stop()
    }

    @Test func theTokenNeverGoesOnTheCommandLine() throws {
        let db = temporaryReplica()
        for args in [["serve", "--token", "s3cret"], ["serve", "--token=s3cret"], ["sync", "http://127.0.0.1:1", "--token", "s3cret"],
                     ["peer", "add", "hub", "http://127.0.0.1:1", "--token", "s3cret"]] {
            let r = try runTool(["--db", db] + args)
            #expect(r.status == 2, "\(args)")
            #expect(r.errorLines.count == 1 && r.stderr.contains("--token-file"), "\(args): \(r.stderr)")
        }

        let file = privateFile("from-a-file\n")
        let fromFile = try serverProcess(db: db, extra: ["--token-file", file])
        #expect(try summaryStatus(fromFile.url, token: "from-a-file") == 200)
        #expect(try summaryStatus(fromFile.url, token: "other") == 401)
        let laptop = temporaryReplica()
        let viaFile = try runTool(["--db", laptop, "sync", fromFile.url, "--token-file", file])
        #expect(viaFile.status == 0, "\(viaFile.stderr)")
        fromFile.stop()
        #expect(fromFile.accessLog.contains(" GET /sync/v1/summary 200 "))
        #expect(!fromFile.accessLog.contains("from-a-file"), "the log never shows the token")

        let fromEnv = try serverProcess(db: db, environment: ["SETUPLINK_TOKEN": "from-env"])
        defer { fromEnv.stop() }
        #expect(try summaryStatus(fromEnv.url, token: "from-env") == 200)
        let viaEnv = try runTool(["--db", laptop, "--json", "sync", fromEnv.url], environment: ["SETUPLINK_TOKEN": "from-env"])
        #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
        let noToken = try runTool(["--db", laptop, "sync", fromEnv.url])
        #expect(noToken.errorLines.count == 1 && noToken.stderr.contains("requires a token (401)"))
    }

    @Test func serveTokenShowAndRotateAndTheOldTokenStopsWorking() throws {
        let db = temporaryReplica()
        #expect(try runTool(["--db", db, "init"]).status == 0)
        let none = try runTool(["--db", db, "serve", "token", "show"])
        #expect(none.status == 1 && none.errorLines.count == 1 && none.stderr.contains("serve token rotate"))

        let hub = try serverProcess(db: db)
        defer { hub.stop() }
        let first = hub.token
        #expect(first.count == 48)
        #expect(try runTool(["--db", db, "serve", "token", "show"]).stdout == "\(first)\n")
        #expect(try summaryStatus(hub.url, token: first) == 200)

        let rotated = try runTool(["--db", db, "--json", "serve", "token", "rotate"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let second = try #require(json(rotated.stdout)["token"] as? String)
        #expect(second.count == 48 && second != first)
        // The running hub picks the new token up (it re-reads the stored token every second).
        #expect(poll(until: { (try? summaryStatus(hub.url, token: first)) == 401 }, deadline: .seconds(5)))
        #expect(try summaryStatus(hub.url, token: second) == 200)
        #expect(try runTool(["--db", db, "serve", "token", "show"]).stdout == "\(second)\n")
    }

    @Test func replicaFilesArePrivateAndTheLogHasTimeAndClientButNoToken() throws {
        let db = temporaryReplica()
        let hub = try serverProcess(db: db, environment: ["SETUPLINK_TOKEN": "log-token"])
        let laptop = temporaryReplica()
        let r = try runTool(["--db", laptop], input: """
            link create --tenant modes --product crm --webhook-url https://h.example.com/x --webhook-secret s
            sync \(hub.url) --token log-token
            """)
        #expect(r.status == 0, "\(r.stderr)")
        for file in [db, db + "-wal", db + "-shm", laptop] {
            var info = stat()
            #expect(stat(file, &info) == 0, "\(file) exists")
            #expect(info.st_mode & 0o777 == 0o600, "\(file) is \(String(info.st_mode & 0o777, radix: 8))")
        }
        hub.stop()
        let lines = hub.accessLog.split(separator: "\n").map(String.init).filter { $0.contains(" /sync/v1/") }
        #expect(!lines.isEmpty)
        let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ (GET|POST) /sync/v1/\w+ \d{3} \d+B [\d.]+ms$/#
        for line in lines { #expect(line.wholeMatch(of: pattern) != nil, "\(line)") }
        #expect(!hub.accessLog.contains("log-token"))
    }
}
