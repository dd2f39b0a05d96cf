import Foundation
import Replica
import SetupLinks
import Storage
import Testing

/// Issue 12.11: `conflicts` lists concurrent writes of different values only, and never a secret.
@Suite struct ConflictListingTests {
    /// Two replicas create the same link offline with equal values (and random tokens), then exchange everything.
    static func twoOfflineCreates(secretA: String = "s3cret-value", secretB: String = "s3cret-value") throws -> String {
        let pathA = temporaryReplica(), pathB = temporaryReplica()
        let a = try SetupLinkService.openStore(path: pathA), b = try SetupLinkService.openStore(path: pathB)
        for (store, secret) in [(a, secretA), (b, secretB)] {
            _ = try SetupLinkService(store: store).createLink(tenant: "acme", product: "crm", webhookURL: "https://h.example.com/x",
                                                              webhookSecret: secret, name: "Acme")
        }
        // Sync both ways, in pages, as the peer protocol does.
        try exchange(a, b)
        #expect(try a.digest() == b.digest())
        a.close()
        b.close()
        return pathA
    }

    @Test func equalValuesAreNotConflictsAndOnlyTheTokenIsListed() throws {
        let db = try Self.twoOfflineCreates()
        let r = try runTool(["--db", db, "--json"], input: "conflicts\n")
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(json(r.stdout)["conflicts"] as? [[String: Any]])
        #expect(rows.map { $0["field"] as? String } == ["token"], "\(rows)")
        #expect(rows.first?["id"] as? String == linkID("acme", "crm"))
        #expect(!r.stdout.contains("s3cret-value"))
        let table = try runTool(["--db", db], input: "conflicts\n")
        #expect(table.lines.filter { $0.contains("token") }.count == 1, "\(table.stdout)")
        for field in ["tenant", "product", "webhook_url", "webhook_secret", "name", "expiry_days", "service"] {
            #expect(!table.lines.contains { $0.contains(" \(field) ") }, "\(field) listed: \(table.stdout)")
        }
        #expect(!table.stdout.contains("s3cret-value"))
        // The link shows one lost token, not nine conflicts.
        let show = json(try runTool(["--db", db, "--json"], input: "link show \(linkID("acme", "crm"))\n").stdout)
        #expect((show["conflicting_tokens"] as? [String])?.count == 1)
        #expect(show["webhook_secret"] == nil)
    }

    @Test func differentSecretsAreAConflictButNeverShown() throws {
        let db = try Self.twoOfflineCreates(secretA: "first-secret", secretB: "second-secret")
        for flags in [["--json"], []] {
            let r = try runTool(["--db", db] + flags, input: "conflicts\nlink show \(linkID("acme", "crm"))\nstatus\n")
            #expect(r.status == 0)
            #expect(!r.stdout.contains("first-secret") && !r.stdout.contains("second-secret"), "\(r.stdout)")
            #expect(r.stdout.contains("webhook_secret") && r.stdout.contains("(hidden)"), "\(r.stdout)")
        }
    }
}
