import Fixtures
import Foundation
import Testing
import Replica
@testable import Storage

/// Secondary indexes: keys follow every way a record changes, and queries page.
@Suite struct IndexTests {
    static let specs: [IndexSpec] = [
        tokenIndex,
        IndexSpec(name: "tenant", kind: .link, fields: ["tenant", "product"]) { v in
            [(v[0] ?? "") + IndexSpec.separator + (v[1] ?? "")]
        },
    ]

    func store(_ path: String? = nil) throws -> ReplicaStore {
        try ReplicaStore(path: path ?? temporaryDirectory() + "/r.sqlite", indexes: Self.specs)
    }

    @Test func mergedRecordsAreIndexedAndReplacedValuesAreNot() throws {
        let a = try store(), b = try store()
        try a.write { tx in try tx.write(id: "l1", kind: .link, ["token": "t1", "tenant": "acme", "product": "crm"]) }
        try pullAll(from: a, to: b)   // a new record: the prepared (encoded) path
        #expect(try b.lookup("token", key: "t1").map(\.id) == ["l1"])
        try a.write { tx in try tx.write(id: "l1", kind: .link, ["token": "t2"]) }
        try pullAll(from: a, to: b)   // an existing record: the merge path
        #expect(try b.lookup("token", key: "t1").isEmpty)
        #expect(try b.lookup("token", key: "t2").map(\.id) == ["l1"])
        try a.write { tx in try tx.delete(id: "l1") }
        try pullAll(from: a, to: b)
        #expect(try b.lookup("token", key: "t2").isEmpty, "tombstones have no keys")
        #expect(try b.count("token") == 0)
    }

    @Test func concurrentValuesIndexOnlyTheWinner() throws {
        let a = try store(), b = try store()
        try a.write { tx in try tx.write(id: "l1", kind: .link, ["token": "ta"]) }
        try b.write { tx in try tx.write(id: "l1", kind: .link, ["token": "tb"]) }
        try pullAll(from: a, to: b)
        try pullAll(from: b, to: a)
        let winner = try #require(a.record(id: "l1")?["token"])
        for s in [a, b] {
            #expect(try s.lookup("token", key: winner).map(\.id) == ["l1"])
            #expect(try s.count("token") == 1)
        }
    }

    @Test func scansPageInKeyOrderWithinAPrefix() throws {
        let s = try store()
        let tenants = ["b", "a", "ab", "a\u{1}", "é", "c"]
        for (i, t) in tenants.enumerated() {
            for p in ["x", "y"] {
                try s.write { tx in try tx.write(id: "\(t)-\(p)-\(i)", kind: .link, ["token": "t\(i)\(p)", "tenant": t, "product": p]) }
            }
        }
        var seen: [String] = []
        var cursor: IndexCursor?
        while true {
            let page = try s.scan("tenant", after: cursor, limit: 5)
            seen += page.map(\.key)
            guard let last = page.last else { break }
            cursor = last.cursor
        }
        let expected = tenants.flatMap { t in ["x", "y"].map { t + IndexSpec.separator + $0 } }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(seen == expected)
        // One tenant: the separator keeps "a" from matching "ab" or "a\u{1}".
        #expect(try s.scan("tenant", prefix: "a" + IndexSpec.separator, limit: 10).map(\.record["tenant"]) == ["a", "a"])
        #expect(try s.count("tenant", prefix: "a" + IndexSpec.separator) == 2)
        #expect(try s.scan("tenant", prefix: "zzz", limit: 10).isEmpty)
    }

    @Test func aStoreWithoutIndexesDropsKeysAndTheNextOneRebuildsThem() throws {
        let path = temporaryDirectory() + "/r.sqlite"
        let a = try store(path)
        try a.write { tx in try tx.write(id: "l1", kind: .link, ["token": "t1"]) }
        a.close()
        let bare = try ReplicaStore(path: path)
        #expect(throws: StoreError.self) { try bare.lookup("token", key: "t1") }
        try bare.write { tx in try tx.write(id: "l2", kind: .link, ["token": "t2"]) }
        bare.close()
        let again = try store(path)
        #expect(try again.lookup("token", key: "t1").map(\.id) == ["l1"])
        #expect(try again.lookup("token", key: "t2").map(\.id) == ["l2"], "written while the keys were down")
    }

    @Test func aChangedSpecRebuildsEveryKey() throws {
        let path = temporaryDirectory() + "/r.sqlite"
        let a = try store(path)
        try a.write { tx in try tx.write(id: "l1", kind: .link, ["token": "AbC"]) }
        a.close()
        let lower = IndexSpec.field("token", version: 2, kind: .link, field: "token", transform: { $0.lowercased() })
        let b = try ReplicaStore(path: path, indexes: [lower])
        #expect(try b.lookup("token", key: "abc").map(\.id) == ["l1"])
        #expect(try b.lookup("token", key: "AbC").isEmpty)
    }

    @Test func idsByPrefix() throws {
        let s = try store()
        for id in ["3309aa", "3309ab", "33a", "4"] {
            try s.write { tx in try tx.write(id: id, kind: .link, ["token": id]) }
        }
        #expect(try s.ids(kind: .link, prefix: "3309", limit: 10) == ["3309aa", "3309ab"])
        #expect(try s.ids(kind: .link, prefix: "33", limit: 10) == ["3309aa", "3309ab", "33a"])
        #expect(try s.ids(kind: .directory, prefix: "33", limit: 10).isEmpty)
        try s.write { tx in try tx.delete(id: "33a") }
        #expect(try s.ids(kind: .link, prefix: "33a", limit: 10).isEmpty)
        #expect(try s.ids(kind: .link, prefix: "33a", includeDeleted: true, limit: 10) == ["33a"])
    }

    @Test func randomHistoriesKeepKeysEqualToARebuild() throws {
        let seed = SeededGenerator.seed()
        print("randomHistoriesKeepKeysEqualToARebuild seed: \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let stores = try (0..<3).map { _ in try store() }
        for _ in 0..<400 {
            let s = stores[Int(rng.next() % 3)]
            let id = "l\(rng.next() % 15)"
            switch rng.next() % 5 {
            case 0, 1: try s.write { tx in _ = try tx.write(id: id, kind: .link, ["token": "t\(rng.next() % 30)", "tenant": "t\(rng.next() % 3)"], revive: true) }
            case 2: try s.write { tx in if try tx.record(id)?.isLive == true { try tx.delete(id: id) } }
            default:
                let from = stores[Int(rng.next() % 3)]
                if from !== s { try pullAll(from: from, to: s, limit: Int(rng.next() % 4) + 1) }
            }
        }
        for s in stores {
            let live = try s.records(kind: .link).filter(\.isLive)
            for r in live { #expect(try s.lookup("token", key: r["token"]!).contains { $0.id == r.id }) }
            #expect(try s.count("token") == live.count, "no stale keys")
        }
    }
}

/// A replica file written by the first schema (a link-token column) opens, migrates and answers from the index.
@Suite struct SchemaMigrationTests {
    @Test func aVersionOneFileMigratesAndItsLinksAreFoundByToken() throws {
        let path = temporaryDirectory() + "/v1.sqlite"
        // Build a version-1 file as the first release wrote it, with one link.
        var link = Record(id: "l1", kind: .link)
        link.write(["token": "tok1", "tenant": "acme"], dot: Dot(replica: ReplicaID(high: 0, low: 9), counter: 1), hlc: HLC(rawValue: 1 << 16))
        do {
            let db = try SQLiteConnection(path: path, create: true)
            try db.exec("PRAGMA application_id=\(Schema.applicationID)")
            try db.exec(Schema.migrations[0])
            try db.exec("PRAGMA user_version=1")
            try db.run("INSERT INTO meta(key, value) VALUES('replica_id', ?)", .text(ReplicaID(high: 1, low: 1).hex))
            try db.run("INSERT INTO records(id, kind, live, lookup, body) VALUES('l1', 1, 1, 'tok1', ?)", .blob(link.encoded))
            db.close()
        }
        let s = try ReplicaStore(path: path, indexes: [tokenIndex])
        #expect(try s.db.scalar("PRAGMA user_version")?.int == Int64(Schema.version))
        #expect(try s.lookup("token", key: "tok1").map(\.id) == ["l1"])
        #expect(try s.record(id: "l1") == link)
    }

    /// Schema 7 moves the hybrid logical clock from `meta` to the clock table's row 0:
    /// a version-6 file keeps its clock, which never counts as a replica's entry, and
    /// a write after the move is stamped after it.
    @Test func aVersionSixFileKeepsItsHybridLogicalClock() throws {
        let path = temporaryDirectory() + "/v6.sqlite"
        let future = HLC(rawValue: (HLC.wallMilliseconds() + 3_600_000) << 16)
        do {
            let s = try ReplicaStore(path: path)
            try s.write { tx in _ = try tx.write(id: "a", kind: .link, ["tenant": "t"]) }
            let clock = try s.clock()
            // Step the file back to version 6, its clock an hour ahead (as a peer's timestamps may leave it).
            try s.db.exec("DELETE FROM clock WHERE rix=0")
            try s.db.run("INSERT INTO meta(key, value) VALUES('hlc', ?)", .text(String(future.rawValue)))
            try s.db.exec("PRAGMA user_version=6")
            #expect(try s.clock() == clock)
            s.close()
        }
        let s = try ReplicaStore(path: path)
        #expect(try s.db.scalar("PRAGMA user_version")?.int == Int64(Schema.version))
        #expect(try s.meta("hlc") == nil)
        #expect(try s.loadHLC() == future)
        #expect(try s.clock().entries.count == 1)
        let written = try s.write { tx in try tx.write(id: "b", kind: .link, ["tenant": "t"]) }
        #expect(written.maxHLC > future)
        #expect(try s.loadHLC() == written.maxHLC)
    }
}
