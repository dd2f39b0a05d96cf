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
            replicas[i].write(id: id, kind: .link, ["token": "t\(rng.next() % 1000)", "name": "n\(rng.next() % 10)"], revive: true)
        case 3...5:
            let f = fieldNames.randomElement(using: &rng)!
            if replicas[i].records[id]?.isLive == true { replicas[i].write(id: id, kind: .link, [f: "v\(rng.next() % 1000)"]) }
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
                let facts = try EncodedRecord(a).facts(winnersOf: [Array("token".utf8)])
                #expect(facts.clock == a.clock && facts.isLive == a.isLive && facts.maxHLC == a.maxHLC
                        && Set(facts.dots) == a.dots && facts.winners == [a["token"]], "facts of the encoding, seed \(seed)")
                checked += 1
            }
        }
        #expect(checked > 500)
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

    @Test func digestSeesEveryDifference() throws {
        var (a, b) = Self.pair()
        #expect(a.digest == b.digest)
        a.write(id: "x", kind: .link, ["token": "t"])
        #expect(a.digest != b.digest)
        try b.merge(Array(a.records.values))
        #expect(a.digest == b.digest)
        a.delete(id: "x")
        #expect(a.digest != b.digest)  // tombstones count
    }

    @Test func corruptEncodingIsRejected() {
        var r = Record(id: "x", kind: .link)
        r.write(["a": "b"], dot: Dot(replica: ReplicaID(high: 1, low: 1), counter: 1), hlc: HLC(rawValue: 7))
        var bytes = r.encoded
        #expect(throws: RecordDecodingError.self) { try Record(id: "x", encoded: Array(bytes.dropLast())) }
        bytes[1] = 9
        #expect(throws: RecordDecodingError.self) { try Record(id: "x", encoded: bytes) }
        #expect(throws: RecordDecodingError.self) { try Record(id: "x", encoded: [UInt8]()) }
    }
}
