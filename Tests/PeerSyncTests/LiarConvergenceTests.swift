import Fixtures
import Foundation
import HTTP
import JSON
import Replica
import Storage
import Synchronization
import Testing
@testable import PeerSync

/// What a lying replica does to what it sends, at random: claims that honest replicas
/// made far more writes than they did (in clocks, coverages and record clocks), and
/// replays stale answers. Seeded, so a failing run replays.
final class Lies: Sendable {
    private let state: Mutex<(rng: SeededGenerator, stale: [String: HTTPResponse])>
    /// The honest replicas it lies about.
    let victims: [ReplicaID]
    /// How often (in 100) a message is tampered with.
    let rate: UInt64
    /// Lies told so far.
    let told = Atomic<Int>(0)

    init(seed: UInt64, victims: [ReplicaID], rate: UInt64 = 35) {
        state = Mutex((SeededGenerator(seed: seed), [:]))
        self.victims = victims
        self.rate = rate
    }

    /// A claim far beyond anything an honest replica here will write, so that the replica
    /// lied about can tell (Replica.docc/Corrections.md: a smaller lie that the
    /// replica's own writes overtake before it sees it is not told from the truth).
    private func roll(_ rng: inout SeededGenerator) -> (victim: ReplicaID, claim: UInt64)? {
        guard rng.next() % 100 < rate else { return nil }
        let victim = victims[Int(rng.next() % UInt64(victims.count))]
        return (victim, (1 << 40) + rng.next() % (PeerInput.maxCounter - (1 << 40)))
    }

    private func inflate(_ m: inout PageMessage, _ victim: ReplicaID, _ claim: UInt64, _ rng: inout SeededGenerator) {
        switch rng.next() % 3 {
        case 0:
            m.page.coverage[victim] = claim
            if m.clock != nil { m.clock![victim] = max(m.clock![victim], claim) }
        case 1:
            guard !m.page.records.isEmpty else { fallthrough }
            let i = Int(rng.next() % UInt64(m.page.records.count))
            if let d = try? m.page.records[i].decoded() {
                var c = d.clock
                c[victim] = claim
                m.page.records[i] = EncodedRecord(Record(id: d.id, kind: d.kind, fields: d.fields, deleted: d.deletedRegister, clock: c))
            }
        default:
            if m.clock != nil { m.clock![victim] = max(m.clock![victim], claim) }
        }
    }

    /// An answer of the liar's server, maybe tampered with or replaced by a stale one.
    func answer(_ path: String, _ response: HTTPResponse) -> HTTPResponse {
        guard response.status == 200, path == "/sync/v1/pull" else { return response }
        return state.withLock { s in
            if s.rng.next() % 100 < 10, let old = s.stale[path] {
                told.add(1, ordering: .relaxed)
                return old
            }
            s.stale[path] = response
            guard let (victim, claim) = roll(&s.rng) else { return response }
            let binary = response.header("Content-Type") == BinaryPage.mediaType
            guard var m = binary ? try? BinaryPage.decode(response.body) : try? WireFormat.decodeMessage(response.body) else { return response }
            inflate(&m, victim, claim, &s.rng)
            told.add(1, ordering: .relaxed)
            let body = binary ? BinaryPage.encode(m) : ((try? WireFormat.encode(m)) ?? response.body)
            return HTTPResponse(status: 200, headers: response.headers, body: body)
        }
    }

    /// A request the liar sends as a client, maybe tampered with.
    func request(_ url: String, _ body: [UInt8]?) -> [UInt8]? {
        guard let body else { return nil }
        return state.withLock { s in
            guard let (victim, claim) = roll(&s.rng) else { return body }
            if url.hasSuffix("/sync/v1/push"), body.starts(with: Array("SLPG".utf8)), var m = try? BinaryPage.decode(body) {
                inflate(&m, victim, claim, &s.rng)
                told.add(1, ordering: .relaxed)
                return BinaryPage.encode(m)
            }
            if url.hasSuffix("/sync/v1/pull"), case .object(var members)? = try? JSONParser.parse(body) {
                // The pull's paging clock or its acknowledgement.
                let key = s.rng.next() % 2 == 0 ? "clock" : "applied"
                if let i = members.firstIndex(where: { $0.0 == key }), var c = try? WireFormat.clock(members[i].1, key) {
                    c[victim] = claim
                    var w = JSONWriter(capacity: 256)
                    WireFormat.writeClock(c, into: &w)
                    if let v = try? JSONParser.parse(w.bytes) { members[i].1 = v }
                    told.add(1, ordering: .relaxed)
                    return JSONWriter.write(.object(members))
                }
            }
            return body
        }
    }
}

/// The randomized proof that no liar partitions the honest replicas (Contract.md §2, issue 22).
@Suite struct LiarConvergenceTests {
    @Test func honestReplicasConvergeWhateverALiarSays() throws {
        let seed = SeededGenerator.seed()
        print("honestReplicasConvergeWhateverALiarSays seed: \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let network = InProcessNetwork()
        let honest = try (0..<5).map { try InProcessReplica(host: "h\($0)", network: network) }
        let liar = try InProcessReplica(host: "liar", network: network)
        let lies = Lies(seed: rng.next(), victims: honest.map(\.store.replicaID))
        network.filterAnswers(of: "liar") { path, _, response in lies.answer(path, response) }
        let base = network.transport
        let lyingTransport: SyncTransport = { method, url, headers, body throws(HTTPClientError) in
            try base(method, url, headers, lies.request(url, body))
        }
        var oracle = Oracle()
        oracle.lieFloor = 1 << 40
        var syncs = 0, failed = 0, corrected = 0, resynced = 0
        for round in 0..<160 {
            for _ in 0..<Int.random(in: 2...6, using: &rng) {
                let w = Int.random(in: 0..<honest.count, using: &rng)
                try oracle.note(try PurgeTests.randomOp(honest[w].store, &rng), in: honest[w].store)
            }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                syncs += 1
                let limit = Int.random(in: 1...8, using: &rng)
                do {
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0..<3:  // an honest replica syncs with the liar
                        let c = honest.randomElement(using: &rng)!
                        let r = try SyncClient(pageLimit: limit, transport: network.transport).sync(store: c.store, url: liar.url, token: testToken)
                        corrected += r.correctionRounds
                    case 3..<5:  // the liar syncs with an honest replica
                        let s = honest.randomElement(using: &rng)!
                        _ = try SyncClient(pageLimit: limit, transport: lyingTransport).sync(store: liar.store, url: s.url, token: testToken)
                    default:
                        let c = honest.randomElement(using: &rng)!
                        let s = honest.filter { $0 !== c }.randomElement(using: &rng)!
                        let r = try c.sync(with: s, pageLimit: limit)
                        corrected += r.correctionRounds
                        if r.resynced { resynced += 1 }
                    }
                } catch {
                    // The liar's answers may be refused (a stale page, a lie it keeps telling); an
                    // honest pair must never fail for good, which the end of the run checks.
                    failed += 1
                }
            }
            _ = round
        }
        // The liar is gone. Every honest replica syncs with every other until they agree.
        var settled = false
        for _ in 0..<12 {
            for c in honest { for s in honest where s !== c { try c.sync(with: s, pageLimit: 50) } }
            if Set(try honest.map { try $0.store.digest() }).count == 1 { settled = true; break }
        }
        print("liar run: \(syncs) syncs, \(lies.told.load(ordering: .relaxed)) lies told, \(failed) syncs refused, "
              + "\(corrected) correction rounds, \(resynced) resyncs (seed \(seed))")
        #expect(settled, "honest replicas did not converge, seed \(seed)")
        // Corrections drop and resync records: the summary the triggers kept still matches them.
        for h in honest { #expect(try h.store.stateSummaryIsTrue(), "seed \(seed)") }
        if !settled {
            for h in honest {
                let s = h.store
                print("\(h.host) \(s.replicaID.hex.prefix(6)) digest \(try s.digest().prefix(8)) clock \(try s.clock()) floor \(try s.purgeFloor()) "
                      + "corrections \(try s.corrections().map { "\($0.0.hex.prefix(6)):\($0.1)" }) forgot \(try s.forgotten().map { $0.hex.prefix(6) }) "
                      + "resync \(try s.resyncDue())")
            }
            for id in PurgeTests.ids {
                let states = try honest.map { try $0.store.record(id: id) }
                if Set(states.map { $0.map { EncodedRecord($0).bytes } ?? [] }).count > 1 {
                    print("differs: \(id)")
                    for (h, r) in zip(honest, states) { print("  \(h.host): \(r.map { "live \($0.isLive) clock \($0.clock) fields \($0.fields.map { "\($0.name)=\($0.register.versions.map { "\($0.value)@\($0.dot)" })" })" } ?? "-")") }
                }
            }
        }
        for h in honest { try oracle.note(PurgeTests.ids, in: h.store) }
        try PurgeTests.expectAgreement(honest.map(\.store), oracle, seed: seed)
        // No honest replica still believes a lie about another.
        for h in honest {
            let clock = try h.store.clock()
            for o in honest { #expect(clock[o.store.replicaID] <= (try o.store.clock()[o.store.replicaID]), "seed \(seed)") }
        }
    }
}
