import Foundation
import Replica

/// A secondary index over live records of one kind, declared by the domain layer.
///
/// Storage knows no field by name: the domain (SetupLinks) says which fields an
/// index reads and how their visible values become keys. Keys are kept in one
/// table, in the same transaction as the record, for live records only
/// (tombstones have no keys), so a lookup never finds a deleted or replaced
/// value: a regenerated link's old token finds nothing.
///
/// Keys are compared as UTF-8 bytes. A key made of several parts should join
/// them with `IndexSpec.separator` (NUL), which sorts below every other
/// character, so ordering by the key is ordering by the parts, and
/// `prefix: tenant + separator` scans one tenant.
public struct IndexSpec: Sendable {
    /// Joins the parts of a composite key; sorts below every other character.
    public static let separator = "\u{0}"

    /// The index's name, used in queries (`link.token`).
    public let name: String
    /// Bump when `keys` changes meaning: a changed spec set rebuilds every key.
    public let version: Int
    /// The kind of record indexed.
    public let kind: RecordKind
    /// The fields whose visible values `keys` receives, in this order.
    public let fields: [String]
    /// The keys of one live record, from the visible values of `fields` (`nil` when a field was never written).
    public let keys: @Sendable ([String?]) -> [String]

    /// Declares an index.
    public init(name: String, version: Int = 1, kind: RecordKind, fields: [String],
                keys: @escaping @Sendable ([String?]) -> [String]) {
        self.name = name
        self.version = version
        self.kind = kind
        self.fields = fields
        self.keys = keys
    }

    /// An index on one field's visible value (records without the field have no key).
    public static func field(_ name: String, version: Int = 1, kind: RecordKind, field: String,
                             transform: @escaping @Sendable (String) -> String = { $0 }) -> IndexSpec {
        IndexSpec(name: name, version: version, kind: kind, fields: [field]) { values in
            values[0].map { [transform($0)] } ?? []
        }
    }

    /// The signature of a spec set, stored with the keys: when it changes, keys are rebuilt.
    static func signature(_ specs: [IndexSpec]) -> String {
        specs.map { "\($0.name)@\($0.version):\($0.kind.rawValue):\($0.fields.joined(separator: ","))" }.joined(separator: ";")
    }
}

/// One entry of an index scan: the key and the record it points to.
public struct IndexEntry: Sendable {
    /// The key, as the spec made it.
    public var key: String
    /// The record (live).
    public var record: Record
    /// Where the next scan should continue after this entry.
    public var cursor: IndexCursor
}

/// A position in an index scan (exclusive): the last key and row seen.
public struct IndexCursor: Sendable, Hashable {
    let key: [UInt8]
    let rid: Int64
}

/// The keys of every index of one record, computed from its visible values.
struct IndexKeys: Equatable {
    /// (index number, key bytes).
    var entries: [(Int, [UInt8])]

    static func == (a: IndexKeys, b: IndexKeys) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    static let none = IndexKeys(entries: [])

    /// The keys of a decoded record (none for tombstones or kinds without indexes).
    static func of(_ r: Record, specs: [IndexSpec]) -> IndexKeys {
        guard r.isLive else { return .none }
        var out: [(Int, [UInt8])] = []
        for (i, s) in specs.enumerated() where s.kind == r.kind {
            for k in s.keys(s.fields.map { r[$0] }) { out.append((i, Array(k.utf8))) }
        }
        return IndexKeys(entries: out)
    }

    /// The fields whose visible values the indexes of `kind` read, as UTF-8 (what `RecordFacts` collects).
    static func wanted(_ kind: RecordKind, specs: [IndexSpec]) -> [String] {
        var wanted: [String] = []
        for s in specs where s.kind == kind { for f in s.fields where !wanted.contains(f) { wanted.append(f) } }
        return wanted
    }

    /// The keys of a record from the facts read from its encoding, whose `winners` are
    /// the visible values of `wanted(kind, specs)`.
    static func of(facts: RecordFacts, specs: [IndexSpec], wanted: [String]) -> IndexKeys {
        guard facts.isLive else { return .none }
        var out: [(Int, [UInt8])] = []
        for (i, s) in specs.enumerated() where s.kind == facts.kind {
            let values = s.fields.map { f in facts.winners[wanted.firstIndex(of: f)!] }
            for k in s.keys(values) { out.append((i, Array(k.utf8))) }
        }
        return IndexKeys(entries: out)
    }

    /// The keys of a record given as its canonical encoding, without decoding it whole.
    static func of(encoded bytes: UnsafeRawBufferPointer, kind: RecordKind, specs: [IndexSpec]) throws(RecordDecodingError) -> IndexKeys {
        guard specs.contains(where: { $0.kind == kind }) else { return .none }
        let wanted = Self.wanted(kind, specs: specs)
        let facts = try RecordFacts(encoded: bytes, winnersOf: wanted.map { Array($0.utf8) })
        return of(facts: facts, specs: specs, wanted: wanted)
    }
}
