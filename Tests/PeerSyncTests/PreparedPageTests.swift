import JSON
import Foundation
import Replica
import Storage
import Testing
@testable import PeerSync

/// The pull path reads pages straight into stored encodings; they must be
/// byte-for-byte what decoding into records and encoding gives.
@Suite struct PreparedPageTests {
    static func prepared(_ json: [UInt8]) -> PreparedPage? {
        json.withUnsafeBytes { raw in
            var r = FastPageReader(raw)
            return try? r.page()
        }
    }

    static func same(_ a: PreparedRecord, _ b: PreparedRecord) -> Bool {
        a.id == b.id && a.kind == b.kind && a.clock == b.clock && a.body == b.body && Set(a.dots) == Set(b.dots)
            && a.isLive == b.isLive && a.maxHLC == b.maxHLC && a.hasRegisters == b.hasRegisters
    }

    @Test func preparedRecordsMatchDecodedAndEncodedOnes() throws {
        let seed = SeededGenerator.seed()
        print("preparedRecordsMatchDecodedAndEncodedOnes seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        let a = try temporaryReplica(), b = try temporaryReplica()
        for i in 0..<80 {
            let store = rng.next() % 2 == 0 ? a : b
            try store.write { tx in
                let n = rng.next() % 20
                let id = n < 12 ? "l\(n)" : "d\(n)"
                if rng.next() % 6 == 0, try tx.record(id) != nil { try tx.delete(id: id); return }
                try tx.write(id: id, kind: n < 12 ? .link : .directory,
                             ["token": "t\(i)", "name": "Zürich \(rng.next() % 5)", "f\(rng.next() % 4)": "v"],
                             revive: rng.next() % 2 == 0)
            }
            if rng.next() % 3 == 0 { _ = try? a.apply(try b.changes(since: try a.clock(), limit: 100)) }
        }
        _ = try? a.apply(try b.changes(since: try a.clock(), limit: 1000))
        let page = try a.changes(since: VectorClock(), limit: 1000)
        var w = JSONWriter()
        WireFormat.writePage(page, into: &w)
        guard let fast = Self.prepared(w.bytes) else {
            Issue.record("the one-pass reader gave up on a page it wrote, seed \(seed)")
            return
        }
        let slow = PreparedPage(page)
        #expect(fast.records.count == slow.records.count)
        for (x, y) in zip(fast.records, slow.records) { #expect(Self.same(x, y), "record \(x.id), seed \(seed)") }
        #expect(fast.coverage == slow.coverage && fast.base == slow.base && fast.more == slow.more)
    }

    @Test func aPageWithEscapedStringsIsLeftToTheStrictDecoder() {
        let r = ReplicaID(high: 1, low: 2).hex
        let json = """
            {"replicas":["\(r)"],"records":[{"id":"x","kind":"link","clock":[[0,1]],"deleted":[[false,5,0,1]],
            "fields":{"name":[["say \\"hi\\"",5,0,1]]}}],"coverage":{},"base":{},"more":false}
            """
        #expect(Self.prepared(Array(json.utf8)) == nil)
        #expect((try? WireFormat.decodePage(Array(json.utf8)))?.records.first?["name"] == "say \"hi\"")
    }

    @Test func aRecordNotInCanonicalShapeIsNormalized() throws {
        // Fields out of order, a duplicated version and a clock that does not cover a dot.
        let r = ReplicaID(high: 1, low: 2).hex
        let json = """
            {"replicas":["\(r)"],"records":[{"id":"x","kind":"link","clock":[[0,1]],"deleted":[[false,5,0,1]],
            "fields":{"token":[["b",5,0,2],["b",5,0,2]],"name":[["n",5,0,1]]}}],"coverage":{},"base":{},"more":false}
            """
        let fast = try #require(Self.prepared(Array(json.utf8)))
        let strict = try WireFormat.decodePage(Array(json.utf8))
        #expect(Self.same(fast.records[0], PreparedRecord(strict.records[0])))
        #expect(fast.records[0].clock[ReplicaID(high: 1, low: 2)] == 2, "the clock was raised to cover the dot")
    }
}
