import Foundation
import JSON
import TestSupport
import Testing

/// Our port of Jackson's `e2e/api/v1/directory-sync` suites (`Tests/AppAPITests/Jackson`,
/// its README says what they cover), run with `node --test` against a served hub.
@Suite struct JacksonE2ETests {
    /// The port's folder.
    static let folder = packageRoot().appendingPathComponent("Tests/AppAPITests/Jackson").path
    /// The suites (their `describe`), one file each, as Jackson has them.
    static let suites = ["directories", "events", "group members", "groups", "setup links", "users"]

    /// `node --test` over the port, one file after another (the suites share a product and
    /// count its directories, as Jackson's do), against `url` with `key`. A test that hangs
    /// fails after a minute instead of holding the run.
    static func runPort(node: String, url: String, key: String) throws -> ChildRun {
        try runChild(URL(fileURLWithPath: node),
                     ["--test", "--test-concurrency=1", "--test-timeout=60000", "--test-reporter=tap", folder],
                     environment: ["BASE_URL": url, "API_KEY": key])
    }

    /// The `# name N` count of node's TAP summary.
    static func count(_ name: String, in output: String) -> Int? {
        output.split(separator: "\n").first { $0.hasPrefix("# \(name) ") }.flatMap { Int($0.dropFirst(name.count + 3)) }
    }

    @Test func jacksonsDirectorySyncSuitesPassAgainstAServedHub() throws {
        let node = try requires(.node)
        let hub = try APIHub()
        defer { hub.stop() }
        let run = try Self.runPort(node: node, url: hub.url, key: hub.key())
        let output = run.stdout + run.stderr
        #expect(run.status == 0, "node --test failed (\(run.status)):\n\(output)")
        #expect(Self.count("fail", in: output) == 0 && Self.count("cancelled", in: output) == 0, "\(output)")
        // Every suite ran and passed (a file node could not find or load is no pass).
        let lines = Set(output.split(separator: "\n").map { $0.replacing(#/^ok \d+ - /#, with: "ok - ") })
        for suite in Self.suites {
            #expect(lines.contains("ok - \(suite)"), "\(suite) did not pass:\n\(output)")
        }
        #expect((Self.count("pass", in: output) ?? 0) >= 20, "\(output)")
    }

    /// The port fails when the hub does (here: a key the hub never made), with node's output.
    @Test func thePortFailsAgainstAHubThatRefusesIt() throws {
        let node = try requires(.node)
        let hub = try APIHub()
        defer { hub.stop() }
        let run = try Self.runPort(node: node, url: hub.url, key: "slk_not-a-key")
        #expect(run.status != 0)
        #expect(run.stdout.contains("HTTP 401"), "\(run.stdout)\n\(run.stderr)")
        #expect((Self.count("pass", in: run.stdout) ?? 0) < 20, "\(run.stdout)")
    }

    /// Jackson still serves its API's older paths, `/api/v1/directory-sync/...` (a rewrite to
    /// `/api/v1/dsync/...`); so does the hub, with the same answers.
    @Test func theOlderDirectorySyncPathsAnswerAsDsync() throws {
        let hub = try APIHub()
        defer { hub.stop() }
        let made = try hub.call("POST", "/api/v1/directory-sync", json: #"{"tenant":"acme","product":"crm"}"#)
        #expect(made.status == 201, "\(made.text)")
        let id = try #require(made.data?["id"]?.string)
        let listed = try hub.call("GET", "/api/v1/directory-sync?tenant=acme&product=crm")
        #expect(listed.status == 200)
        #expect(listed.data?.array.map { $0["id"]?.string } == [id])
        let one = try hub.call("GET", "/api/v1/directory-sync/\(id)")
        #expect(one.text == (try hub.call("GET", "/api/v1/dsync/\(id)")).text)
        let users = try hub.call("GET", "/api/v1/directory-sync/users?directoryId=\(id)")
        #expect(users.status == 200 && users.text == #"{"data":[],"error":null}"#, "\(users.text)")
        // The same methods, the same refusals; a path that merely starts alike is no route.
        let put = try hub.call("PUT", "/api/v1/directory-sync/\(id)", json: "{}")
        #expect(put.status == 405 && put.headers.first { $0.key.lowercased() == "allow" }?.value == "GET, PATCH, DELETE")
        #expect(try hub.call("GET", "/api/v1/directory-syncs?tenant=acme&product=crm").status == 404)
        #expect(try hub.call("GET", "/api/v1/directory-sync/users", key: .some(nil)).status == 401)
        let deleted = try hub.call("DELETE", "/api/v1/directory-sync/\(id)")
        #expect(deleted.status == 200 && deleted.text == #"{"data":{}}"#)
        #expect(try hub.call("GET", "/api/v1/dsync/\(id)").status == 404)
    }
}
