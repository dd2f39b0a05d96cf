import Foundation
import HTTP
import JSON
import Replica
import SetupLinks
import Storage
import TestSupport
import Testing
@testable import PeerSync

/// `GET /sync/v1/snapshot` as `setuplink clone` meets it, with the hub served in this process so a
/// test can act between the snapshot and the clone's catch-up.
@Suite struct SnapshotRouteTests {
    /// A hub replica with the flows' rules and three links, served; `onLog` sees its access log.
    static func hub(onLog: (@Sendable (HTTPLogEntry) -> Void)? = nil) throws -> (ServedReplica, SetupLinkService) {
        let store = try SetupLinkService.openStore(path: testFolder("snapshot-hub") + "/hub.sqlite")
        let service = try SetupLinkService(store: store)
        for tenant in ["acme", "beta", "gamma"] {
            _ = try service.createLink(tenant: tenant, product: "crm", webhookURL: "https://example.com/hook", webhookSecret: "hook-secret-1234")
        }
        return (try ServedReplica(store, accessLog: onLog), service)
    }

    static func clone(_ db: String, _ url: String) throws -> ChildRun {
        try runChild(setuplinkBinary(), ["--db", db, "--json", "clone", url], environment: ["SETUPLINK_TOKEN": testToken])
    }

    /// While a snapshot is being made, a second request gets 503 with a sentence saying to retry, and
    /// a clone refused so leaves nothing; once the first is done, the next one is served.
    @Test func aSecondSnapshotMeanwhileIsToldToRetry() throws {
        let (served, _) = try Self.hub()
        let gate = served.store.path + ".snapshot"
        #expect(SnapshotGate.enter(gate))
        let answer = try HTTPClient().send(method: "GET", url: served.url + "/sync/v1/snapshot", headers: ["Authorization": "Bearer \(testToken)"])
        let text = String(decoding: answer.body, as: UTF8.self)
        #expect(answer.status == 503, "\(text)")
        #expect(text.contains("being made for another clone; retry"), "\(text)")

        let db = testFolder("snapshot-busy") + "/new.sqlite"
        let refused = try Self.clone(db, served.url)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("503") && refused.stderr.contains("retry"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        #expect(!FileManager.default.fileExists(atPath: db + ".partial"))

        SnapshotGate.leave(gate)
        let cloned = try Self.clone(db, served.url)
        #expect(cloned.status == 0, "\(cloned.stderr)")
        let copy = try SetupLinkService.openStore(path: db)
        defer { copy.close() }
        #expect(try copy.digest() == served.store.digest())
    }

    /// The hub deletes a link and purges its tombstone after making the snapshot and before the
    /// clone's catch-up (another member, which has everything, acknowledges the delete at once):
    /// the delete never travels as a tombstone, so the clone resyncs, and ends without the link,
    /// with the hub's digest.
    @Test func aDeletePurgedBetweenTheSnapshotAndTheCatchUpStillReachesTheClone() throws {
        let purged = Locked(-1)
        let box = Locked<(SetupLinkService, String)?>(nil)
        // The access log line of the snapshot is written when its answer is queued, before its bytes
        // go out: the delete and the purge are done by then, whatever the clone does next.
        let member = try temporaryReplica()
        let (served, service) = try Self.hub { entry in
            guard case .request(_, "/sync/v1/snapshot", 200, _, _) = entry.event, let (service, url) = box.withLock({ $0 }) else { return }
            do {
                let id = SetupLinkService.linkID(tenant: "beta", product: "crm")
                try service.deleteLink(id: id)
                // The member pulls the delete and acknowledges it; the hub then purges the tombstone.
                for _ in 0..<2 { _ = try SyncClient().sync(store: member, url: url, token: testToken) }
                _ = try service.store.purgeTombstones()
                let gone = try service.store.record(id: id) == nil
                purged.withLock { $0 = gone ? 1 : 0 }
            } catch {
                purged.withLock { $0 = -2 }
            }
        }
        // The member syncs through a second server of the same replica: the snapshot's server thread
        // is busy in this log callback, and a request of the member's could land on it.
        let side = try ServedReplica(served.store)
        box.withLock { $0 = (service, side.url) }
        try sync(member, with: side)
        let db = testFolder("snapshot-purge") + "/new.sqlite"
        let cloned = try Self.clone(db, served.url)
        #expect(cloned.status == 0, "\(cloned.stderr)")
        let count = purged.withLock { $0 }
        #expect(count == 1, "the hub still holds the tombstone (\(count))")
        #expect(cloned.stdout.contains("\"resynced\":true"), "\(cloned.stdout)")

        let copy = try SetupLinkService.openStore(path: db)
        defer { copy.close() }
        #expect(try copy.digest() == served.store.digest())
        let links = try SetupLinkService(store: copy).links().map(\.tenant).sorted()
        #expect(links == ["acme", "gamma"])
    }
}
