import Fixtures
import Foundation
import Replica
import Storage
import Testing
@testable import PeerSync

/// Tombstone purge never loses a delete (Contract.md §2, Storage.docc/Tombstones.md).
@Suite struct PurgeTests {
    static let ids = (0..<60).map { "rec\($0)" }

    /// One random local transaction on `store`: a create, an update or a
    /// delete of a live record, now and then a re-create of a deleted one.
    /// Deletes mostly stick, so updates made concurrently with them elsewhere
    /// (the writes a purge could bring back) are common; values come from
    /// small sets, so concurrent equal writes happen too. Returns the ids written.
    static func randomOp(_ store: ReplicaStore, _ rng: inout SeededGenerator) throws -> [String] {
        let id = ids[Int(rng.next() % UInt64(ids.count))]
        let choice = rng.next() % 20
        let values = (rng.next(), rng.next(), rng.next())
        return try store.write { tx -> [String] in
            let existing = try tx.record(id)
            let create: [String: String] = ["tenant": "t\(values.0 % 3)", "product": "p", "token": "k\(values.1 % 1000)",
                                            "name": "n\(values.2 % 2)"]
            switch (existing?.isLive, choice) {
            case (nil, 0..<14), (false, 0..<2):
                try tx.write(id: id, kind: .link, create, revive: true)
            case (true, 0..<12):
                try tx.write(id: id, kind: .link, [["name", "token", "tenant"][Int(values.0 % 3)]: "u\(values.1 % 4)"])
            case (true, 12..<16):
                try tx.delete(id: id)
            default:
                return []
            }
            return [id]
        }
    }

    /// Checks what users rely on: every replica shows exactly what the oracle
    /// (all writes joined, nothing purged) shows, and all digests are equal.
    static func expectAgreement(_ stores: [ReplicaStore], _ oracle: Oracle, excluding: Set<String> = [], seed: UInt64) throws {
        let digests = try stores.map { try $0.digest() }
        #expect(Set(digests).count == 1, "digests differ, seed \(seed)")
        for (id, expected) in oracle.records.sorted(by: { $0.key < $1.key }) where !excluding.contains(id) {
            for (k, s) in stores.enumerated() {
                let r = try s.record(id: id)
                let live = r?.isLive ?? false
                #expect(live == expected.isLive, "\(id) on replica \(k): live \(live), expected \(expected.isLive), seed \(seed)")
                if live && expected.isLive {
                    #expect(r!.fields == expected.fields, "\(id) on replica \(k): fields differ, seed \(seed)")
                }
            }
        }
    }

    @Test func changingTopologiesCutOffsAndCrashesNeverLoseADelete() throws {
        let seed = SeededGenerator.seed()
        print("changingTopologiesCutOffsAndCrashesNeverLoseADelete seed: \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let network = InProcessNetwork()
        // 0 and 1: hubs. 2: a laptop that first knows only 0, then meets 1 (a hub it never met).
        // 3: a late joiner that works offline from the start. 4: only ever meets 2.
        let r = try (0..<5).map { try InProcessReplica(host: "r\($0)", network: network) }
        var oracle = Oracle()
        var operations = 0, syncs = 0, cut = 0, crashes = 0, failed = 0
        var offline = Set<String>()  // ids replica 3 wrote before its first sync
        func pairs(_ round: Int) -> [(client: Int, server: Int)] {
            var p = [(2, 0), (1, 0)]
            if round >= 100 { p += [(2, 1), (3, 0)] }  // new pair; the late joiner's first syncs
            if round >= 160 { p += [(0, 1), (3, 1)] }  // roles reversed; another new pair
            return p
        }
        /// Brings `members` to the same state (4 only ever syncs with 2), then
        /// checks them against the oracle: a delete lost mid-run is caught before
        /// a later re-create could hide it.
        func converge(_ members: [Int]) throws {
            for _ in 0..<10 {
                for c in members + members where c != 0 { try r[c].sync(with: r[c == 4 ? 2 : 0], pageLimit: 5) }
                let digests = try members.map { try r[$0].store.digest() }
                if Set(digests).count == 1 { break }
            }
            for k in members { try oracle.note(Self.ids, in: r[k].store) }
            // Before 3 joins, the ids it wrote offline are not known to the others yet.
            try Self.expectAgreement(members.map { r[$0].store }, oracle, excluding: members.contains(3) ? [] : offline, seed: seed)
        }
        let watch = ProcessInfo.processInfo.environment["PURGE_WATCH"]
        func show(_ what: String) {
            guard let id = watch else { return }
            func d(_ rec: Record?) -> String {
                guard let rec else { return "-" }
                return "\(rec.isLive ? "L" : "D") c=\(rec.clock.entries.map { "\($0.replica.hex.prefix(3)):\($0.counter)" }) del=\(rec.deletedRegister.versions.map { "\($0.value ? "T" : "F")@\($0.dot.replica.hex.prefix(3)):\($0.dot.counter)" })"
            }
            print("WATCH \(what) oracle=\(d(oracle.records[id]))")
            for (k, x) in r.enumerated() { print("   r\(k) \(x.store.replicaID.hex.prefix(3)) \(d(try? x.store.record(id: id))) floor=\((try? x.store.purgeFloor())?.entries.map { "\($0.replica.hex.prefix(3)):\($0.counter)" } ?? [])") }
        }
        for round in 0..<280 {
            if round > 0 && round % 40 == 0 { try converge(round < 100 ? [0, 1, 2] + (round >= 60 ? [4] : []) : [0, 1, 2, 3, 4]) }
            for _ in 0..<Int.random(in: 6...14, using: &rng) {
                // Replica 4 appears at round 60; every other replica writes from the start (3 offline).
                let w = Int.random(in: 0..<(round >= 60 ? 5 : 4), using: &rng)
                let written = try Self.randomOp(r[w].store, &rng)
                if w == 3 && round < 100 { offline.formUnion(written) }
                try oracle.note(written, in: r[w].store)
                if let watch, written.contains(watch) { show("round \(round) write on r\(w)") }
                operations += 1
            }
            // 4 syncs with 2 now and then only: it edits stale copies of records deleted elsewhere.
            let four = round >= 60 && Int.random(in: 0..<10, using: &rng) == 0
            for k in 0..<(four ? 2 : Int.random(in: 1...2, using: &rng)) {
                let (c, s) = four && k == 0 ? (4, 2) : pairs(round).randomElement(using: &rng)!
                let faulty = Int.random(in: 0..<3, using: &rng) == 0
                // Half the cuts kill the client there (kill -9): pages fetched and not applied are lost.
                let kill = faulty && Bool.random(using: &rng)
                if faulty {
                    network.cut(atRequest: Int.random(in: 1...8, using: &rng), afterAnswer: Bool.random(using: &rng),
                                killing: kill ? r[c].store : nil)
                }
                defer { network.heal() }
                syncs += 1
                do {
                    try r[c].sync(with: r[s], pageLimit: Int.random(in: 1...6, using: &rng))
                } catch {
                    failed += 1
                    switch error {
                    case .unreachable, .timedOut: #expect(faulty, "\(error), seed \(seed)")
                    case .local: #expect(kill, "\(error), seed \(seed)")  // the killed replica's own calls fail
                    default: Issue.record("sync \(c)→\(s) failed: \(error), seed \(seed)")
                    }
                }
                if faulty {
                    cut += 1
                    // The killed client restarts from its file; sometimes a cut one does too.
                    if kill || Int.random(in: 0..<4, using: &rng) == 0 { try r[c].reopen(); crashes += 1 }
                    if Int.random(in: 0..<4, using: &rng) == 0 { try r[s].reopen(); crashes += 1 }
                }
                // A replica joining for the first time rewrites its own records (Storage.docc/Tombstones.md):
                // those are local writes too.
                try oracle.note(Self.ids, in: r[c].store)
                try oracle.note(Self.ids, in: r[s].store)
                show("round \(round) sync r\(c)→r\(s) faulty=\(faulty) kill=\(kill)")
            }
        }
        // Everyone converges: through hub 0, except 4, which only ever syncs with 2.
        var rounds = 0
        for _ in 0..<10 {
            rounds += 1
            for (c, s) in [(1, 0), (2, 0), (3, 0), (4, 2), (2, 0), (1, 0), (3, 0)] { try r[c].sync(with: r[s], pageLimit: 5) }
            let digests = try r.map { try $0.store.digest() }
            let tombstones = try r.reduce(0) { $0 + (try $1.store.counts().tombstones) }
            if Set(digests).count == 1 && tombstones == 0 { break }
        }
        let stores = r.map(\.store)
        // The summary the triggers kept through every merge, purge, kill and fault is what the records say.
        for s in stores { #expect(try s.stateSummaryIsTrue(), "seed \(seed)") }
        try Self.expectAgreement(stores, oracle, seed: seed)
        let deleted = oracle.records.values.filter { !$0.isLive }.map(\.id)
        let purgedEverywhere = try deleted.filter { id in try stores.allSatisfy { try $0.record(id: id) == nil } }
        print("changingTopologies: \(operations) operations, \(syncs) syncs (\(cut) cut off, \(failed) failed, \(crashes) crashes), "
              + "\(deleted.count) deleted at the end, \(purgedEverywhere.count) purged everywhere, \(rounds) final rounds")
        #expect(operations >= 2_000)
        #expect(cut > 20 && crashes > 10)
        #expect(!deleted.isEmpty, "the run ends with deleted records, seed \(seed)")
        #expect(purgedEverywhere.count == deleted.count, "every tombstone is purged once everyone has it, seed \(seed)")
        #expect(try stores.allSatisfy { try $0.purgeFloor().isEmpty == false })
    }

    @Test func overRealHTTPReplicasThatMeetAtRandomConvergeAndPurge() throws {
        let seed = SeededGenerator.seed()
        print("overRealHTTPReplicasThatMeetAtRandomConvergeAndPurge seed: \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let r = try (0..<4).map { _ in try ServedReplica() }
        let network = CuttableHTTP()
        var oracle = Oracle()
        var operations = 0, cut = 0
        for round in 0..<50 {
            // Replica 3 joins late, after working offline.
            let active = round < 20 ? 3 : 4
            for _ in 0..<Int.random(in: 3...10, using: &rng) {
                let w = Int.random(in: 0..<4, using: &rng)
                try oracle.note(try Self.randomOp(r[w].store, &rng), in: r[w].store)
                operations += 1
            }
            let c = Int.random(in: 0..<active, using: &rng)
            var s = Int.random(in: 0..<active, using: &rng)
            if s == c { s = (c + 1) % active }
            // Cut off on the client's side (the network drops): before a request leaves, or after its answer.
            let faulty = Int.random(in: 0..<4, using: &rng) == 0
            if faulty {
                network.cut(atRequest: Int.random(in: 1...6, using: &rng), afterAnswer: Bool.random(using: &rng))
                cut += 1
            }
            defer { network.heal() }
            do {
                _ = try SyncClient(pageLimit: Int.random(in: 1...4, using: &rng), transport: network.transport)
                    .sync(store: r[c].store, url: r[s].url, token: testToken)
            } catch {
                switch error {
                case .unreachable, .timedOut: #expect(faulty, "sync \(c)→\(s) failed: \(error), seed \(seed)")
                default: Issue.record("sync \(c)→\(s) failed: \(error), seed \(seed)")
                }
            }
            try oracle.note(Self.ids, in: r[c].store)
            try oracle.note(Self.ids, in: r[s].store)
        }
        for _ in 0..<8 {
            for c in [1, 2, 3, 1] { try sync(r[c].store, with: r[0], pageLimit: 7) }
            let digests = try r.map { try $0.store.digest() }
            let tombstones = try r.reduce(0) { $0 + (try $1.store.counts().tombstones) }
            if Set(digests).count == 1 && tombstones == 0 { break }
        }
        let stores = r.map(\.store)
        // The summary the triggers kept through every merge, purge, kill and fault is what the records say.
        for s in stores { #expect(try s.stateSummaryIsTrue(), "seed \(seed)") }
        try Self.expectAgreement(stores, oracle, seed: seed)
        let deleted = oracle.records.values.filter { !$0.isLive }.map(\.id)
        let purged = try deleted.filter { id in try stores.allSatisfy { try $0.record(id: id) == nil } }
        let left = try stores.map { try $0.counts().tombstones }
        print("overRealHTTP: \(operations) operations, \(cut) syncs cut off, \(deleted.count) deleted at the end, "
              + "\(purged.count) purged everywhere, tombstones left \(left)")
        #expect(!deleted.isEmpty && cut > 0, "seed \(seed)")
        #expect(!purged.isEmpty, "tombstones were purged, seed \(seed)")
    }
}
