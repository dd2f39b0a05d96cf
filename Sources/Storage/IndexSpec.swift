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
    /// How the key is made, when the index was declared by `joining` its fields: then a
    /// merge makes the key straight from the bytes of a record's encoding, and `keys`
    /// is the same rule over strings.
    let joined: JoinedKey?

    /// Declares an index whose keys any function of the fields' visible values makes.
    public init(name: String, version: Int = 1, kind: RecordKind, fields: [String],
                keys: @escaping @Sendable ([String?]) -> [String]) {
        self.name = name
        self.version = version
        self.kind = kind
        self.fields = fields
        self.keys = keys
        joined = nil
    }

    /// Declares an index whose one key is its fields' visible values joined by
    /// `separator` (and ending with it, with `trailingSeparator`), each ASCII-lowercased
    /// with `lowercased`; `missing` says what a field never written, or empty, does.
    public init(name: String, version: Int = 1, kind: RecordKind, joining fields: [String],
                missing: JoinedKey.Missing = .empty, lowercased: Bool = false, trailingSeparator: Bool = false) {
        let rule = JoinedKey(missing: missing, lowercased: lowercased, trailingSeparator: trailingSeparator)
        self.name = name
        self.version = version
        self.kind = kind
        self.fields = fields
        keys = { values in
            rule.key(values).map { [String(decoding: $0, as: UTF8.self)] } ?? []
        }
        joined = rule
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

    /// The position after the entry of `key` for row `row` (`IndexEntry.row`): how a reader
    /// that kept only the row number continues a scan under one key (a change feed).
    public init(key: String, row: Int64) {
        self.key = Array(key.utf8)
        rid = row
    }

    init(key: [UInt8], rid: Int64) {
        self.key = key
        self.rid = rid
    }

    /// The row number of the entry: the order in which this replica first stored its record
    /// (never given to another record, see `ReplicaStore+RowNumbers.swift`).
    public var row: Int64 { rid }

    /// The key of the entry, as text.
    public var keyText: String { String(decoding: key, as: UTF8.self) }
}

/// The rule of an index declared by joining its fields (`IndexSpec.init(name:version:kind:joining:missing:lowercased:trailingSeparator:)`).
public struct JoinedKey: Sendable {
    /// What a field without a value does to the key.
    public enum Missing: Sendable {
        /// A field never written counts as empty.
        case empty
        /// A record with a field never written has no key (an empty value still makes one).
        case noKeyIfMissing
        /// A record with a field never written, or empty, has no key.
        case noKeyIfEmpty
    }

    let missing: Missing
    let lowercased: Bool
    let trailingSeparator: Bool

    /// Appends to `out` the key whose parts are the ranges of `bytes` that `ranges`
    /// holds at `positions` (`nil` for a field never written); returns `false`, with
    /// `out` unchanged, when the record has no key.
    func append(_ bytes: UnsafeRawBufferPointer, _ ranges: [Range<Int>?], at positions: [Int], to out: inout [UInt8]) -> Bool {
        for p in positions {
            switch (ranges[p], missing) {
            case (nil, .noKeyIfMissing), (nil, .noKeyIfEmpty): return false
            case (let r?, .noKeyIfEmpty) where r.isEmpty: return false
            default: break
            }
        }
        for (n, p) in positions.enumerated() {
            if n > 0 { out.append(0) }
            guard let r = ranges[p] else { continue }
            let part = UnsafeRawBufferPointer(rebasing: bytes[r])
            if !lowercased {
                out.append(contentsOf: part)
            } else if part.allSatisfy({ $0 < 0x80 }) {
                for b in part { out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
            } else {
                // Beyond ASCII, the same lowercasing as a Swift string's.
                out.append(contentsOf: String(decoding: part, as: UTF8.self).lowercased().utf8)
            }
        }
        if trailingSeparator { out.append(0) }
        return true
    }

    /// The key from the fields' visible values (`nil` for a field never written).
    func key(_ values: [String?]) -> [UInt8]? {
        var bytes: [UInt8] = []
        var parts: [Range<Int>?] = []
        for v in values {
            guard let v else { parts.append(nil); continue }
            let start = bytes.count
            bytes.append(contentsOf: v.utf8)
            parts.append(start..<bytes.count)
        }
        var out: [UInt8] = []
        let made = bytes.withUnsafeBytes { append($0, parts, at: Array(parts.indices), to: &out) }
        return made ? out : nil
    }
}

/// The keys of every index of one record, computed from its visible values.
package struct IndexKeys: Equatable {
    /// (index number, key bytes).
    package var entries: [(Int, [UInt8])]

    /// Whether both hold the same keys in the same order.
    package static func == (a: IndexKeys, b: IndexKeys) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    static let none = IndexKeys(entries: [])

    /// The keys of a decoded record (none for tombstones or kinds without indexes).
    static func of(_ r: Record, specs: [IndexSpec]) -> IndexKeys {
        guard r.isLive else { return .none }
        var out: [(Int, [UInt8])] = []
        for (i, s) in specs.enumerated() where s.kind == r.kind {
            let values = s.fields.map { r[$0] }
            if let rule = s.joined {
                // The rule's bytes directly, not through `keys`' string.
                if let k = rule.key(values) { out.append((i, k)) }
            } else {
                for k in s.keys(values) { out.append((i, Array(k.utf8))) }
            }
        }
        return IndexKeys(entries: out)
    }
}

/// An installed spec set, prepared for reading keys straight from encodings: the
/// fields to collect while a record is read, and where each index finds its own.
package struct IndexPlan: Sendable {
    let specs: [IndexSpec]
    /// Every field any index reads, as UTF-8: what `RecordFacts` collects.
    package let wanted: [[UInt8]]
    /// For each spec, the position in `wanted` of each of its fields.
    private let positions: [[Int]]
    /// For each spec, its rule when it was declared by joining its fields.
    private let rules: [JoinedKey?]
    /// For each kind (by raw value), the specs over it.
    private let specsOfKind: [[Int]]

    /// The plan for `specs`, in their order (an index's number is its position).
    package init(_ specs: [IndexSpec]) {
        self.specs = specs
        var names: [String] = []
        for s in specs { for f in s.fields where !names.contains(f) { names.append(f) } }
        wanted = names.map { Array($0.utf8) }
        positions = specs.map { s in s.fields.map { names.firstIndex(of: $0)! } }
        rules = specs.map(\.joined)
        var byKind = Array(repeating: [Int](), count: 256)
        for (i, s) in specs.enumerated() { byKind[Int(s.kind.rawValue)].append(i) }
        specsOfKind = byKind
    }

    /// Whether any index covers records of `kind`.
    func indexes(_ kind: RecordKind) -> Bool { !specsOfKind[Int(kind.rawValue)].isEmpty }

    /// The keys of a record from its encoding `bytes` and the facts read from it with `wanted`.
    package func keys(facts: RecordFacts, bytes: UnsafeRawBufferPointer) -> IndexKeys {
        var flat: [UInt8] = []
        var entries: [(ix: Int, range: Range<Int>)] = []
        append(facts: facts, bytes: bytes, to: &flat, entries: &entries)
        return IndexKeys(entries: entries.map { ($0.ix, Array(flat[$0.range])) })
    }

    /// Appends the keys of a record (from its encoding `bytes` and the facts read from
    /// it with `wanted`) to `flat`, and for each its index number and range in `flat`
    /// to `entries`: a merge's keys without an allocation per key.
    func append(facts: RecordFacts, bytes: UnsafeRawBufferPointer, to flat: inout [UInt8], entries: inout [(ix: Int, range: Range<Int>)]) {
        guard facts.isLive else { return }
        for i in specsOfKind[Int(facts.kind.rawValue)] {
            let start = flat.count
            if let rule = rules[i] {
                if rule.append(bytes, facts.winnerRanges, at: positions[i], to: &flat) { entries.append((i, start..<flat.count)) }
            } else {
                let values = positions[i].map { p in
                    facts.winnerRanges[p].map { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
                }
                for k in specs[i].keys(values) {
                    let from = flat.count
                    flat.append(contentsOf: k.utf8)
                    entries.append((i, from..<flat.count))
                }
            }
        }
    }

    /// The keys of a record given as its canonical encoding, without decoding it whole.
    func keys(encoded bytes: UnsafeRawBufferPointer) throws(RecordDecodingError) -> IndexKeys {
        let facts = try RecordFacts(encoded: bytes, winnersOf: wanted)
        return keys(facts: facts, bytes: bytes)
    }
}
