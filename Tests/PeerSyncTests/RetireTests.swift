import Foundation
import Replica
import Storage
import Testing
@testable import PeerSync

/// A member that is gone for good no longer blocks purging once retired, anywhere; if it
/// comes back it is refused with "rebuild this replica", and its later writes are dropped
/// wherever they travel (Contract.md §2, Storage.docc/RetiringAMember.md).
@Suite struct RetireTests {
    @Test func aRetiredLaptopStopsBlockingPurgeEverywhereAndIsRefusedWhenItComesBack() throws {
        let hub = try ServedReplica(), hub2 = try ServedReplica()
        let lost = try temporaryReplica()
        try writeLink(hub.store, "x", ["tenant": "acme", "product": "crm", "token": "t"])
        try sync(hub2.store, with: hub)
        try sync(lost, with: hub)  // the laptop is a member now; then it is lost
        // A delete: every replica but the lost laptop acknowledges it; nobody can purge.
        try hub.store.write { try $0.delete(id: "x") }
        for _ in 0..<2 { try sync(hub2.store, with: hub) }
        #expect(try hub.store.record(id: "x")?.isDeleted == true && hub2.store.record(id: "x")?.isDeleted == true)
        let waiting = try hub.store.memberInfos().first { $0.replica == lost.replicaID }
        #expect(waiting?.holdsBack == 1 && waiting?.retired == nil)

        // Retired on the hub: the hub purges; the retirement travels, and the second hub purges too.
        let point = try hub.store.retire(member: lost.replicaID)
        #expect(point == (try hub.store.clock()[lost.replicaID]))
        #expect(try hub.store.record(id: "x") == nil, "purging no longer waits for the lost laptop")
        for _ in 0..<2 { try sync(hub2.store, with: hub) }
        #expect(try hub2.store.record(id: "x") == nil)
        #expect(try hub2.store.memberInfos().first { $0.replica == lost.replicaID }?.retired == point)

        // The laptop comes back: refused on either hub, nothing merged.
        try writeLink(lost, "late", ["tenant": "acme", "product": "hr", "token": "t2"])
        for h in [hub, hub2] {
            let before = try h.store.digest()
            do {
                try sync(lost, with: h)
                Issue.record("a retired replica was synced")
            } catch {
                #expect(error.description.contains("rebuild this replica"), "\(error.description)")
            }
            #expect(try h.store.digest() == before)
        }
        // Its later writes do not come in through another replica either.
        let friend = try ServedReplica()
        try sync(lost, with: friend)
        try sync(friend.store, with: hub)
        #expect(try hub.store.record(id: "late") == nil, "a write the retired laptop made after its retirement is refused")
        #expect(try friend.store.record(id: "late") == nil, "and dropped by the replica that relayed it")
        // A rebuilt laptop (a new file) syncs as a new member and gets everything the others have.
        let rebuilt = try temporaryReplica()
        try sync(rebuilt, with: hub)
        #expect(try rebuilt.digest() == hub.store.digest())
    }
}
