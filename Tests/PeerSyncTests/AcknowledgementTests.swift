import Foundation
import HTTP
import JSON
import Replica
import SetupLinks
import Storage
import Testing
@testable import PeerSync

/// Acknowledgements count only for what a replica applied; a replica that
/// holds less than it acknowledged is refused; digests ignore purging.
/// Over real HTTP (libcurl client, the real server on port 0).
@Suite struct AcknowledgementTests {
    /// A pull as a client sends it, on a socket of its own: `clock` to page from, and optionally `applied`.
    static func rawPull(_ hub: ServedReplica, as client: ReplicaID, clock: VectorClock, applied: VectorClock?) throws -> HTTPClientResponse {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.key("replica"); w.string(client.hex)
        w.key("clock"); WireFormat.writeClock(clock, into: &w)
        if let applied { w.key("applied"); WireFormat.writeClock(applied, into: &w) }
        w.key("limit"); w.int(1)
        w.endObject()
        return try HTTPClient().send(method: "POST", url: hub.url + "/sync/v1/pull",
                                     headers: ["Authorization": "Bearer \(testToken)", "Content-Type": "application/json"], body: w.bytes)
    }

    /// A hub holding a deleted link `x`, and a laptop still holding `x` live with a concurrent edit.
    static func laptopBehindADelete() throws -> (hub: ServedReplica, laptop: ReplicaStore, deleteClock: VectorClock) {
        let hub = try ServedReplica()
        let laptop = try temporaryReplica()
        try writeLink(hub.store, "x", ["tenant": "acme", "product": "crm", "token": "t"])
        try sync(laptop, with: hub)
        try writeLink(laptop, "x", ["name": "edited offline"])
        try hub.store.write { try $0.delete(id: "x") }
        try writeLinks(hub.store, prefix: "later", count: 3)
        return (hub, laptop, try hub.store.clock())
    }

    @Test func aPullCutOffAfterTheServerRecordedItsAcknowledgementLosesNoDelete() throws {
        let (hub, laptop, _) = try Self.laptopBehindADelete()
        let start = try laptop.clock()
        // The pipelined fetcher: page 1 (the delete) arrives; the request for page 2 pages from
        // the clock page 1 brings, and the server records the request, before page 1 is applied.
        let first = try Self.rawPull(hub, as: laptop.replicaID, clock: start, applied: start)
        #expect(first.status == 200)
        let page1 = try WireFormat.decodeMessage(first.body).page
        #expect(page1.records.map(\.id) == ["x"])
        #expect(try page1.records[0].decoded().isDeleted)
        let second = try Self.rawPull(hub, as: laptop.replicaID, clock: page1.advance(start), applied: start)
        #expect(second.status == 200)
        // Cut off there: the laptop never applied page 1. Its acknowledgement is what it applied.
        #expect(try hub.store.acknowledgement(of: laptop.replicaID) == start)
        #expect(try hub.store.purgeTombstones() == 0)
        #expect(try hub.store.record(id: "x")?.isDeleted == true, "the hub keeps the tombstone for the laptop")
        // An older client that sends no applied clock is never counted as acknowledging anything.
        _ = try Self.rawPull(hub, as: laptop.replicaID, clock: try hub.store.clock(), applied: nil)
        #expect(try hub.store.acknowledgement(of: laptop.replicaID) == start)
        #expect(try hub.store.record(id: "x")?.isDeleted == true)

        // The next sync delivers the delete; the concurrent edit does not bring x back, anywhere.
        try sync(laptop, with: hub, pageLimit: 1)
        for s in [laptop, hub.store] { #expect(try s.record(id: "x")?.isLive != true) }
        #expect(try laptop.digest() == hub.store.digest())
        #expect(try hub.store.record(id: "x") == nil, "purged once the laptop acknowledged it")
    }

    @Test func aClientAcknowledgingMoreThanItAppliedIsToldToRebuildAndLosesNoDelete() throws {
        let (hub, laptop, deleteClock) = try Self.laptopBehindADelete()
        // The laptop claims (a bug, or a lie) to have applied everything, the delete included.
        let lie = try Self.rawPull(hub, as: laptop.replicaID, clock: deleteClock, applied: deleteClock)
        #expect(lie.status == 200)
        #expect(try hub.store.record(id: "x") == nil, "the hub purged on the strength of that acknowledgement")
        let before = try hub.store.digest(), clock = try hub.store.clock()
        // Its real state still holds x live, with an edit the delete never saw.
        do {
            try sync(laptop, with: hub)
            Issue.record("a replica behind its acknowledgement was merged")
        } catch {
            guard case .peerError(_, _, 409, let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("rebuild this replica"), "\(message)")
            #expect(!message.contains("\n"))
        }
        #expect(try hub.store.digest() == before && hub.store.clock() == clock, "nothing merged")
        #expect(try hub.store.record(id: "x") == nil, "the delete is not lost")
        // Rebuilt from the hub, the laptop syncs again and x stays deleted.
        let rebuilt = try temporaryReplica()
        try sync(rebuilt, with: hub)
        #expect(try rebuilt.record(id: "x") == nil && rebuilt.counts().links == 3)
        #expect(try rebuilt.digest() == hub.store.digest())
    }

    @Test func aReplicaRestoredFromABackupIsToldToRebuildAndNothingIsMerged() throws {
        let hub = try ServedReplica()
        let laptop = try temporaryReplica()
        let path = laptop.path
        try writeLink(hub.store, "x", ["tenant": "acme", "product": "crm", "token": "t"])
        try sync(laptop, with: hub)
        for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: path + suffix, toPath: path + ".backup" + suffix) }
        try hub.store.write { try $0.delete(id: "x") }
        try sync(laptop, with: hub)  // acknowledges the delete; both purge it
        #expect(try hub.store.record(id: "x") == nil)
        laptop.close()
        // The laptop's file is replaced by the backup taken before the delete.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: path + ".backup" + suffix, toPath: path + suffix) }
        let restored = try ReplicaStore(path: path)
        #expect(try restored.record(id: "x")?.isLive == true)
        let before = try hub.store.digest()
        do {
            try sync(restored, with: hub)
            Issue.record("a stale replica was merged")
        } catch {
            #expect(error.description.contains("409") && error.description.contains("rebuild this replica"), "\(error)")
        }
        #expect(try hub.store.digest() == before, "nothing merged")
        #expect(try hub.store.record(id: "x") == nil)
    }

    @Test func digestsAreEqualRightAfterAFullExchangeWhateverEachPurged() throws {
        let hub = try ServedReplica(), side = try ServedReplica()
        let laptop = try temporaryReplica()
        try writeLink(laptop, "x", ["tenant": "acme", "product": "crm", "token": "t"])
        try sync(laptop, with: side)
        try sync(laptop, with: hub)  // the hub learns of `side` through the laptop's records
        try laptop.write { try $0.delete(id: "x") }
        try sync(laptop, with: side)  // `side` acknowledges the delete to the laptop
        try sync(laptop, with: hub)
        // The laptop has every member's acknowledgement and purges; the hub has not heard from `side`.
        #expect(try laptop.counts().tombstones == 0 && hub.store.counts().tombstones == 1)
        #expect(try laptop.clock() == hub.store.clock())
        #expect(try laptop.digest() == hub.store.digest(), "equal right after the exchange, whatever each purged")
        // Visible differences do show.
        try writeLink(laptop, "y", ["tenant": "t"])
        #expect(try laptop.digest() != hub.store.digest())
        try sync(laptop, with: hub)
        #expect(try laptop.digest() == hub.store.digest())
        try writeLink(laptop, "y", ["name": "from the laptop"])
        try writeLink(hub.store, "y", ["name": "from the hub"])
        try sync(laptop, with: hub)
        #expect(try laptop.record(id: "y")?.conflicts.isEmpty == false)
        #expect(try laptop.digest() == hub.store.digest())
    }

    @Test func twoOfflineCreatesWithEqualValuesConflictOnlyOnTheToken() throws {
        let hub = try ServedReplica()
        let laptop = try temporaryReplica()
        // Created offline on each side, in the same second: equal values but the random token.
        let now = Date()
        for store in [hub.store, laptop] {
            _ = try SetupLinkService(store: store, now: { now }).createLink(tenant: "acme", product: "crm", webhookURL: "https://hooks.example.com/a",
                                                             webhookSecret: "s3cret")
        }
        let report = try sync(laptop, with: hub)
        #expect(report.conflicts == 1)
        for store in [laptop, hub.store] {
            let records = try store.recordsWithConflicts()
            #expect(records.count == 1)
            #expect(records.first?.conflicts.map(\.field) == ["token"], "only the token, random on each side, is a conflict")
        }
        #expect(try laptop.digest() == hub.store.digest())
    }
}
