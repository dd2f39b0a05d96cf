import Foundation

/// Errors decoding a record's binary form.
public struct RecordDecodingError: Error, CustomStringConvertible, Sendable {
    /// What was wrong.
    public var description: String
}

/// The canonical binary encoding of a record's state (without its id).
///
/// Deterministic: equal states encode to equal bytes (clock entries sorted by
/// replica, fields by name, versions by dot), so the digest can hash it.
/// Dots name their replica by its index in the record's clock, which always
/// covers every dot the record holds.
extension Record {
    static let binaryVersion: UInt8 = 1

    /// Appends the canonical encoding to `out`.
    public func encode(into out: inout [UInt8]) {
        out.append(Record.binaryVersion)
        out.append(kind.rawValue)
        let entries = clock.entries
        putVarint(UInt64(entries.count), &out)
        for e in entries {
            putUInt64(e.replica.high, &out)
            putUInt64(e.replica.low, &out)
            putVarint(e.counter, &out)
        }
        func replicaIndex(_ r: ReplicaID) -> UInt64 {
            if entries.count == 1 { return 0 }
            var lo = 0, hi = entries.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if entries[mid].replica < r { lo = mid + 1 } else { hi = mid }
            }
            return UInt64(lo)
        }
        putVarint(UInt64(deletedRegister.versions.count), &out)
        for v in deletedRegister.versions {
            out.append(v.value ? 1 : 0)
            putVarint(v.hlc.rawValue, &out)
            putVarint(replicaIndex(v.dot.replica), &out)
            putVarint(v.dot.counter, &out)
        }
        putVarint(UInt64(fields.count), &out)
        for f in fields {
            putString(f.name, &out)
            putVarint(UInt64(f.register.versions.count), &out)
            for v in f.register.versions {
                putString(v.value, &out)
                putVarint(v.hlc.rawValue, &out)
                putVarint(replicaIndex(v.dot.replica), &out)
                putVarint(v.dot.counter, &out)
            }
        }
    }

    /// The canonical encoding.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        encode(into: &out)
        return out
    }

    /// Whether the clock at the head of an encoding covers `remote` (equal or later):
    /// then merging a state with clock `remote` changes nothing. Reads no fields
    /// and allocates nothing.
    public static func encodedClock(_ bytes: UnsafeRawBufferPointer, covers remote: VectorClock) throws -> Bool {
        var r = ByteReader(bytes)
        guard try r.byte() == Record.binaryVersion else { throw RecordDecodingError(description: "unknown record encoding version") }
        _ = try r.byte()
        let n = try r.count()
        var j = 0
        let want = remote.entries
        for _ in 0..<n {
            let id = ReplicaID(high: try r.uint64(), low: try r.uint64())
            let c = try r.varint()
            // Entries are sorted by replica on both sides: walk them together.
            while j < want.count && want[j].replica < id { return false }
            if j < want.count && want[j].replica == id {
                if c < want[j].counter { return false }
                j += 1
            }
        }
        return j == want.count
    }

    /// Decodes the canonical encoding; throws on anything malformed.
    public init(id: String, encoded bytes: UnsafeRawBufferPointer) throws {
        var r = ByteReader(bytes)
        guard try r.byte() == Record.binaryVersion else { throw RecordDecodingError(description: "unknown record encoding version") }
        guard let kind = RecordKind(rawValue: try r.byte()) else { throw RecordDecodingError(description: "unknown record kind") }
        let n = try r.count()
        var entries: [VectorClock.Entry] = []
        entries.reserveCapacity(n)
        for _ in 0..<n {
            let id = ReplicaID(high: try r.uint64(), low: try r.uint64())
            let c = try r.varint()
            if let last = entries.last, !(last.replica < id) { throw RecordDecodingError(description: "clock not sorted") }
            guard c > 0 else { throw RecordDecodingError(description: "zero clock entry") }
            entries.append(.init(replica: id, counter: c))
        }
        func dot(_ r: inout ByteReader) throws -> Dot {
            let i = try r.varint()
            guard i < entries.count else { throw RecordDecodingError(description: "dot outside clock") }
            let c = try r.varint()
            guard c > 0, c <= entries[Int(i)].counter else { throw RecordDecodingError(description: "dot not covered by clock") }
            return Dot(replica: entries[Int(i)].replica, counter: c)
        }
        let nd = try r.count()
        var deleted: [Version<Bool>] = []
        for _ in 0..<nd {
            let b = try r.byte()
            guard b <= 1 else { throw RecordDecodingError(description: "bad delete flag") }
            let hlc = HLC(rawValue: try r.varint())
            deleted.append(Version(value: b == 1, hlc: hlc, dot: try dot(&r)))
        }
        let nf = try r.count()
        var fields: [Field] = []
        fields.reserveCapacity(nf)
        for _ in 0..<nf {
            let name = try r.string()
            let nv = try r.count()
            var versions: [Version<String>] = []
            versions.reserveCapacity(nv)
            for _ in 0..<nv {
                let value = try r.string()
                let hlc = HLC(rawValue: try r.varint())
                versions.append(Version(value: value, hlc: hlc, dot: try dot(&r)))
            }
            guard !versions.isEmpty else { throw RecordDecodingError(description: "empty register") }
            for k in versions.indices.dropFirst() where !(versions[k - 1].dot < versions[k].dot) {
                throw RecordDecodingError(description: "register not sorted")
            }
            if let last = fields.last, !(last.name < name) { throw RecordDecodingError(description: "fields not sorted") }
            fields.append(Field(name: name, register: Register(sortedVersions: versions)))
        }
        guard r.isAtEnd else { throw RecordDecodingError(description: "trailing bytes") }
        self.init(uncheckedID: id, kind: kind, sortedFields: fields,
                  deleted: Register(versions: deleted), clock: VectorClock(sortedEntries: entries))
    }

    /// Decodes the canonical encoding from an array.
    public init(id: String, encoded bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try Record(id: id, encoded: $0) }
    }
}

/// Receives a record's canonical encoding part by part (see `walkEncodedRecord`).
///
/// Slices are valid only during the call. A dot names its replica by index
/// into the clock entries, which are reported first.
public protocol EncodedRecordVisitor {
    /// The record's kind, once, first.
    mutating func kind(_ kind: RecordKind) throws
    /// Each clock entry, in order (indexes 0, 1, …).
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) throws
    /// Each delete-register version: value, hlc, clock index, counter.
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) throws
    /// The start of each field, with its name.
    mutating func field(_ name: UnsafeRawBufferPointer) throws
    /// Each version of the current field: value, hlc, clock index, counter.
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) throws
}

/// Reads a record's canonical encoding without building a `Record`: the
/// server writes pages straight from stored encodings with it. Throws
/// `RecordDecodingError` on a malformed encoding.
public func walkEncodedRecord<V: EncodedRecordVisitor>(_ bytes: UnsafeRawBufferPointer, _ v: inout V) throws {
    var r = ByteReader(bytes)
    guard try r.byte() == Record.binaryVersion else { throw RecordDecodingError(description: "unknown record encoding version") }
    guard let k = RecordKind(rawValue: try r.byte()) else { throw RecordDecodingError(description: "unknown record kind") }
    try v.kind(k)
    let n = try r.count()
    for _ in 0..<n { try v.clockEntry(ReplicaID(high: try r.uint64(), low: try r.uint64()), try r.varint()) }
    func index(_ r: inout ByteReader) throws -> Int {
        let i = try r.varint()
        guard i < UInt64(n) else { throw RecordDecodingError(description: "dot outside clock") }
        return Int(i)
    }
    let nd = try r.count()
    for _ in 0..<nd {
        let b = try r.byte()
        let hlc = try r.varint()
        let i = try index(&r)
        try v.deleted(b == 1, hlc, i, try r.varint())
    }
    let nf = try r.count()
    for _ in 0..<nf {
        try v.field(try r.slice())
        let nv = try r.count()
        for _ in 0..<nv {
            let value = try r.slice()
            let hlc = try r.varint()
            let i = try index(&r)
            try v.version(value, hlc, i, try r.varint())
        }
    }
    guard r.isAtEnd else { throw RecordDecodingError(description: "trailing bytes") }
}

@inline(__always) func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

@inline(__always) func putUInt64(_ value: UInt64, _ out: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
}

@inline(__always) func putString(_ s: String, _ out: inout [UInt8]) {
    var s = s
    s.withUTF8 { u in
        putVarint(UInt64(u.count), &out)
        out.append(contentsOf: u)
    }
}

/// A bounds-checked cursor over bytes.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { at == bytes.count }

    mutating func byte() throws -> UInt8 {
        guard at < bytes.count else { throw RecordDecodingError(description: "truncated record") }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func varint() throws -> UInt64 {
        var shift: UInt64 = 0, v: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw RecordDecodingError(description: "varint too long") }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    mutating func count() throws -> Int {
        let v = try varint()
        guard v <= UInt64(bytes.count - at) else { throw RecordDecodingError(description: "count beyond the record") }
        return Int(v)
    }

    mutating func uint64() throws -> UInt64 {
        guard bytes.count - at >= 8 else { throw RecordDecodingError(description: "truncated record") }
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(bytes[at + k]) }
        at += 8
        return v
    }

    mutating func slice() throws -> UnsafeRawBufferPointer {
        let n = try count()
        defer { at += n }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
    }

    mutating func string() throws -> String {
        let n = try count()
        // A typed buffer takes String's contiguous fast path (no dynamic casts).
        let s = String(decoding: UnsafeBufferPointer(start: bytes.baseAddress.map { ($0 + at).assumingMemoryBound(to: UInt8.self) }, count: n),
                       as: UTF8.self)
        at += n
        return s
    }
}
