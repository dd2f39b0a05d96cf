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
    try ServedSetuplink(db: db, externalURL: "https://hub.example.test")
}
