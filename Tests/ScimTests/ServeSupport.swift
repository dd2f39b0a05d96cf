import Foundation
import Glibc
import TestSupport

/// A fresh folder for one test.
func temporaryFolder(_ label: String) -> String {
    testFolder(label)
}

/// `setuplink --db DB --json …` with `commands` piped in.
func setuplink(db: String, _ arguments: [String] = [], _ commands: String = "", externalURL: String? = nil) throws -> ChildRun {
    var args = ["--db", db, "--json"]
    if let externalURL { args += ["--external-url", externalURL] }
    return try runChild(setuplinkBinary(), args + arguments, input: commands)
}

/// Makes a setup link and a directory of `type` on `db` with one-shot and piped commands,
/// as an admin and a tenant would; returns the directory's `--json` object.
func makeDirectory(db: String, type: String, externalURL: String) throws -> [String: Any] {
    let link = try setuplink(db: db, ["link", "create", "--tenant", "acme", "--product", "crm",
                                      "--webhook-url", "https://hooks.example.com/x", "--webhook-secret", "s3cret"])
    guard link.status == 0, let token = link.objects.first?["token"] as? String else {
        throw ServeFailure("link create failed: \(link.stdout) \(link.stderr)")
    }
    let made = try setuplink(db: db, [], "open \(token)\ndirectory new --type \(type)\n", externalURL: externalURL)
    guard made.status == 0, let d = made.objects.last, d["result"] as? String == "created" else {
        throw ServeFailure("directory new failed: \(made.stdout) \(made.stderr)")
    }
    return d
}
