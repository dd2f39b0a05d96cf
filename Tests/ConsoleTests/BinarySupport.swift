import Foundation
import Replica
import SetupLinks
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
        var cursor: PageCursor?
        while true {
            let page = try from.changes(since: since, limit: 100, cursor: cursor)
            _ = try to.apply(page)
            since = page.advance(since)
            cursor = page.partial?.cursor
            if !page.more { break }
        }
    }
}

/// The id and fields of a link for `tenant` and `product` as the flows write it: what
/// peers accept (`RecordRules`: the derived id, a 48-hex token, an http(s) webhook).
func validLink(tenant: String, product: String, token: String? = nil) -> (id: String, values: [String: String]) {
    (SetupLinkService.linkID(tenant: tenant, product: product), [
        "tenant": tenant, "product": product, "token": token ?? Secrets.linkToken(),
        "webhook_url": "https://hooks.example.com/\(tenant)/\(product)", "webhook_secret": "s3cret",
        "valid_till": "2030-01-01T00:00:00Z", "expiry_days": "3", "service": "dsync", "name": "",
    ])
}
