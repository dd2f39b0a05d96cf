import Fixtures
import Foundation
import Testing
import Replica
@testable import Storage

/// Records prepared ahead of their merge (a sync's fetcher thread) merge exactly as
/// records read inside the merge do, and prepared records that do not fit are not used.
@Suite struct MergePreparerTests {
    static let specs: [IndexSpec] = [
        tokenIndex,
        IndexSpec(name: "tenant", kind: .link, joining: ["tenant", "product"], missing: .empty),
        IndexSpec(name: "dirtenant", kind: .directory, joining: ["tenant"], missing: .noKeyIfMissing, lowercased: true),
    ]

    /// The same indexes but the tenant key lowercased: keys made with it differ.
    static let variant: [IndexSpec] = [specs[0], IndexSpec(name: "tenant", kind: .link, joining: ["tenant", "product"], lowercased: true),
                                       specs[2]]

    func store() throws -> ReplicaStore {
        try ReplicaStore(path: temporaryDirectory() + "/r.sqlite", indexes: Self.specs)
    }

    /// Every index key, by record id: equal on two stores when their keys are.
    func keys(_ s: ReplicaStore) throws -> [String] {
        try s.lock.withLock {
            let q = try s.db.prepare("SELECT k.ix, hex(k.key), r.id FROM keys k JOIN records r ON r.rid = k.rid ORDER BY 1, 2, 3")
            var out: [String] = []
            while try q.step() { out.append("\(q.int(0)) \(q.text(1)) \(q.text(2))") }
            return out
        }
    }

    /// How many rows have an id key other than their store's key of their id (a lookup would miss them).
    func misKeyed(_ s: ReplicaStore) throws -> Int64 {
        try s.lock.withLock {
            try s.db.scalar("SELECT count(*) FROM records WHERE idk != setuplink_idkey((SELECT value FROM meta WHERE key='id_key'), id)")?.int ?? -1
        }
    }

    @Test func preparedPagesMergeAsPagesReadInTheMerge() throws {
        let seed = SeededGenerator.seed()
        print("preparedPagesMergeAsPagesReadInTheMerge seed: \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let sources = try (0..<2).map { _ in try store() }
        // Read inside the merge; prepared by its own preparer; prepared by another store's
        // preparer (not used: another id key); prepared with other indexes (not used).
        let plain = try store(), prepared = try store(), foreign = try store(), stale = try store()
        let clients = [plain, prepared, foreign, stale]
        let foreignPreparer = try store().mergePreparer()
        var pages = 0
        for step in 0..<160 {
            let s = sources[Int(rng.next() % 2)]
            let id = "r\(rng.next() % 25)"
            switch rng.next() % 8 {
            case 0, 1:
                try s.write { tx in
                    _ = try tx.write(id: id, kind: .link, ["token": "t\(rng.next() % 40)", "tenant": "T\(rng.next() % 3)",
                                                           "product": rng.next() % 4 == 0 ? "" : "p\(rng.next() % 2)"], revive: true)
                }
            case 2:
                try s.write { tx in
                    _ = try tx.write(id: "d" + id, kind: .directory, ["tenant": rng.next() % 3 == 0 ? "Ünï" : "Acme\(rng.next() % 2)"],
                                     revive: true)
                }
            case 3:
                try s.write { tx in if try tx.record(id)?.isLive == true { try tx.delete(id: id) } }
            case 4:
                // The sources exchange, so later pages bring records the clients hold (re-deliveries, concurrent states).
                try pullAll(from: sources[0], to: sources[1], limit: 9)
                try pullAll(from: sources[1], to: sources[0], limit: 9)
            default:
                let staleRefresh = step % 3 == 0
                let limit = Int(rng.next() % 12) + 1
                while true {
                    let page = try s.changes(since: try plain.clock(), limit: limit)
                    let clock = try s.clock()
                    if staleRefresh { try stale.installIndexes(Self.variant) }
                    let stalePreparer = stale.mergePreparer()
                    if staleRefresh { try stale.installIndexes(Self.specs) }
                    try plain.apply(pulled: [(page, clock)], from: s.replicaID)
                    try prepared.apply(pulled: [(page, clock, prepared.mergePreparer().prepare(page))], from: s.replicaID)
                    try foreign.apply(pulled: [(page, clock, foreignPreparer.prepare(page))], from: s.replicaID)
                    try stale.apply(pulled: [(page, clock, stalePreparer.prepare(page))], from: s.replicaID)
                    pages += 1
                    if !page.more { break }
                }
                let digest = try plain.digest(), index = try keys(plain)
                for c in clients.dropFirst() {
                    #expect(try c.digest() == digest, "seed \(seed)")
                    #expect(try keys(c) == index, "seed \(seed)")
                }
                for c in clients { #expect(try misKeyed(c) == 0, "seed \(seed)") }
            }
        }
        // The pages were real work: records, tombstones and keys of every index arrived.
        let index = try keys(prepared)
        #expect(pages > 10)
        #expect(try prepared.counts().tombstones > 0, "seed \(seed)")
        for ix in 0..<Self.specs.count { #expect(index.contains { $0.hasPrefix("\(ix) ") }, "seed \(seed): index \(ix)") }
    }

    @Test func recordsPreparedFromAnotherPageAreNotUsed() throws {
        let source = try store()
        for k in 0..<8 {
            try source.write { tx in _ = try tx.write(id: "l\(k)", kind: .link, ["token": "t\(k)", "tenant": "T\(k)"]) }
        }
        let first = try source.changes(since: VectorClock(), limit: 4)
        let second = try source.changes(since: first.advance(VectorClock()), limit: 4)
        #expect(first.records.count == 4 && second.records.count == 4)
        let plain = try store(), mixed = try store()
        for page in [first, second] {
            try plain.apply(pulled: [(page, try source.clock())], from: source.replicaID)
            // The other page's records, prepared for this store: same count, other records.
            let other = page.records[0].id == first.records[0].id ? second : first
            try mixed.apply(pulled: [(page, try source.clock(), mixed.mergePreparer().prepare(other))], from: source.replicaID)
        }
        #expect(try mixed.digest() == plain.digest())
        #expect(try keys(mixed) == keys(plain))
        #expect(try misKeyed(mixed) == 0)
        #expect(try mixed.lookup("token", key: "t6").map(\.id) == ["l6"])
    }

    @Test func aPreparedPageWithAnUnreadableRecordIsRefusedWhole() throws {
        let source = try store()
        for k in 0..<6 { try source.write { tx in _ = try tx.write(id: "l\(k)", kind: .link, ["token": "t\(k)", "tenant": "T"]) } }
        let page = try source.changes(since: VectorClock(), limit: 10)
        #expect(page.records.count == 6)
        for (bad, reason) in [(EncodedRecord(id: page.records[3].id, bytes: Array(page.records[3].bytes.dropLast(3))),
                               "not a canonical record encoding"),
                              (EncodedRecord(id: "", bytes: page.records[3].bytes), "bad id")] {
            var records = page.records
            records[3] = bad
            let broken = ChangePage(records: records, coverage: page.coverage, more: false, base: page.base)
            var errors: [String] = []
            for usePreparer in [false, true] {
                let client = try store()
                let before = try client.digest(), clock = try client.clock()
                let prepared = usePreparer ? client.mergePreparer().prepare(broken) : nil
                do {
                    try client.apply(pulled: [(broken, try source.clock(), prepared)], from: source.replicaID)
                    Issue.record("a page with an unreadable record was applied")
                } catch let e as MergeError {
                    errors.append(e.description)
                }
                #expect(try client.digest() == before, "nothing of the page is stored")
                #expect(try client.clock() == clock)
                #expect(try keys(client).isEmpty)
            }
            #expect(errors.count == 2 && errors[0] == errors[1], "the same error either way: \(errors)")
            #expect(errors.first?.contains(reason) == true, "\(errors)")
        }
    }

    /// `apply(pulled:from:more:)` keeps one transaction open while `more` hands it pages
    /// (a sync's larger transactions): what it applies is visible only at the commit,
    /// and a bad page anywhere in it leaves nothing of the others either.
    @Test func pagesAskedForInsideOneTransactionAreAllOrNothing() throws {
        let source = try store()
        for k in 0..<12 { try source.write { tx in _ = try tx.write(id: "l\(k)", kind: .link, ["token": "t\(k)", "tenant": "T"]) } }
        var pages: [ChangePage] = []
        var clock = VectorClock()
        while true {
            let page = try source.changes(since: clock, limit: 4)
            pages.append(page)
            clock = page.advance(clock)
            if !page.more { break }
        }
        #expect(pages.count == 3)
        let peerClock = try source.clock()
        for broken in [false, true] {
            let client = try store()
            let reader = try ReplicaStore(path: client.path, indexes: Self.specs)
            var rest = Array(pages.dropFirst())
            if broken {
                let last = rest[1]
                var records = last.records
                records[1] = EncodedRecord(id: records[1].id, bytes: Array(records[1].bytes.dropLast(3)))
                rest[1] = ChangePage(records: records, coverage: last.coverage, more: last.more, base: last.base)
            }
            var asked = 0, seenOutside: [Int] = []
            do {
                let summary = try client.apply(pulled: [(pages[0], peerClock, nil)], from: source.replicaID, more: {
                    asked += 1
                    // Another connection on the file sees none of it while the transaction is open.
                    seenOutside.append((try? reader.counts().links) ?? -1)
                    guard !rest.isEmpty else { return [] }
                    let next = rest.removeFirst()
                    return [(next, peerClock, client.mergePreparer().prepare(next))]
                })
                #expect(!broken, "a transaction with a bad page was committed")
                #expect(summary.inserted == 12)
                #expect(asked == 3)
                #expect(try client.digest() == source.digest())
                #expect(try reader.counts().links == 12)
                #expect(try reader.lookup("token", key: "t11").map(\.id) == ["l11"])
            } catch let e as MergeError {
                #expect(broken, "\(e)")
                #expect(asked == 2)
                #expect(try client.counts().links == 0, "nothing of the earlier pages is kept")
                #expect(try client.clock() == VectorClock())
                #expect(try keys(client).isEmpty)
            }
            #expect(seenOutside.allSatisfy { $0 == 0 }, "\(seenOutside)")
        }
    }
}
