import Fixtures
import JSON
import Foundation
import Replica
import Testing
@testable import PeerSync

/// A random record: up to 4 fields with up to 3 concurrent values each, dots from `replicas`.
private func randomRecord(_ rng: inout SeededGenerator, replicas: [ReplicaID], index: Int) -> Record {
    func dot() -> Dot { Dot(replica: replicas[Int(rng.next() % UInt64(replicas.count))], counter: rng.next() % 1_000_000 + 1) }
    func hlc() -> HLC { HLC(rawValue: rng.next() >> 2) }
    let samples = ["", "plain", "quote \" and \\ backslash", "line\nbreak\ttab\u{01}", "ünïcødé ✓ 🔗", "https://x.test/setup/abc"]
    var fields: [Field] = []
    for f in 0..<Int(rng.next() % 5) {
        var versions: [Version<String>] = []
        for _ in 0..<Int(rng.next() % 3 + 1) {
            versions.append(Version(value: samples[Int(rng.next() % UInt64(samples.count))] + "\(rng.next() % 100)", hlc: hlc(), dot: dot()))
        }
        fields.append(Field(name: ["token", "tenant", "name", "webhook_url", "a\"b"][f], register: Register(versions: versions)))
    }
    var deleted: [Version<Bool>] = []
    for _ in 0..<Int(rng.next() % 3) { deleted.append(Version(value: rng.next() % 2 == 0, hlc: hlc(), dot: dot())) }
    if fields.isEmpty && deleted.isEmpty { deleted.append(Version(value: true, hlc: hlc(), dot: dot())) }
    let clock = VectorClock((0..<Int(rng.next() % 3)).map { _ in (replicas[Int(rng.next() % UInt64(replicas.count))], rng.next() % 2_000_000 + 1) })
    let id = index % 7 == 0 ? String(repeating: "é", count: 128) : "rec-\(index)-\(rng.next() % 1000)"
    return Record(id: id, kind: RecordKind.allCases[Int(rng.next() % UInt64(RecordKind.allCases.count))], fields: fields,
                  deleted: Register(versions: deleted), clock: clock)
}

/// A page in JSON alone (no envelope).
private func jsonPage(_ page: ChangePage) throws -> [UInt8] {
    var w = JSONWriter()
    try WireFormat.writePage(page, into: &w)
    return w.bytes
}

/// Decodes a page from JSON text, returning the error's description.
private func rejection(_ json: String) -> String? {
    do {
        _ = try WireFormat.decodePage(Array(json.utf8))
        return nil
    } catch {
        return error.description
    }
}

@Suite struct WireFormatTests {
    /// Both encodings carry every record kind, conflicts, tombstones, Unicode and
    /// escaped strings, and give back the same canonical bytes.
    @Test(arguments: PageEncoding.allCases)
    func randomPagesRoundTrip(encoding: PageEncoding) throws {
        let seed = SeededGenerator.seed()
        print("randomPagesRoundTrip(\(encoding)) seed: \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let replicas = (0..<5).map { _ in ReplicaID(high: rng.next(), low: rng.next()) }
        var kinds = Set<RecordKind>(), conflicts = 0, tombstones = 0
        for round in 0..<60 {
            let records = (0..<Int(rng.next() % 30)).map { randomRecord(&rng, replicas: replicas, index: $0) }
            for r in records {
                kinds.insert(r.kind)
                if r.conflictCount > 0 { conflicts += 1 }
                if r.isDeleted { tombstones += 1 }
            }
            let coverage = VectorClock(replicas.prefix(Int(rng.next() % 4)).map { ($0, rng.next() % 99 + 1) })
            let base = VectorClock(replicas.suffix(Int(rng.next() % 4)).map { ($0, rng.next() % 99 + 1) })
            let page = ChangePage(records: records, coverage: coverage, more: rng.next() % 2 == 0, base: base)
            let message = PageMessage(sender: replicas[0], clock: rng.next() % 2 == 0 ? coverage : nil,
                                      purgeFloor: rng.next() % 2 == 0 ? base : nil, page: page)
            let back: PageMessage
            switch encoding {
            case .json: back = try WireFormat.decodeMessage(try WireFormat.encode(message))
            case .binary: back = try BinaryPage.decode(BinaryPage.encode(message))
            }
            #expect(back.page.records == page.records, "seed \(seed) round \(round)")
            #expect(try back.page.decodedRecords() == records, "seed \(seed) round \(round)")
            #expect(back.page.coverage == page.coverage && back.page.base == page.base && back.page.more == page.more, "seed \(seed)")
            #expect(back.sender == message.sender && back.clock == message.clock && back.purgeFloor == message.purgeFloor, "seed \(seed)")
            if encoding == .json {
                // Each replica id is written once, in the table.
                let text = String(decoding: try jsonPage(page), as: UTF8.self)
                for r in replicas where text.contains(r.hex) {
                    let inTable = records.contains { $0.clock.entries.contains { $0.replica == r } }
                    let count = text.components(separatedBy: r.hex).count - 1
                    let expected: Int = (inTable ? 1 : 0) + (coverage[r] > 0 ? 1 : 0) + (base[r] > 0 ? 1 : 0)
                    #expect(count == expected, "seed \(seed)")
                }
            }
        }
        #expect(kinds == Set(RecordKind.allCases) && conflicts > 0 && tombstones > 0, "seed \(seed)")
    }

    @Test func binaryPagesCarryRecordsAsStored() throws {
        var r = Record(id: "zürich-1", kind: .user)
        r.write(["userName": "a\"b\\c\n", "name": "Ünïcode 🔗"], dot: Dot(replica: ReplicaID(high: 1, low: 2), counter: 3), hlc: HLC(rawValue: 77))
        let page = ChangePage(records: [r], coverage: VectorClock(), more: false, base: VectorClock())
        let bytes = BinaryPage.encode(PageMessage(sender: ReplicaID(high: 9, low: 9), clock: nil, purgeFloor: nil, page: page))
        // The stored encoding is in the page byte for byte.
        #expect(bytes.firstRange(of: r.encoded) != nil)
        #expect(Array(bytes.prefix(5)) == Array("SLPG".utf8) + [1])
        #expect(bytes.count - r.encoded.count - r.id.utf8.count < 64)
    }

    @Test func pageShapeIsCompact() throws {
        let r = ReplicaID(high: 1, low: 2)
        var rec = Record(id: "l1", kind: .link)
        rec.write(["token": "abc"], dot: Dot(replica: r, counter: 3), hlc: HLC(rawValue: 77))
        let page = ChangePage(records: [rec], coverage: VectorClock([(r, UInt64(3))]), more: false, base: VectorClock())
        let text = String(decoding: try jsonPage(page), as: UTF8.self)
        #expect(text == """
            {"replicas":["\(r.hex)"],"records":[{"id":"l1","kind":"link","clock":[[0,3]],\
            "deleted":[[false,77,0,3]],"fields":{"token":[["abc",77,0,3]]}}],\
            "coverage":{"\(r.hex)":3},"base":{},"more":false}
            """)
    }

    @Test(arguments: [
        ("[1]", "page: must be an object, not an array"),
        (#"{"records":[],"coverage":{},"base":{},"more":false}"#, "page.replicas: missing"),
        (#"{"replicas":[7],"records":[],"coverage":{},"base":{},"more":false}"#, "page.replicas[0]: must be a string"),
        (#"{"replicas":["xyz"],"records":[],"coverage":{},"base":{},"more":false}"#, "page.replicas[0]: must be 32 hex digits"),
        (#"{"replicas":[],"records":{},"coverage":{},"base":{},"more":false}"#, "page.records: must be an array"),
        (#"{"replicas":[],"records":[],"coverage":{"zz":1},"base":{},"more":false}"#, "page.coverage.zz: a clock key"),
        (#"{"replicas":[],"records":[],"coverage":{},"base":{},"more":1}"#, "page.more: must be true or false"),
        (#"{"replicas":[],"records":[{"id":"","kind":"link","clock":[],"deleted":[],"fields":{}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].id: must not be empty"),
        (#"{"replicas":[],"records":[{"id":5,"kind":"link","clock":[],"deleted":[],"fields":{}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].id: must be a string, not a number"),
        (#"{"replicas":[],"records":[{"id":"a","kind":"widget","clock":[],"deleted":[],"fields":{}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].kind: unknown kind \"widget\""),
        (#"{"replicas":[],"records":[{"id":"a","kind":"link","clock":[[0,1]],"deleted":[],"fields":{}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].clock[0][0]: replica index 0 out of range"),
        (#"{"replicas":["0000000000000000000000000000000a"],"records":[{"id":"a","kind":"link","clock":[],"deleted":[[true,1,0,0]],"fields":{}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].deleted[0][3]: a counter must be greater than 0"),
        (#"{"replicas":["0000000000000000000000000000000a"],"records":[{"id":"a","kind":"link","clock":[],"deleted":[],"fields":{"token":[[1,1,0,1]]}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].fields.token[0][0]: must be a string, not a number"),
        (#"{"replicas":["0000000000000000000000000000000a"],"records":[{"id":"a","kind":"link","clock":[],"deleted":[],"fields":{"token":[["x",-1,0,1]]}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].fields.token[0][1]: a timestamp must be a non-negative integer"),
        (#"{"replicas":["0000000000000000000000000000000a"],"records":[{"id":"a","kind":"link","clock":[],"deleted":[],"fields":{"token":[["x",1,0]]}}],"coverage":{},"base":{},"more":false}"#,
         "page.records[0].fields.token[0]: must be [value, hlc, replica index, counter]"),
    ])
    func malformedPagesAreRejectedNamingTheField(json: String, expected: String) {
        let message = rejection(json)
        #expect(message?.hasPrefix(expected) == true, "got \(message ?? "no error")")
    }

    @Test func overlongIDIsRejected() {
        let id = String(repeating: "x", count: 257)
        let json = #"{"replicas":[],"records":[{"id":"\#(id)","kind":"link","clock":[],"deleted":[],"fields":{}}],"coverage":{},"base":{},"more":false}"#
        #expect(rejection(json) == "page.records[0].id: longer than 256 bytes")
    }
}

@Suite struct EncodedPageWriterTests {
    /// Pages written from stored encodings decode back to the stored states, in both encodings.
    @Test func pagesFromStorageDecodeToTheStoredStates() throws {
        let seed = SeededGenerator.seed()
        print("pagesFromStorageDecodeToTheStoredStates seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        let a = try temporaryReplica(), b = try temporaryReplica()
        for i in 0..<60 {
            let store = rng.next() % 2 == 0 ? a : b
            try store.write { tx in
                let id = "r\(rng.next() % 25)"
                if rng.next() % 7 == 0, try tx.record(id) != nil { try tx.delete(id: id); return }
                try tx.write(id: id, kind: .link, ["token": "t\(i)", "name": "Ünïcode \"quoted\" \\ \u{1}", "x\(rng.next() % 3)": "v"],
                             revive: rng.next() % 2 == 0)
            }
            if rng.next() % 4 == 0 { _ = try a.apply(try b.changes(since: try a.clock(), limit: 100)) }
        }
        _ = try a.apply(try b.changes(since: try a.clock(), limit: 1000))
        for limit in [1, 3, 1000] {
            var clock = VectorClock()
            while true {
                let page = try a.changes(since: clock, limit: limit)
                let message = PageMessage(sender: a.replicaID, clock: try a.clock(), purgeFloor: nil, page: page)
                for back in [try WireFormat.decodeMessage(try WireFormat.encode(message)), try BinaryPage.decode(BinaryPage.encode(message))] {
                    #expect(back.page.records == page.records, "seed \(seed)")
                    for r in back.page.records { #expect(try a.record(id: r.id) == (try r.decoded()), "seed \(seed)") }
                }
                clock = page.advance(clock)
                if !page.more { break }
            }
        }
    }
}
