import Foundation
import Testing
import TestSupport

/// The public SCIM conformance suite (`scim2 test`, PyPI `scim2-cli` with
/// `scim2-tester`) against a directory on a replica served by the real
/// `setuplink serve`.
///
/// `scim2` comes from `SETUPLINK_SCIM2`, else the package's `.venv/bin/scim2`
/// (`Tests/requirements.txt`, installed by `.ci/run` and the README's install
/// command). Without it the test is skipped and says why, except under CI
/// (`CI` set), where it fails (`requires`). `scim2 test` exits 0 even when checks fail, so
/// every result line is read: each must be `SUCCESS`, and there must be at
/// least as many as the reference server `scim2-server` produced
/// (`Conformance/scim2-reference-run.txt`).
@Suite struct ScimConformanceTests {
    /// The statuses scim2-tester prints at the start of a result line.
    static let statuses = ["SUCCESS", "COMPLIANT", "ACCEPTABLE", "DEVIATION", "ERROR", "CRITICAL", "SKIPPED"]

    /// The result lines (`STATUS check_name`) of a `scim2 test` output.
    static func results(_ output: String) -> [(status: String, check: String)] {
        output.split(separator: "\n").compactMap { line in
            // Reason lines are indented; a result line starts with its status.
            let words = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard words.count == 2, statuses.contains(String(words[0])) else { return nil }
            return (String(words[0]), String(words[1]))
        }
    }

    @Test func scim2TestPassesEveryCheckAgainstAServedDirectory() throws {
        let scim2 = try requires(.scim2)
        let reference = try String(contentsOf: packageRoot().appendingPathComponent("Tests/ScimTests/Conformance/scim2-reference-run.txt"),
                                   encoding: .utf8)
        let floor = Self.results(reference).count
        #expect(floor >= 135)

        let db = temporaryFolder("scim-conformance") + "/hub.sqlite"
        // The link and the directory first (the file is created by these one-shot commands), then serve it.
        let made = try makeDirectory(db: db, type: "generic-scim-v2", externalURL: "http://placeholder.invalid")
        let serve = try ServedSetuplink(db: db)
        defer { serve.stop() }
        let id = try #require(made["id"] as? String)
        let token = try #require(made["scim_token"] as? String)
        let endpoint = serve.url + "/api/scim/v2.0/" + id
        // The token goes in the environment, not on a command line `ps` shows.
        let run = try runChild(URL(fileURLWithPath: scim2), ["--url", endpoint, "test"],
                               environment: ["SCIM_CLI_HEADERS": "Authorization: Bearer \(token)"])
        #expect(run.status == 0, "scim2 test: \(run.stderr)")
        let results = Self.results(run.stdout)
        let failed = results.filter { $0.status != "SUCCESS" }
        #expect(failed.isEmpty, "checks not SUCCESS:\n\(run.stdout)")
        #expect(results.count >= floor, "\(results.count) checks ran, the reference ran \(floor):\n\(run.stdout)")
        print("ScimConformanceTests: \(results.count) checks, \(results.count - failed.count) SUCCESS (reference: \(floor))")

        // The suite ran against this directory (its requests are in the access log), which never shows the token.
        #expect(serve.accessLog.contains("POST /api/scim/v2.0/\(id)/Users 201"))
        #expect(!serve.accessLog.contains(token))
    }

    @Test func everyResultLineIsReadWhateverScim2ExitsWith() {
        let output = """
            Performing a SCIM compliance check on http://127.0.0.1:1 ...
            SUCCESS service_provider_config_endpoint
              SUCCESS in a reason line is not a result
            ERROR object_creation
              Could not create User: 500
            SKIPPED bulk
            CRITICAL token_check
            """
        let r = Self.results(output)
        #expect(r.map(\.status) == ["SUCCESS", "ERROR", "SKIPPED", "CRITICAL"])
        #expect(r.filter { $0.status != "SUCCESS" }.count == 3)
    }
}
