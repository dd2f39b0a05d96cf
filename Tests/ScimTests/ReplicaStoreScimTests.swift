import Foundation
import TestSupport
import JSON
import Replica
import SetupLinks
import Storage
import Testing
@testable import Scim

/// The flows on a real replica file: `ScimReplicaTransaction` / `ScimReplicaReader`
/// over SQLite with the `ScimIndex` specs installed, and two replica files syncing.
@Suite struct ReplicaStoreScimTests {
    final class Hub {
        let store: ReplicaStore
        let dir: ScimDirectory

        init() throws {
            let folder = testFolder("scim")
            store = try ReplicaStore(path: folder + "/replica.sqlite", indexes: SetupLinkService.indexes)
            dir = ScimDirectory(id: Fixture.directoryID, baseURL: "https://hub.example/api/scim/v2.0/\(Fixture.directoryID)")
        }

        deinit { store.close() }

        /// One SCIM request that writes: one transaction.
        func write<T>(_ body: (ScimStore) throws -> T) throws -> T {
            try store.write { tx in try body(ScimReplicaTransaction(store: store, tx: tx)) }
        }

        /// One SCIM request that reads.
        func read<T>(_ body: (ScimStore) throws -> T) throws -> T { try body(ScimReplicaReader(store: store)) }

        func patch(_ path: String) -> JSONValue {
            json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(path)}"#)
        }

        func total(_ filter: String?, groups: Bool = false) throws -> Int64? {
            try read { s in
                groups ? try dir.listGroups(ListRequest(filter: filter), in: s) : try dir.listUsers(ListRequest(filter: filter), in: s)
            }.member("totalResults")?.int64Value
        }
    }

    static func sync(_ a: Hub, _ b: Hub) throws {
        for (from, to) in [(a, b), (b, a)] {
            while true {
                let page = try from.store.changes(since: try to.store.clock(), limit: 5)
                try to.store.apply(page)
                if !page.more { break }
            }
        }
    }

    @Test func anOktaSequenceOnAReplicaFile() throws {
        let hub = try Hub()
        let body = json(ProviderShapeTests.oktaUser)
        #expect(try hub.total(#"userName eq "test.user@okta.local""#) == 0)
        let uid = try hub.write { try hub.dir.createUser(body, in: $0) }.record.id
        #expect(try hub.total(#"userName eq "TEST.user@okta.local""#) == 1)
        #expect(try hub.total(#"externalId eq "00ujl29u0le5T6Aj10h7""#) == 1)
        #expect(scimError { _ = try hub.write { try hub.dir.createUser(body, in: $0) } }?.status == 409)
        let gid = try hub.write {
            try hub.dir.createGroup(json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng"}"#), in: $0)
        }.record.id
        let added = try hub.write { try hub.dir.patchGroup(gid, hub.patch(#"[{"op":"add","path":"members","value":[{"value":"\#(uid)"}]}]"#), in: $0) }
        #expect(added.events.map(\.name) == ["group.user_added"])
        #expect(try hub.total(#"members[value eq "\#(uid)"]"#, groups: true) == 1)
        #expect(try hub.read { try hub.dir.getUser(uid, projection: Projection(schema: ScimSchemas.userResource), in: $0) }
            .member("groups")?.arrayValue?.count == 1)
        let off = try hub.write { try hub.dir.patchUser(uid, hub.patch(#"[{"op":"replace","value":{"active":false}}]"#), in: $0) }
        #expect(off.resource.member("active") == .bool(false))
        _ = try hub.write { try hub.dir.patchGroup(gid, hub.patch(#"[{"op":"remove","path":"members[value eq \"\#(uid)\"]"}]"#), in: $0) }
        #expect(try hub.total(#"members[value eq "\#(uid)"]"#, groups: true) == 0)
        _ = try hub.write { try hub.dir.deleteUser(uid, in: $0) }
        #expect(try hub.total(nil) == 0)
        // A failed request leaves the file as it was.
        let digest = try hub.store.digest()
        #expect(scimError { _ = try hub.write { try hub.dir.patchGroup(gid, hub.patch(#"[{"op":"replace","path":"displayName","value":"X"},{"op":"remove","path":"id"}]"#), in: $0) } }?.kind == .mutability)
        #expect(try hub.store.digest() == digest)
    }

    @Test func pagingOnTheIndex() throws {
        let hub = try Hub()
        for i in 0..<25 {
            _ = try hub.write { try hub.dir.createUser(json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"p\#(i)"}"#), in: $0) }
        }
        let all = try hub.read { try hub.dir.listUsers(ListRequest(count: 100), in: $0) }
        let ids = all.member("Resources")?.arrayValue?.compactMap { $0.member("id")?.stringValue } ?? []
        #expect(ids.count == 25 && Set(ids).count == 25)
        var paged: [String] = []
        for start in stride(from: 1, through: 25, by: 4) {
            let page = try hub.read { try hub.dir.listUsers(ListRequest(startIndex: start, count: 4), in: $0) }
            #expect(page.member("totalResults") == .int(25))
            paged += page.member("Resources")?.arrayValue?.compactMap { $0.member("id")?.stringValue } ?? []
        }
        #expect(paged == ids)
        #expect(try ScimReplicaReader(store: hub.store).scan(.usersOfDirectory, prefix: ScimIndex.prefix(Fixture.directoryID),
                                                             offset: 2_000, limit: 10).isEmpty)
    }

    @Test func twoReplicaFilesConvergeWithIndexesInStep() throws {
        let (a, b) = (try Hub(), try Hub())
        let user = json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Zoe@X.com"}"#)
        let ida = try a.write { try a.dir.createUser(user, in: $0) }.record.id
        let idb = try b.write { try b.dir.createUser(user, in: $0) }.record.id
        #expect(ida == idb)
        let gid = try a.write {
            try a.dir.createGroup(json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"\#(ida)"}]}"#), in: $0)
        }.record.id
        try Self.sync(a, b)
        // B removes the member while A adds it again: add wins on both files.
        _ = try b.write { try b.dir.patchGroup(gid, b.patch(#"[{"op":"remove","path":"members","value":[{"value":"\#(ida)"}]}]"#), in: $0) }
        _ = try a.write { try a.dir.patchGroup(gid, a.patch(#"[{"op":"add","path":"members","value":[{"value":"\#(ida)"}]}]"#), in: $0) }
        try Self.sync(a, b)
        for hub in [a, b] {
            #expect(try hub.total(#"userName eq "zoe@x.com""#) == 1)
            #expect(try hub.total(#"members[value eq "\#(ida)"]"#, groups: true) == 1)
            #expect(try hub.total(#"displayName eq "g""#, groups: true) == 1)
        }
        #expect(try a.store.digest() == b.store.digest())
        // A rename on A is found by the new name on B once synced, and the old name is free.
        _ = try a.write { try a.dir.patchUser(ida, a.patch(#"[{"op":"replace","path":"userName","value":"zed@x.com"}]"#), in: $0) }
        try Self.sync(a, b)
        #expect(try b.total(#"userName eq "ZED@x.com""#) == 1)
        #expect(try b.total(#"userName eq "zoe@x.com""#) == 0)
    }
}
