import Fixtures
import Foundation
import Testing
import Replica
@testable import Storage

/// Keys of indexes declared by joining fields are made from the bytes of a record's
/// encoding during a merge, and from a decoded record's strings elsewhere: both must
/// be the keys the earlier closures made, since stored keys are not rebuilt for it.
@Suite struct IndexKeyTests {
    static let sep = IndexSpec.separator

    /// Each joined form beside the closure it replaced (as declared before).
    static let pairs: [(joined: IndexSpec, closure: IndexSpec)] = [
        (IndexSpec(name: "token", kind: .link, joining: ["token"], missing: .noKeyIfMissing, lowercased: true),
         .field("token", kind: .link, field: "token", transform: { $0.lowercased() })),
        (IndexSpec(name: "tenant", kind: .link, joining: ["tenant", "product"]),
         IndexSpec(name: "tenant", kind: .link, fields: ["tenant", "product"]) { v in [(v[0] ?? "") + sep + (v[1] ?? "")] }),
        (IndexSpec(name: "dir", kind: .directory, joining: ["tenant", "product", "name"]),
         IndexSpec(name: "dir", kind: .directory, fields: ["tenant", "product", "name"]) { v in
             [(v[0] ?? "") + sep + (v[1] ?? "") + sep + (v[2] ?? "")]
         }),
        (IndexSpec(name: "pair", kind: .user, joining: ["directory", "userName"], missing: .noKeyIfEmpty),
         IndexSpec(name: "pair", kind: .user, fields: ["directory", "userName"]) { v in
             guard let x = v[0], !x.isEmpty, let y = v[1], !y.isEmpty else { return [] }
             return [x + sep + y]
         }),
        (IndexSpec(name: "owner", kind: .user, joining: ["directory"], missing: .noKeyIfEmpty, trailingSeparator: true),
         IndexSpec(name: "owner", kind: .user, fields: ["directory"]) { v in
             guard let x = v[0], !x.isEmpty else { return [] }
             return [x + sep]
         }),
    ]

    static let values = ["", "acme", "AcMe-42", "ÄBC", "İstanbul", "ß", "a\u{0}b", "crm", "0123456789ABCDEFabcdef0123456789ABCDEF",
                         "日本", "Zoë"]

    /// A record of `kind` with a random subset of `fields`, each a random value, sometimes deleted.
    static func record(_ kind: RecordKind, fields: [String], _ rng: inout SeededGenerator, n: Int) -> Record {
        var r = Record(id: "r\(n)", kind: kind)
        var written: [String: String] = [:]
        for f in fields where rng.next() % 4 != 0 { written[f] = values[Int(rng.next() % UInt64(values.count))] }
        if written.isEmpty { written["other"] = "x" }
        let dot = Dot(replica: ReplicaID(high: 1, low: 1), counter: UInt64(n + 1))
        r.write(written, dot: dot, hlc: HLC(rawValue: UInt64(n + 1) << 16), revive: true)
        if rng.next() % 10 == 0 {
            r.delete(dot: Dot(replica: ReplicaID(high: 1, low: 1), counter: UInt64(n + 1000)), hlc: HLC(rawValue: UInt64(n + 1000) << 16))
        }
        return r
    }

    @Test func joinedKeysFromEncodingsAndStringsAreTheClosuresKeys() throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        print("IndexKeyTests seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        let joined = Self.pairs.map(\.joined), closures = Self.pairs.map(\.closure)
        // A closure-only spec beside them takes the strings path of the same plan.
        let custom = IndexSpec(name: "custom", kind: .link, fields: ["product"]) { v in v[0].map { [$0 + "!"] } ?? [] }
        let plan = IndexPlan(joined + [custom])
        var keyed = 0
        for n in 0..<3_000 {
            let kind: RecordKind = [.link, .directory, .user][n % 3]
            let r = Self.record(kind, fields: ["token", "tenant", "product", "name", "directory", "userName"], &rng, n: n)
            let fromStrings = IndexKeys.of(r, specs: joined + [custom])
            let expected = IndexKeys.of(r, specs: closures + [custom])
            #expect(fromStrings == expected, "strings path, seed \(seed), record \(n)")
            let encoded = EncodedRecord(r)
            let fromBytes = try encoded.bytes.withUnsafeBytes { try plan.keys(encoded: $0) }
            #expect(fromBytes == expected, "encoding path, seed \(seed), record \(n)")
            keyed += expected.entries.count
        }
        #expect(keyed > 1_000, "the records made keys, seed \(seed)")
    }
}
