import Foundation
import Replica
import Storage
import Testing
@testable import PeerSync

/// A lie about a replica's writes never stops replication for good (Contract.md §2,
/// Replica.docc/Corrections.md): the replica lied about refutes it with a correction,
/// the correction travels, every replica that believed the lie drops it, and syncs
/// go on, over real sockets.
@Suite struct LieRepairTests {
    /// Syncs every pair in `order` until all digests agree (at most `rounds` times).
    static func settle(_ clients: [ReplicaStore], with servers: [ServedReplica], rounds: Int = 4) throws {
        for _ in 0..<rounds {
            for c in clients { for s in servers where s.store !== c { try sync(c, with: s) } }
            let digests = Set(try (clients + servers.map(\.store)).map { try $0.digest() })
            if digests.count == 1 { return }
        }
    }

    @Test func aFakePeersLieAboutAHubIsDroppedEverywhereItSpread() throws {
        let hub = try ServedReplica()
        let x = hub.store.replicaID
        try writeLink(hub.store, "before", ["tenant": "acme", "product": "crm", "token": "t1"])
        // A laptop syncs with the hub, then with a fake peer (no token needed: the laptop
        // is the client) that says the hub made 2^53 - 1 writes.
        let laptop = try temporaryReplica()
        try sync(laptop, with: hub)
        let liar = try LyingPeer(lyingAbout: x)
        try writeLink(liar.store, "from-liar", ["tenant": "evil", "product": "crm", "token": "t2"])
        _ = try SyncClient().sync(store: laptop, url: liar.url, token: testToken)
        #expect(try laptop.clock()[x] == PeerInput.maxCounter, "the laptop believed the lie")
        // The laptop passes it on to a second hub, and an honest client of that hub gets it there.
        let hub2 = try ServedReplica()
        try sync(laptop, with: hub2)
        #expect(try hub2.store.clock()[x] == PeerInput.maxCounter)
        let client = try temporaryReplica()
        try sync(client, with: hub2)
        // The hub writes on: the lie would hide these writes from everyone who believed it.
        try writeLink(hub.store, "after", ["tenant": "acme", "product": "hr", "token": "t3"])

        // The honest client meets the real hub: the hub corrects it, it drops the lie and resyncs,
        // in the same sync command.
        let report = try sync(client, with: hub)
        #expect(report.correctionRounds >= 1)
        #expect(report.resynced)
        #expect(try client.record(id: "after")?.isLive == true, "the hub's later write arrived")
        #expect(try client.clock()[x] == hub.store.clock()[x])
        // The correction travels: the second hub learns it from the client, and refuses the lie when the laptop offers it again.
        try sync(client, with: hub2)
        #expect(try hub2.store.clock()[x] <= hub.store.clock()[x], "the second hub dropped the lie")
        // (Its summary carries the correction: the laptop drops the lie before it even pulls.)
        let again = try sync(laptop, with: hub2)
        #expect(again.resynced, "the second hub's correction reached the laptop")
        #expect(try laptop.clock()[x] <= hub.store.clock()[x])
        #expect(try laptop.record(id: "after")?.isLive == true)
        // Every honest replica syncs normally, and all converge.
        try Self.settle([laptop, client], with: [hub, hub2])
        let digests = Set(try [laptop, client, hub.store, hub2.store].map { try $0.digest() })
        #expect(digests.count == 1)
        for s in [laptop, client, hub.store, hub2.store] {
            #expect(try s.clock()[x] == hub.store.clock()[x])
            #expect(try s.record(id: "before")?.isLive == true && s.record(id: "after")?.isLive == true)
        }
        // A sync with nothing new is quiet again: no correction round.
        #expect(try sync(laptop, with: hub).correctionRounds == 0)
    }

    @Test(arguments: PageEncoding.allCases)
    func aPushClaimingALaptopsWritesNoLongerLocksItOut(encoding: PageEncoding) throws {
        let hub = try ServedReplica()
        let laptop = try temporaryReplica()
        let me = laptop.replicaID
        try writeLink(laptop, "mine", ["tenant": "acme", "product": "crm", "token": "t1"])
        try sync(laptop, with: hub, encoding: encoding)
        // Someone with the peer token pushes a record whose clock claims the laptop made 2^53 - 1 writes.
        let attacker = ReplicaID(high: 0xBAD, low: 0xBAD)
        var forged = Record(id: "forged", kind: .link)
        forged.write(["token": "t9"], dot: Dot(replica: attacker, counter: 1), hlc: HLC(rawValue: HLC.wallMilliseconds() << 16))
        forged = Record(id: "forged", kind: .link, fields: forged.fields, deleted: forged.deletedRegister,
                        clock: forged.clock.merged(with: VectorClock([(me, PeerInput.maxCounter)])))
        let page = ChangePage(records: [forged], coverage: VectorClock([(attacker, UInt64(1))]), more: false, base: VectorClock())
        try hub.store.apply(page, from: PeerSender(replica: attacker, clock: VectorClock([(attacker, UInt64(1))])))
        #expect(try hub.store.record(id: "forged")?.clock[me] == PeerInput.maxCounter)
        // The laptop writes on and syncs: it refutes the claim, the hub drops it, and the write arrives.
        try writeLink(laptop, "mine", ["tenant": "acme", "product": "crm", "token": "regenerated"])
        let report = try sync(laptop, with: hub, encoding: encoding)
        #expect(report.correctionRounds <= 1)
        #expect(try hub.store.record(id: "mine")?["token"] == "regenerated")
        #expect(try hub.store.record(id: "forged")?.clock[me] ?? 0 <= laptop.clock()[me])
        // Later writes on the forged record reach the hub too (its clock no longer claims them).
        try writeLink(laptop, "forged", ["token": "laptop-wrote"])
        try sync(laptop, with: hub, encoding: encoding)
        #expect(try hub.store.record(id: "forged")?["token"] == "laptop-wrote")
        #expect(try laptop.digest() == hub.store.digest())
    }

    @Test func aClaimOfTheServersOwnWritesGetsACorrectionNotADeadEnd() throws {
        let hub = try ServedReplica()
        try writeLink(hub.store, "a", ["token": "t"])
        // A client whose state claims the hub made 1,000 writes (a laptop poisoned elsewhere).
        let laptop = try temporaryReplica()
        try sync(laptop, with: hub)
        let liar = try LyingPeer(lyingAbout: hub.store.replicaID, claim: 1000)
        _ = try SyncClient().sync(store: laptop, url: liar.url, token: testToken)
        #expect(try laptop.clock()[hub.store.replicaID] == 1000)
        try writeLink(hub.store, "b", ["token": "t2"])
        let report = try sync(laptop, with: hub)
        #expect(report.correctionRounds == 1)
        #expect(try laptop.record(id: "b")?.isLive == true)
        let c = try #require(try laptop.corrections()[hub.store.replicaID])
        #expect(c.lie == 1000 && c.made < 1000)
    }
}
