import Fixtures
import Testing
@testable import Replica

@Suite struct VectorClockTests {
    static func randomClock(_ rng: inout SeededGenerator, ids: [ReplicaID]) -> VectorClock {
        VectorClock(ids.compactMap { Bool.random(using: &rng) ? ($0, UInt64.random(in: 0...5, using: &rng)) : nil })
    }

    @Test func lawsHoldOnRandomClocks() {
        let seed = SeededGenerator.seed()
        print("VectorClockTests seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        let ids = (0..<4).map { _ in ReplicaID(high: rng.next(), low: rng.next()) }
        for _ in 0..<2000 {
            let a = Self.randomClock(&rng, ids: ids), b = Self.randomClock(&rng, ids: ids), c = Self.randomClock(&rng, ids: ids)
            // merge: commutative, associative, idempotent, an upper bound
            #expect(a.merged(with: b) == b.merged(with: a))
            #expect(a.merged(with: b).merged(with: c) == a.merged(with: b.merged(with: c)))
            #expect(a.merged(with: a) == a)
            #expect(a.isDominated(by: a.merged(with: b)))
            #expect(a.meet(b).isDominated(by: a) && a.meet(b).isDominated(by: b))
            // compare agrees with entry-wise comparison
            let le = ids.allSatisfy { a[$0] <= b[$0] }, ge = ids.allSatisfy { a[$0] >= b[$0] }
            let expected: VectorClock.Order = le && ge ? .equal : le ? .before : ge ? .after : .concurrent
            #expect(a.compare(b) == expected)
            let flipped: VectorClock.Order = [.equal: .equal, .before: .after, .after: .before, .concurrent: .concurrent][expected]!
            #expect(b.compare(a) == flipped)
            #expect((a == b) == (expected == .equal))
            // the compact encoding round-trips
            #expect(VectorClock(encoded: a.encoded) == a)
        }
    }

    @Test func subscriptSetAndCovers() {
        var c = VectorClock()
        let r = ReplicaID(high: 1, low: 2), s = ReplicaID(high: 0, low: 9)
        c[r] = 3
        c[s] = 1
        #expect(c.entries.map(\.replica) == [s, r])
        #expect(c.covers(Dot(replica: r, counter: 3)))
        #expect(!c.covers(Dot(replica: r, counter: 4)))
        c[r] = 0
        #expect(c.entries.count == 1)
        #expect(c[r] == 0)
    }

    @Test func malformedEncodingIsRejected() {
        #expect(VectorClock(encoded: "zz:1") == nil)
        #expect(VectorClock(encoded: String(repeating: "a", count: 32) + ":x") == nil)
        #expect(VectorClock(encoded: String(repeating: "a", count: 32) + ":0") == nil)
        #expect(VectorClock(encoded: "") == VectorClock())
    }

    @Test func replicaIDHexRoundTrips() {
        let id = ReplicaID.random()
        #expect(ReplicaID(hex: id.hex) == id)
        #expect(id.hex.count == 32)
        #expect(ReplicaID(hex: "xyz") == nil)
        #expect(ReplicaID.random() != ReplicaID.random())
    }

    @Test func hlcNeverGoesBackwards() {
        let last = HLC(rawValue: 1_000 << 16 | 5)
        #expect(HLC.next(after: last, nowMilliseconds: 10) > last)
        #expect(HLC.next(after: last, nowMilliseconds: 2_000).milliseconds == 2_000)
    }
}
