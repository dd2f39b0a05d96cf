import Foundation
import Testing
import Replica
@testable import Storage

/// Tombstone purge through the store-level exchange steps (`exchange` in TestSupport).
@Suite struct ReplicaStorePurgeTests {
    func link(_ s: ReplicaStore, _ id: String, _ values: [String: String], revive: Bool = false) throws {
        try s.write { _ = try $0.write(id: id, kind: .link, values, revive: revive) }
    }

    @Test func bothSidesPurgeInTheSyncThatCarriesTheDeleteAndStaleCopiesAreDropped() throws {
        let hub = try temporaryStore(), laptop = try temporaryStore()
        try link(hub, "x", ["token": "t"])
        try link(hub, "y", ["token": "u"])
        try exchange(laptop, with: hub)
        let stale = try #require(try laptop.record(id: "x"))
        try laptop.write { try $0.delete(id: "x") }
        try exchange(laptop, with: hub)
        #expect(try hub.record(id: "x") == nil, "the push said the laptop holds the delete: stable")
        #expect(try laptop.record(id: "x") == nil)
        #expect(try hub.purgeFloor().isEmpty == false)
        #expect(try laptop.digest() == hub.digest())
        // A stale live copy arriving later is dropped, not revived.
        let s = try hub.apply(ChangePage(records: [stale], coverage: VectorClock(), more: false, base: VectorClock()))
        #expect(s.dropped == 1)
        #expect(try hub.record(id: "x") == nil)
    }

    @Test func aMemberWhoseAcknowledgementIsMissingBlocksPurgingEverywhere() throws {
        let hub = try temporaryStore(), b = try temporaryStore(), c = try temporaryStore()
        try link(hub, "x", ["token": "t", "name": "n"])
        try exchange(b, with: hub)
        try exchange(c, with: hub)  // the hub introduces c, which now holds x
        try link(c, "x", ["name": "offline edit"])  // c is offline from here on
        try b.write { try $0.delete(id: "x") }
        for _ in 0..<3 { try exchange(b, with: hub) }
        #expect(try hub.record(id: "x")?.isDeleted == true, "c has not acknowledged the delete: the hub keeps it")
        #expect(try b.record(id: "x")?.isDeleted == true, "b learnt of c from the hub's records: it keeps it too")
        // c syncs with b, a replica it never met; b learns c's acknowledgement and relays it to the hub.
        try exchange(c, with: b)
        #expect(try c.record(id: "x")?.isLive == false, "the delete beat c's concurrent edit")
        for _ in 0..<2 {
            try exchange(b, with: hub)
            try exchange(c, with: b)
        }
        for s in [hub, b, c] {
            #expect(try s.record(id: "x") == nil, "every member acknowledged the delete: purged")
            #expect(try s.counts().links == 0)
        }
        #expect(try hub.digest() == b.digest())
        #expect(try b.digest() == c.digest())
    }

    @Test func aReplicaThatNeverSyncedRecreatesAPurgedLinkTheSameWayEverywhere() throws {
        let hub = try temporaryStore(), b = try temporaryStore(), late = try temporaryStore()
        try link(hub, "x", ["tenant": "acme", "token": "old"])
        try exchange(b, with: hub)
        try hub.write { try $0.delete(id: "x") }
        try exchange(b, with: hub)
        try exchange(b, with: hub)
        #expect(try hub.record(id: "x") == nil && b.record(id: "x") == nil, "purged on both")
        // A new laptop, offline from the start, creates the same link (same id) and another one.
        try link(late, "x", ["tenant": "acme", "token": "new"], revive: true)
        try link(late, "z", ["tenant": "zeta", "token": "z"], revive: true)
        try exchange(late, with: hub)
        // Its creates count as made when it joined, after everything it received.
        let x = try #require(try hub.record(id: "x"))
        #expect(x.isLive && x["token"] == "new")
        #expect(x.clock.entries.count > 1, "rebased over the hub's purge floor")
        try exchange(b, with: hub)
        #expect(try b.record(id: "x")?["token"] == "new")
        #expect(try late.digest() == hub.digest())
    }

    @Test func aNeverSyncedCreateConcurrentWithAnUnpurgedDeleteLoses() throws {
        let hub = try temporaryStore(), late = try temporaryStore()
        try link(hub, "x", ["tenant": "acme", "token": "old"])
        try hub.write { try $0.delete(id: "x") }  // no other member yet: nothing is purged
        try link(late, "x", ["tenant": "acme", "token": "new"], revive: true)
        try exchange(late, with: hub)
        // Delete wins over a concurrent create, as without purging (and then both purge it).
        #expect(try hub.record(id: "x")?.isLive != true)
        #expect(try late.record(id: "x")?.isLive != true)
        #expect(try hub.counts().links == 0)
        #expect(try late.digest() == hub.digest())
    }

    @Test func aClientThatAcknowledgedMoreThanItHoldsIsRefusedAndNothingChanges() throws {
        let hub = try temporaryStore(), laptop = try temporaryStore()
        try link(hub, "x", ["token": "t"])
        try exchange(laptop, with: hub)
        try link(laptop, "x", ["name": "concurrent edit"])
        try hub.write { try $0.delete(id: "x") }
        // The laptop claims (a bug, or a crash between a pipelined ack and the apply) to hold the delete.
        try hub.servePull(client: laptop.replicaID, position: try hub.clock(), applied: try hub.clock(), clientFloor: nil)
        #expect(try hub.record(id: "x") == nil, "purged on the strength of that acknowledgement")
        let digest = try hub.digest(), clock = try hub.clock()
        #expect(throws: StaleReplicaError(replica: laptop.replicaID, side: .sender)) { try exchange(laptop, with: hub) }
        #expect(try hub.digest() == digest && hub.clock() == clock, "nothing merged")
        #expect(try laptop.record(id: "x")?.isLive == true, "and the laptop still shows its copy: it must be rebuilt")
        #expect("\(StaleReplicaError(replica: laptop.replicaID, side: .sender))".contains("rebuild this replica"))
    }
}
