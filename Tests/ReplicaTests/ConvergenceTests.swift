import Fixtures
import Testing
@testable import Replica

/// Randomized convergence: replicas edit offline and exchange pages that are
/// duplicated, reordered and cut short; a final full exchange must leave every
/// replica with the same records and digest.
@Suite struct ConvergenceTests {
    struct Write { let dot: Dot; let id: String }

    static let fields = ["tenant", "product", "name", "webhook_url", "webhook_secret", "token", "valid_till"]

    static func randomOp(_ r: inout MemoryReplica, _ rng: inout SeededGenerator, log: inout [Write]) {
        let id = "rec\(Int.random(in: 0..<25, using: &rng))"
        let live = r.records[id]?.isLive == true
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...2:  // create (revives a deleted record)
            var values: [String: String] = [:]
            for f in fields { values[f] = "\(f)-\(rng.next() % 100)" }
            r.write(id: id, kind: .link, values, revive: true)
        case 3...5 where live:  // update one or two fields
            var values: [String: String] = [:]
            for _ in 0..<Int.random(in: 1...2, using: &rng) { values[fields.randomElement(using: &rng)!] = "u\(rng.next() % 1000)" }
            r.write(id: id, kind: .link, values)
        case 6...7 where live:  // regenerate
            r.write(id: id, kind: .link, ["token": "tok\(rng.next())", "valid_till": "\(rng.next() % 99)"])
        case 8 where live:
            r.delete(id: id)
        default:
            return
        }
        log.append(Write(dot: Dot(replica: r.id, counter: r.counter), id: id))
    }

    /// The pages a pull from `from` to `to` would produce, all of them.
    static func pages(from: MemoryReplica, to clock: VectorClock, limit: Int) -> [ChangePage] {
        var out: [ChangePage] = []
        var c = clock
        while true {
            let p = from.changes(since: c, limit: limit)
            out.append(p)
            c = p.advance(c)
            if !p.more { break }
            if out.count > 10_000 { Issue.record("paging did not terminate"); break }
        }
        return out
    }

    /// Every write a replica's clock claims is reflected in its state, unless a
    /// later write to the same record (which overwrote it at the sender, so the
    /// index no longer holds it) is still missing: that later write will bring
    /// the record along.
    static func checkClockInvariant(_ replicas: [MemoryReplica], _ log: [Write], seed: UInt64) {
        for r in replicas {
            for (k, w) in log.enumerated() where r.clock.covers(w.dot) {
                let covered = r.records[w.id]?.clock.covers(w.dot) ?? false
                    || log[(k + 1)...].contains { $0.id == w.id && !r.clock.covers($0.dot) }
                #expect(covered, "replica clock claims \(w.dot) on \(w.id) without it, seed \(seed)")
                if !covered { return }
            }
        }
    }

    @Test(arguments: [3, 5])
    func replicasConvergeDespiteBadDeliveries(replicaCount: Int) throws {
        let seed = SeededGenerator.seed()
        print("ConvergenceTests(\(replicaCount)) seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        var replicas = (0..<replicaCount).map { _ in MemoryReplica(id: ReplicaID(high: rng.next(), low: rng.next())) }
        for k in replicas.indices {
            let skew = UInt64.random(in: 0...10_000, using: &rng)
            replicas[k].now = { 1_700_000_000_000 + skew }
        }
        var log: [Write] = []
        var operations = 0
        for round in 0..<400 {
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let i = Int.random(in: 0..<replicas.count, using: &rng)
                Self.randomOp(&replicas[i], &rng, log: &log)
                operations += 1
            }
            // A random exchange with bad delivery.
            let a = Int.random(in: 0..<replicas.count, using: &rng)
            var b = Int.random(in: 0..<replicas.count, using: &rng)
            if a == b { b = (b + 1) % replicas.count }
            var ps = Self.pages(from: replicas[b], to: replicas[a].clock, limit: Int.random(in: 1...6, using: &rng))
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: ps = Array(ps.prefix(Int.random(in: 0...ps.count, using: &rng)))  // cut short
            case 1: ps += ps.shuffled(using: &rng)  // duplicated
            case 2: ps.shuffle(using: &rng)  // reordered
            default: break
            }
            for p in ps { try replicas[a].apply(p) }
            if round % 50 == 0 { Self.checkClockInvariant(replicas, log, seed: seed) }
        }
        Self.checkClockInvariant(replicas, log, seed: seed)
        // Full exchange: everyone pulls from everyone, twice around.
        for _ in 0..<2 {
            for a in replicas.indices {
                for b in replicas.indices where a != b {
                    for p in Self.pages(from: replicas[b], to: replicas[a].clock, limit: 7) { try replicas[a].apply(p) }
                }
            }
        }
        let digests = Set(replicas.map(\.digest))
        if digests.count > 1 {
            for (k, r) in replicas.enumerated() {
                print("replica \(k) \(r.id.hex.prefix(4)) clock \(r.clock.entries.map { "\($0.replica.hex.prefix(4)):\($0.counter)" })")
            }
            for id in Set(replicas.flatMap { $0.records.keys }) {
                let states = replicas.map { $0.records[id] }
                if Set(states.map { $0.map { $0.encoded } ?? [] }).count > 1 {
                    for (k, st) in states.enumerated() {
                        print("  \(id) on \(k): clock \(st?.clock.entries.map { "\($0.replica.hex.prefix(4)):\($0.counter)" } ?? []) dots \(st?.dots.map { "\($0.replica.hex.prefix(4)):\($0.counter)" }.sorted() ?? [])")
                    }
                }
            }
        }
        #expect(digests.count == 1, "digests differ, seed \(seed)")
        for r in replicas.dropFirst() {
            #expect(r.records == replicas[0].records, "records differ, seed \(seed)")
            #expect(r.clock == replicas[0].clock, "clocks differ, seed \(seed)")
        }
        // Idempotence: re-delivering everything changes nothing.
        let before = replicas[0].digest
        for p in Self.pages(from: replicas[1], to: VectorClock(), limit: 5) { try replicas[0].apply(p) }
        #expect(replicas[0].digest == before)
        #expect(operations >= 1000)
        print("ConvergenceTests(\(replicaCount)): \(operations) operations, \(replicas[0].records.count) records, \(log.count) writes")
    }
}
