import Fixtures
import Testing
@testable import Replica

/// Builds replicas that write to a few shared records and exchange whole record states.
struct RecordWorld {
    var replicas: [MemoryReplica]
    var rng: SeededGenerator
    let ids = ["l1", "l2"]
    let fieldNames = ["token", "name", "valid_till", "webhook_url"]

    init(count: Int, seed: UInt64) {
        rng = SeededGenerator(seed: seed)
        replicas = []
        for _ in 0..<count {
            var r = MemoryReplica(id: ReplicaID(high: rng.next(), low: rng.next()))
            // A skewed wall clock per replica: causality must not depend on it.
            let skew = UInt64.random(in: 0...5_000, using: &rng)
            r.now = { 1_000_000 + skew }
            replicas.append(r)
        }
    }

    mutating func randomStep() {
        let i = Int.random(in: 0..<replicas.count, using: &rng)
        let id = ids.randomElement(using: &rng)!
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...2:
            // Few distinct values, so concurrent writes of equal values are common.
            replicas[i].write(id: id, kind: .link, ["token": "t\(rng.next() % 4)", "name": "n\(rng.next() % 3)"], revive: true)
        case 3...5:
            let f = fieldNames.randomElement(using: &rng)!
            if replicas[i].records[id]?.isLive == true { replicas[i].write(id: id, kind: .link, [f: "v\(rng.next() % 3)"]) }
        case 6:
            replicas[i].delete(id: id)
        default:
            let j = Int.random(in: 0..<replicas.count, using: &rng)
            if let r = replicas[j].records[id] { _ = try? replicas[i].merge([r]) }
        }
    }

    /// Every state of every record on every replica.
    var states: [Record] { replicas.flatMap { Array($0.records.values) } }
}

@Suite struct RecordMergeTests {
    @Test func mergeIsCommutativeAssociativeIdempotent() throws {
        let seed = SeededGenerator.seed()
        print("RecordMergeTests seed: \(seed)")
        var world = RecordWorld(count: 4, seed: seed)
        var checked = 0
        var equalOnly = 0  // registers holding concurrent writes of one value only
        for _ in 0..<300 {
            for _ in 0..<5 { world.randomStep() }
            let states = world.states
            for _ in 0..<10 {
                guard let a = states.randomElement(using: &world.rng), let b = states.randomElement(using: &world.rng),
                      let c = states.randomElement(using: &world.rng), a.id == b.id, b.id == c.id else { continue }
                #expect(a.merged(with: b) == b.merged(with: a), "commutative, seed \(seed)")
                #expect(a.merged(with: b).merged(with: c) == a.merged(with: b.merged(with: c)), "associative, seed \(seed)")
                #expect(a.merged(with: a) == a, "idempotent, seed \(seed)")
                #expect(a.merged(with: b) == a.fullMerge(with: b), "causal fast path agrees with the full join, seed \(seed)")
                #expect(try Record(id: a.id, encoded: a.encoded) == a, "binary round-trip, seed \(seed)")
                // A conflict is a different value: never the visible one, never one value twice.
                let m = a.merged(with: b)
                for f in m.fields {
                    let losers = f.register.losers.map(\.value)
                    #expect(!losers.contains(f.register.value!), "a loser equal to the winner, seed \(seed)")
                    #expect(Set(losers).count == losers.count, "a value listed twice, seed \(seed)")
                    #expect(losers.count == Set(f.register.versions.map(\.value)).count - 1, "seed \(seed)")
                    if f.register.versions.count > 1 && losers.isEmpty { equalOnly += 1 }
                }
                #expect(m.conflictCount == m.conflicts.reduce(0) { $0 + $1.losers.count }, "seed \(seed)")
                let encoded = EncodedRecord(a)
                let facts = try encoded.facts(winnersOf: [Array("token".utf8)])
                #expect(facts.clock == a.clock && facts.isLive == a.isLive && facts.maxHLC == a.maxHLC
                        && Set(facts.dots) == a.dots && facts.winner(0, in: encoded.bytes) == a["token"], "facts of the encoding, seed \(seed)")
                checked += 1
            }
        }
        #expect(checked > 500)
        #expect(equalOnly > 0, "the run never produced concurrent equal values, seed \(seed)")
    }

    static func pair() -> (MemoryReplica, MemoryReplica) {
        var a = MemoryReplica(id: ReplicaID(high: 0, low: 1)), b = MemoryReplica(id: ReplicaID(high: 0, low: 2))
        a.now = { 5_000 }
        b.now = { 1_000 }  // b's wall clock is behind
        return (a, b)
    }

    @Test func causallyLaterWriteWinsWhateverTheWallClock() throws {
        var (a, b) = Self.pair()
        a.write(id: "x", kind: .link, ["token": "old"])
        try b.merge(Array(a.records.values))
        b.write(id: "x", kind: .link, ["token": "new"])  // b saw a's write, with an earlier wall clock
        try a.merge(Array(b.records.values))
        #expect(a.records["x"]?["token"] == "new")
        #expect(a.records["x"]?.conflicts.isEmpty == true)
    }

    @Test func concurrentWritesPickOneWinnerAndKeepTheLoserAsConflict() throws {
        var (a, b) = Self.pair()
        a.write(id: "x", kind: .link, ["token": "from-a"])
        b.write(id: "x", kind: .link, ["token": "from-b"])
        let sa = a.records["x"]!, sb = b.records["x"]!
        try a.merge([sb])
        try b.merge([sa])
        #expect(a.records["x"] == b.records["x"])
        #expect(a.records["x"]?["token"] == "from-a")  // larger HLC (a's clock is ahead)
        let c = try #require(a.records["x"]?.conflicts.first)
        #expect(c.field == "token" && c.losers.map(\.value) == ["from-b"])
        // The next write, which has seen both, clears the conflict.
        b.write(id: "x", kind: .link, ["token": "fixed"])
        try a.merge([b.records["x"]!])
        #expect(a.records["x"]?["token"] == "fixed")
        #expect(a.records["x"]?.conflicts.isEmpty == true)
    }

    @Test func concurrentDeleteBeatsUpdate() throws {
        var (a, b) = Self.pair()
        a.write(id: "x", kind: .link, ["token": "t1"])
        try b.merge([a.records["x"]!])
        a.delete(id: "x")
        b.write(id: "x", kind: .link, ["token": "t2"])  // regenerate, concurrent with the delete
        let sa = a.records["x"]!, sb = b.records["x"]!
        try a.merge([sb])
        try b.merge([sa])
        #expect(a.records["x"]?.isDeleted == true)
        #expect(b.records["x"]?.isDeleted == true)
        #expect(a.records["x"] == b.records["x"])
    }

    @Test func createAfterSeeingDeleteRevives() throws {
        var (a, b) = Self.pair()
        a.write(id: "x", kind: .link, ["token": "t1"])
        a.delete(id: "x")
        try b.merge([a.records["x"]!])
        #expect(b.records["x"]?.isLive == false)
        b.write(id: "x", kind: .link, ["token": "t2"], revive: true)
        try a.merge([b.records["x"]!])
        #expect(a.records["x"]?.isLive == true)
        #expect(a.records["x"]?["token"] == "t2")
    }

    @Test func concurrentEqualValuesAreNotConflicts() throws {
        var (a, b) = Self.pair()
        // Two offline creates of one link: equal tenant and product, random tokens.
        a.write(id: "x", kind: .link, ["tenant": "acme", "product": "crm", "token": "from-a"])
        b.write(id: "x", kind: .link, ["tenant": "acme", "product": "crm", "token": "from-b"])
        let sa = a.records["x"]!, sb = b.records["x"]!
        try a.merge([sb])
        try b.merge([sa])
        let r = try #require(a.records["x"])
        #expect(r == b.records["x"])
        #expect(r.conflicts.map(\.field) == ["token"])
        #expect(r.conflictCount == 1)
        #expect(r["tenant"] == "acme" && r.register("tenant")?.losers.isEmpty == true)
        // Both writes are kept (each dot matters to later joins), yet neither is a conflict.
        #expect(r.register("tenant")?.versions.count == 2)
        #expect(r.register("tenant")?.hasConflict == false)
        #expect(r.register("token")?.hasConflict == true)
        // A merge that adds only an equal value reports no new conflict.
        var c = MemoryReplica(id: ReplicaID(high: 0, low: 3))
        c.write(id: "y", kind: .link, ["tenant": "acme"])
        var d = MemoryReplica(id: ReplicaID(high: 0, low: 4))
        d.write(id: "y", kind: .link, ["tenant": "acme"])
        let summary = try c.merge([d.records["y"]!])
        #expect(summary.conflicts == 0)
        #expect(c.records["y"]?.conflicts.isEmpty == true)
    }

    /// Why equal values keep both versions: collapsing them to the winner is not a join.
    @Test func equalValuesKeepTheirDotsSoLaterJoinsStayOrderFree() throws {
        var (a, b) = Self.pair()
        var c = MemoryReplica(id: ReplicaID(high: 0, low: 3))
        c.now = { 3_000 }
        a.write(id: "x", kind: .link, ["tenant": "acme"])
        b.write(id: "x", kind: .link, ["tenant": "acme"])
        // c saw only b's write and replaced it.
        try c.merge([b.records["x"]!])
        c.write(id: "x", kind: .link, ["tenant": "globex"])
        let sa = a.records["x"]!, sb = b.records["x"]!, sc = c.records["x"]!
        let ab = sa.merged(with: sb)
        // a's "acme" was never seen by c: it is still a concurrent value, in any order.
        let one = ab.merged(with: sc), two = sc.merged(with: sa).merged(with: sb), three = sa.merged(with: sc.merged(with: sb))
        #expect(one == two && two == three)
        #expect(Set(one.register("tenant")!.versions.map(\.value)) == ["acme", "globex"])
    }

    @Test func digestSeesEveryDifferenceButNotPurgedTombstones() throws {
        var (a, b) = Self.pair()
        #expect(a.digest == b.digest)
        a.write(id: "x", kind: .link, ["token": "t"])
        #expect(a.digest != b.digest)
        try b.apply(a.changes(since: b.clock, limit: 10))
        #expect(a.digest == b.digest)
        a.delete(id: "x")
        #expect(a.digest != b.digest, "a delete changes the clock and the visible records")
        try b.apply(a.changes(since: b.clock, limit: 10))
        #expect(a.digest == b.digest)
        // b purges its tombstone, a keeps it: same clock, same visible records, same digest.
        let kept = Array(a.records.values), purged = kept.filter(\.isLive)
        #expect(kept.count != purged.count)
        #expect(StateDigest.of(kept, clock: a.clock) == StateDigest.of(purged, clock: b.clock))
        // A conflict is visible state.
        var c = MemoryReplica(id: ReplicaID(high: 0, low: 3))
        c.now = { 9_000 }
        a.write(id: "y", kind: .link, ["token": "one"])
        try b.apply(a.changes(since: b.clock, limit: 10))
        try c.apply(a.changes(since: c.clock, limit: 10))
        c.write(id: "y", kind: .link, ["token": "two"])
        b.write(id: "y", kind: .link, ["token": "three"])
        let before = b.digest
        try b.merge([c.records["y"]!])
        #expect(b.records["y"]?.conflicts.isEmpty == false)
        #expect(b.digest != before, "the same clock, but now a conflict")
    }

    @Test func digestFramesIDsByLength() throws {
        func digest(_ records: [(String, [UInt8])]) -> String {
            var d = StateDigest(clock: VectorClock())
            for (id, body) in records { body.withUnsafeBytes { d.add(id: id, encoded: $0) } }
            return d.finalize()
        }
        // NUL-terminated ids made these two the same bytes: "a" NUL 04 "b" NUL 01 "c".
        #expect(digest([("a", [0x62, 0x00, 0x01, 0x63])]) != digest([("a\u{0}\u{4}b", [0x63])]))
        #expect(digest([("a", [1]), ("bc", [2])]) != digest([("ab", [1]), ("c", [2])]))
        #expect(digest([("a", [1]), ("bc", [2])]) == digest([("a", [1]), ("bc", [2])]))
        // The clock is hashed too.
        let one = StateDigest(clock: VectorClock([(ReplicaID(high: 0, low: 1), UInt64(1))]))
        let withClock = one.finalize()
        #expect(withClock != digest([]))
    }

    @Test func corruptEncodingIsRejected() {
        var r = Record(id: "x", kind: .link)
        r.write(["a": "b"], dot: Dot(replica: ReplicaID(high: 1, low: 1), counter: 1), hlc: HLC(rawValue: 7))
        var bytes = r.encoded
        #expect(throws: RecordDecodingError.self) { try Record(id: "x", encoded: Array(bytes.dropLast())) }
        bytes[1] = 0xEE  // no such kind
        #expect(throws: RecordDecodingError.self) { try Record(id: "x", encoded: bytes) }
        #expect(throws: RecordDecodingError.self) { try Record(id: "x", encoded: [UInt8]()) }
    }
}
