import Foundation
import HTTP
import TestSupport
import PeerSync
import Replica
import SetupLinks
import Storage
import Testing

/// A group of 100,000 members is created, synced, deleted and synced again, hub to
/// laptop, laptop to hub and hub to hub, over real sockets in both page encodings
/// (Contract.md §2: no change is too big to sync). Its delete is one change of 100,001
/// records (about 30 MB): far over any page or body limit.
@Suite struct LargeGroupTests {
    static let members = 100_000

    /// Live membership records on `store`.
    static func liveMemberships(_ store: ReplicaStore) throws -> Int { try store.records(kind: .membership).count }

    @Test(arguments: PageEncoding.allCases)
    func aGroupOf100000MembersAndItsDeleteCrossEveryWay(encoding: PageEncoding) throws {
        let hub = try ScimServer(), hub2 = try ScimServer(), hub3 = try ScimServer()
        let laptop = try SetupLinkService.openStore(path: testFolderPath("large-group") + "/laptop.sqlite")
        let client = ScimClient(hub, try hub.directory())
        let gid = try client.createGroup("Everyone")
        // Ten PATCHes of 10,000 members, as an identity provider sends them.
        for batch in 0..<10 {
            let values = (0..<(Self.members / 10)).map { #"{"value":"user-\#(batch)-\#($0)"}"# }.joined(separator: ",")
            let r = try client.patch("/Groups/\(gid)", #"[{"op":"add","path":"members","value":[\#(values)]}]"#)
            #expect(r.status == 200 || r.status == 204, "\(r.status) \(String(r.text.prefix(200)))")
        }
        let http = HTTPClient(timeout: .seconds(120))
        func sync(_ store: ReplicaStore, with server: ScimServer) throws -> SyncReport {
            try SyncClient(http: http, encoding: encoding).sync(store: store, url: server.url, token: ScimServer.peerToken)
        }
        // Hub to laptop, laptop to a hub that never met the first, hub to hub.
        _ = try sync(laptop, with: hub)
        let pushed = try sync(laptop, with: hub3)
        #expect(pushed.pushedPages > 1)
        _ = try sync(hub2.store, with: hub)
        for s in [laptop, hub2.store, hub3.store] { #expect(try Self.liveMemberships(s) == Self.members) }

        // The delete: the group and every membership, in one transaction.
        #expect(try client.delete("/Groups/\(gid)").status == 204)
        let pulled = try sync(laptop, with: hub)
        #expect(pulled.pulledPages > 5, "the delete crossed in parts (\(pulled.pulledPages) pages)")
        let pushedDelete = try sync(laptop, with: hub3)
        #expect(pushedDelete.pushedPages > 5)
        _ = try sync(hub2.store, with: hub)
        for s in [hub.store, laptop, hub2.store, hub3.store] {
            #expect(try Self.liveMemberships(s) == 0)
            #expect(try s.record(id: gid)?.isLive != true)
        }
        // Everyone holds the same state (member records included), and a sync with nothing new is quiet again.
        for s in [hub2.store, hub3.store, laptop, hub2.store, hub3.store] { _ = try sync(s, with: hub) }
        let digests = Set(try [hub.store, laptop, hub2.store, hub3.store].map { try $0.digest() })
        #expect(digests.count == 1)
        let quiet = try sync(laptop, with: hub)
        #expect(quiet.pulled == 0 && quiet.pushed == 0)
    }
}
