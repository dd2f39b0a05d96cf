import Foundation
import HTTP
import Testing
import TestSupport

/// The page served by the real `setuplink serve`, end to end: a directory made
/// in the page is a replica write like the REPL's, and syncs.
@Suite struct SetupPageServeTests {
    @Test func aDirectoryMadeOnThePageIsListedByTheREPLAndSyncsToALaptop() throws {
        let dir = temporaryFolder()
        let hubDB = dir + "/hub.sqlite", laptopDB = dir + "/laptop.sqlite"
        let made = try setuplink(db: hubDB, "link create --tenant acme --product crm --webhook-url https://hooks.example.com/x --webhook-secret s3cret\n")
        let link = try #require(made.objects.first)
        let token = try #require(link["token"] as? String)
        let serve = try serveProcess(db: hubDB)
        defer { serve.stop() }
        let port = try #require(UInt16(serve.url.split(separator: ":").last ?? ""))

        // The tenant's browser: GET the page, POST the New Directory form.
        let client = try RawClient(port: port)
        client.send("GET /setup/\(token) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let page = try #require(client.readResponse(timeout: .seconds(10)))
        #expect(page.status == 200)
        let csrf = try #require(ServedHub.csrf(in: page.body))
        let form = ServedHub.form([("csrf", csrf), ("action", "create"), ("name", "Made in the browser"), ("type", "onelogin-scim-v2")])
        client.send("POST /setup/\(token) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: \(form.utf8.count)\r\n\r\n\(form)")
        let posted = try #require(client.readResponse(timeout: .seconds(10)))
        #expect(posted.status == 303)

        // The REPL on the served file lists it, like a directory made with `directory new`.
        let listed = try setuplink(db: hubDB, "directory list --tenant acme\n")
        let dirs = try #require(listed.objects.first?["directories"] as? [[String: Any]])
        #expect(dirs.count == 1)
        let d = try #require(dirs.first)
        #expect(d["name"] as? String == "Made in the browser" && d["type"] as? String == "onelogin-scim-v2")
        let id = try #require(d["id"] as? String)
        #expect(d["scim_endpoint"] as? String == "https://hub.example.test/api/scim/v2.0/\(id)")

        // An admin's offline laptop syncs it in.
        let synced = try runChild(setuplinkBinary(), ["--db", laptopDB, "--json"], input: "sync \(serve.url)\ndirectory list\n",
                                    environment: ["SETUPLINK_TOKEN": "peer-secret-0123456789"])
        #expect(synced.status == 0, "\(synced.stderr)")
        let onLaptop = try #require(synced.objects.last?["directories"] as? [[String: Any]])
        #expect(onLaptop.map { $0["id"] as? String } == [id])

        // The server's access log (its stderr) never holds the link token.
        #expect(poll(until: { serve.accessLog.contains("POST /setup/\(token.prefix(6))… 303") }, deadline: .seconds(10)))
        #expect(!serve.accessLog.contains(token) && !serve.accessLog.contains(csrf))
    }

    @Test func theSetupPageSampleServesAPage() throws {
        let sample = packageRoot().appendingPathComponent("Samples/setup-page.sh")
        let run = try runChild(URL(fileURLWithPath: "/bin/bash"), [sample.path, "--check", setuplinkBinary().path])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("setup page answered 200"))
    }
}
