import Foundation
import TestSupport

/// A fresh folder for one test.
func temporaryFolder() -> String {
    testFolder("page-e2e")
}

/// The `setuplink` REPL on `db`, commands piped in, `--json` output.
func setuplink(db: String, _ commands: String, externalURL: String = "https://hub.example.test") throws -> ChildRun {
    try runChild(setuplinkBinary(), ["--db", db, "--json", "--external-url", externalURL], input: commands)
}

/// `setuplink serve` on `db` as the hub a tenant's browser reaches (its external URL is `https://hub.example.test`).
func serveProcess(db: String) throws -> ServedSetuplink {
    // With a Google OAuth client (never contacted: nothing is authorized), so the page offers Google.
    try ServedSetuplink(db: db, before: ["--external-url", "https://hub.example.test"], serve: ["--port", "0"],
                        environment: ["SETUPLINK_TOKEN": "peer-secret-0123456789",
                                      "SETUPLINK_GOOGLE_CLIENT_ID": "browser-test.apps.googleusercontent.com",
                                      "SETUPLINK_GOOGLE_CLIENT_SECRET": "browser-test-secret"])
}
