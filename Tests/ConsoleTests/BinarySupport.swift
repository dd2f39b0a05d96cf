import Foundation
import Storage
import Testing
import TestSupport

/// What a run of a program printed and returned.
typealias RunResult = ChildRun

/// Runs a built product with `input` piped to its standard input.
func runTool(_ arguments: [String], input: String = "", environment: [String: String] = [:], product: String = "setuplink") throws -> RunResult {
    try runChild(productsDirectory().appendingPathComponent(product), arguments, input: input, environment: environment)
}

/// A fresh replica path in its own temporary folder.
func temporaryReplica() -> String {
    testFolder("console") + "/replica.sqlite"
}

/// Parses one line of JSON output into a dictionary.
func json(_ line: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
}

/// The replica's `status --json` object.
func status(_ db: String) throws -> [String: Any] {
    let r = try runTool(["--db", db, "--json"], input: "status\n")
    #expect(r.status == 0, "status failed: \(r.stderr)")
    return json(r.lines.first ?? "")
}

/// Exchanges every change between two replicas in process, both ways, in pages of 100.
func exchange(_ a: ReplicaStore, _ b: ReplicaStore) throws {
    for (from, to) in [(a, b), (b, a)] {
        var since = try to.clock()
        while true {
            let page = try from.changes(since: since, limit: 100)
            _ = try to.apply(page)
            since = page.advance(since)
            if !page.more { break }
        }
    }
}
