import Fixtures
import Foundation
import Testing
import Replica
@testable import Storage

@Suite struct ReplicaStoreMergeTests {
    @Test func localWritesAreStampedAndIndexed() throws {
        let s = try ReplicaStore(path: temporaryDirectory() + "/r.sqlite", indexes: [tokenIndex])
        try s.write { tx in try tx.write(id: "l1", kind: .link, ["token": "aaa", "tenant": "acme"]) }
        try s.write { tx in try tx.write(id: "l1", kind: .link, ["token": "bbb"]) }
        #expect(try s.lookup("token", key: "aaa").isEmpty, "a regenerated token finds nothing")
        #expect(try s.lookup("token", key: "bbb").map(\.id) == ["l1"])
        #expect(try s.clock()[s.replicaID] == 2)
        try s.write { tx in try tx.delete(id: "l1") }
        #expect(try s.lookup("token", key: "bbb").isEmpty, "a deleted link's token finds nothing")
        #expect(try s.counts().links == 0)
        #expect(try s.counts().tombstones == 1)
        // A transaction that saves nothing uses no counter.
        try s.write { _ in }
        #expect(try s.clock()[s.replicaID] == 3)
    }

    @Test func storeMatchesTheInMemoryModel() throws {
        let seed = SeededGenerator.seed()
        print("storeMatchesTheInMemoryModel seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        var model = MemoryReplica(id: ReplicaID(high: rng.next(), low: rng.next()))
        let store = try temporaryStore()
        for _ in 0..<300 {
            let id = "r\(rng.next() % 20)"
            switch rng.next() % 4 {
            case 0, 1: model.write(id: id, kind: .link, ["token": "t\(rng.next() % 99)", "name": "n\(rng.next() % 9)"], revive: true)
            case 2: if model.records[id]?.isLive == true { model.write(id: id, kind: .link, ["name": "u\(rng.next() % 9)"]) }
            default: if model.records[id]?.isLive == true { model.delete(id: id) }
            }
            if rng.next() % 5 == 0 {
                while true {
                    let p = model.changes(since: try store.clock(), limit: Int(rng.next() % 4) + 1)
                    try store.apply(p)
                    if !p.more { break }
                }
                #expect(try store.digest() == model.digest, "seed \(seed)")
            }
        }
        while true {
            let p = model.changes(since: try store.clock(), limit: 3)
            try store.apply(p)
            if !p.more { break }
        }
        #expect(try store.digest() == model.digest, "seed \(seed)")
        #expect(try store.clock() == model.clock, "seed \(seed)")
        // Paging from the store gives the same records as paging from the model.
        let fresh = try temporaryStore()
        try pullAll(from: store, to: fresh, limit: 7)
        #expect(try fresh.digest() == model.digest, "seed \(seed)")
    }

    @Test func storesConvergeThroughCutAndRepeatedPages() throws {
        let seed = SeededGenerator.seed()
        print("storesConvergeThroughCutAndRepeatedPages seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        let stores = try (0..<3).map { _ in try temporaryStore() }
        var ops = 0
        for _ in 0..<150 {
            for _ in 0..<8 {
                let s = stores[Int(rng.next() % 3)]
                let id = "r\(rng.next() % 30)"
                try s.write { tx in
                    let live = try tx.record(id)?.isLive == true
                    switch rng.next() % 5 {
                    case 0, 1: try tx.write(id: id, kind: .link, ["token": "t\(rng.next())", "tenant": "x", "product": "p"], revive: true)
                    case 2 where live: try tx.write(id: id, kind: .link, ["token": "t\(rng.next())"])
                    case 3 where live: try tx.delete(id: id)
                    default: break
                    }
                }
                ops += 1
            }
            let a = stores[Int(rng.next() % 3)], b = stores[Int(rng.next() % 3)]
            guard a !== b else { continue }
            // Cut short: only the first pages; some pages delivered twice.
            var clock = try a.clock()
            for _ in 0..<Int(rng.next() % 3) {
                let p = try b.changes(since: clock, limit: Int(rng.next() % 5) + 1)
                try a.apply(p)
                if rng.next() % 2 == 0 { try a.apply(p) }
                clock = try a.clock()
                if !p.more { break }
            }
        }
        for _ in 0..<2 {
            for a in stores { for b in stores where a !== b { try pullAll(from: b, to: a, limit: 9) } }
        }
        let digests = try Set(stores.map { try $0.digest() })
        #expect(digests.count == 1, "seed \(seed)")
        #expect(ops >= 1000)
        let before = try stores[0].digest()
        let summary = try pullAll(from: stores[1], to: stores[0])
        #expect(summary.changed == 0)
        #expect(try stores[0].digest() == before)
    }

    @Test func anInvalidBatchChangesNothing() throws {
        let a = try temporaryStore(), b = try temporaryStore()
        try a.write { try $0.write(id: "x", kind: .link, ["token": "t"]) }
        try b.write { try $0.write(id: "x", kind: .directory, ["name": "d"]) }
        try b.write { try $0.write(id: "y", kind: .link, ["name": "y"]) }
        let before = try a.digest(), clock = try a.clock()
        let page = try b.changes(since: VectorClock(), limit: 10)
        #expect(throws: MergeError.self) { try a.apply(page) }
        #expect(try a.digest() == before)
        #expect(try a.clock() == clock)
    }

    @Test func twoConnectionsWritingTheSameFileLoseNothing() throws {
        let path = temporaryDirectory() + "/shared.sqlite"
        let a = try ReplicaStore(path: path), b = try ReplicaStore(path: path)
        #expect(a.replicaID == b.replicaID)
        let group = DispatchGroup()
        for (k, s) in [a, b].enumerated() {
            let thread = Thread {
                for i in 0..<100 { try! s.write { try $0.write(id: "w\(k)-\(i)", kind: .link, ["token": "\(k)-\(i)"]) } }
                group.leave()
            }
            group.enter()
            thread.start()
        }
        group.wait()
        #expect(try a.counts().links == 200)
        #expect(try a.clock()[a.replicaID] == 200, "every write got its own dot")
        #expect(try b.digest() == a.digest())
    }

    @Test func changesAreAnsweredFromTheIndexInPages() throws {
        let a = try temporaryStore(), b = try temporaryStore()
        for i in 0..<25 { try a.write { try $0.write(id: "r\(i)", kind: .link, ["token": "\(i)"]) } }
        let first = try a.changes(since: VectorClock(), limit: 10)
        #expect(first.records.count == 10)
        #expect(first.more)
        #expect(first.coverage[a.replicaID] == 10)
        try b.apply(first)
        let second = try a.changes(since: try b.clock(), limit: 100)
        #expect(second.records.map(\.id).sorted() == (10..<25).map { "r\($0)" }.sorted())
        #expect(!second.more)
        try b.apply(second)
        #expect(try a.changes(since: try b.clock(), limit: 100).records.isEmpty)
        #expect(try a.unacknowledged(by: try b.clock()) == 0)
        #expect(try a.unacknowledged(by: VectorClock()) == 25)
    }
}
