import Bytes
import Foundation

/// Why bytes are not a record's canonical encoding.
public struct RecordDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was wrong, e.g. `fields not sorted`.
    public var description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// The canonical binary encoding of a record's state (without its id): the one
/// record codec. The store keeps it, the digest hashes it, and the binary page
/// encoding carries it unchanged.
///
/// ```
/// u8 version (1), u8 kind,
/// varint n, n × (16-byte replica id big-endian, varint counter)      clock, sorted by replica
/// varint n, n × (u8 0|1, varint hlc, varint clock index, varint counter)   deleted, sorted by dot
/// varint n, n × (varint len, name, varint m, m × (varint len, value, varint hlc,
///                                                 varint clock index, varint counter))
/// ```
/// Fields are sorted by name (UTF-8 byte order), each register's versions by
/// dot. A dot names its replica by its index in the record's clock, which
/// covers every dot held. Deterministic: equal states encode to equal bytes.
///
/// `walkEncodedRecord` is the one reader. It accepts exactly the encodings
/// `encode` produces (minimal varints, strict orders, valid UTF-8, counters
/// above 0, every dot covered), so decoding and encoding again gives the same
/// bytes, and a replica that copies an encoding from the wire stores what one
/// that decodes it would.
extension Record {
    /// The version byte at the head of every encoding.
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

    /// Decodes the canonical encoding; throws on anything that is not exactly one.
    public init(id: String, encoded bytes: UnsafeRawBufferPointer) throws(RecordDecodingError) {
        var b = RecordBuilder()
        try walkEncodedRecord(bytes, &b)
        self.init(uncheckedID: id, kind: b.kind, sortedFields: b.fields,
                  deleted: Register(sortedVersions: b.deleted), clock: VectorClock(sortedEntries: b.entries))
    }

    /// Decodes the canonical encoding from an array.
    public init(id: String, encoded bytes: [UInt8]) throws(RecordDecodingError) {
        let result: Result<Record, RecordDecodingError> = bytes.withUnsafeBytes { raw in
            do throws(RecordDecodingError) { return .success(try Record(id: id, encoded: raw)) } catch { return .failure(error) }
        }
        self = try result.get()
    }
}

/// Builds a `Record`'s parts from a walk.
private struct RecordBuilder: EncodedRecordVisitor {
    var kind = RecordKind.link
    var entries: [VectorClock.Entry] = []
    var deleted: [Version<Bool>] = []
    var fields: [Field] = []
    var versions: [Version<String>] = []
    var name = ""

    mutating func kind(_ kind: RecordKind) { self.kind = kind }
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) {
        entries.append(.init(replica: replica, counter: counter))
    }
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
        deleted.append(Version(value: value, hlc: HLC(rawValue: hlc), dot: Dot(replica: entries[clockIndex].replica, counter: counter)))
    }
    mutating func field(_ name: UnsafeRawBufferPointer) {
        flush()
        self.name = string(name)
    }
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
        versions.append(Version(value: string(value), hlc: HLC(rawValue: hlc),
                                dot: Dot(replica: entries[clockIndex].replica, counter: counter)))
    }
    mutating func end() { flush() }

    mutating func flush() {
        if !versions.isEmpty {
            fields.append(Field(name: name, register: Register(sortedVersions: versions)))
            versions = []
        }
    }

    func string(_ bytes: UnsafeRawBufferPointer) -> String {
        // A typed buffer takes String's contiguous fast path; the walk has validated the UTF-8.
        String(decoding: UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count),
               as: UTF8.self)
    }
}

/// Receives a record's canonical encoding part by part from `walkEncodedRecord`.
///
/// Slices are valid only during the call. A dot names its replica by index
/// into the clock entries, which are reported first.
public protocol EncodedRecordVisitor {
    /// The record's kind, once, first.
    mutating func kind(_ kind: RecordKind) throws(RecordDecodingError)
    /// Each clock entry, in order (indexes 0, 1, …).
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) throws(RecordDecodingError)
    /// After the clock: `false` stops the walk there (the rest is then neither read nor checked).
    mutating func clockEnd() throws(RecordDecodingError) -> Bool
    /// Each delete-register version: value, hlc, clock index, counter.
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) throws(RecordDecodingError)
    /// The start of each field, with its name.
    mutating func field(_ name: UnsafeRawBufferPointer) throws(RecordDecodingError)
    /// Each version of the current field: value, hlc, clock index, counter.
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) throws(RecordDecodingError)
    /// After the last field, once the whole encoding has been checked.
    mutating func end() throws(RecordDecodingError)
}

extension EncodedRecordVisitor {
    /// Reads on past the clock.
    public mutating func clockEnd() -> Bool { true }
    /// Nothing to finish.
    public mutating func end() {}
}

/// The one reader of the canonical record encoding (see `Record.encode`).
///
/// Checks everything that makes an encoding canonical, in one pass, and
/// throws `RecordDecodingError` naming the first fault: a known version and
/// kind; a clock sorted by replica with counters above 0; every dot's index in
/// the clock and its counter above 0 and covered by that entry; each register
/// non-empty and sorted by dot; delete flags 0 or 1; field names non-empty,
/// sorted by UTF-8 bytes; valid UTF-8; minimal varints; every length and count
/// within the remaining bytes; nothing after the end.
public func walkEncodedRecord<V: EncodedRecordVisitor>(_ bytes: UnsafeRawBufferPointer, _ v: inout V) throws(RecordDecodingError) {
    var r = ByteReader(bytes)
    guard try r.byte() == Record.binaryVersion else { throw RecordDecodingError("unknown record encoding version") }
    guard let k = RecordKind(rawValue: try r.byte()) else { throw RecordDecodingError("unknown record kind") }
    try v.kind(k)
    // Each entry takes at least 17 bytes.
    let n = try r.count(minimumSize: 17)
    // The clock's counters, to check each dot against: on the stack (a record has one to three).
    let result: Result<Void, RecordDecodingError> = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(n, 1)) { counters in
        do throws(RecordDecodingError) {
            try walkRest(&r, &v, counters: counters, n: n)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
    try result.get()
}

@inline(__always)
private func walkRest<V: EncodedRecordVisitor>(_ r: inout ByteReader, _ v: inout V, counters: UnsafeMutableBufferPointer<UInt64>,
                                                n: Int) throws(RecordDecodingError) {
    var previousReplica: ReplicaID?
    for i in 0..<n {
        let id = ReplicaID(high: try r.uint64(), low: try r.uint64())
        let c = try r.varint()
        guard c > 0 else { throw RecordDecodingError("zero clock entry") }
        if let p = previousReplica, !(p < id) { throw RecordDecodingError("clock not sorted") }
        previousReplica = id
        counters[i] = c
        try v.clockEntry(id, c)
    }
    guard try v.clockEnd() else { return }
    // A dot: its clock index and counter, which that entry must cover. Clock
    // indexes follow replica order, so (index, counter) order is dot order.
    @inline(__always) func dot(_ r: inout ByteReader) throws(RecordDecodingError) -> (Int, UInt64) {
        let i = try r.varint()
        guard i < UInt64(n) else { throw RecordDecodingError("dot outside clock") }
        let c = try r.varint()
        guard c > 0, c <= counters[Int(i)] else { throw RecordDecodingError("dot not covered by clock") }
        return (Int(i), c)
    }
    @inline(__always) func less(_ a: (Int, UInt64), _ b: (Int, UInt64)) -> Bool { a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
    let nd = try r.count(minimumSize: 4)
    var previous = (-1, UInt64(0))
    for _ in 0..<nd {
        let flag = try r.byte()
        guard flag <= 1 else { throw RecordDecodingError("bad delete flag") }
        let hlc = try r.varint()
        let d = try dot(&r)
        if !less(previous, d) { throw RecordDecodingError("delete register not sorted") }
        previous = d
        try v.deleted(flag == 1, hlc, d.0, d.1)
    }
    let nf = try r.count(minimumSize: 6)
    if nd == 0 && nf == 0 { throw RecordDecodingError("no registers") }
    var previousName: UnsafeRawBufferPointer?
    for _ in 0..<nf {
        let name = try r.slice()
        guard !name.isEmpty else { throw RecordDecodingError("empty field name") }
        guard UTF8Validation.isValid(name) else { throw RecordDecodingError("field name is not valid UTF-8") }
        if let p = previousName, !bytesLess(p, name) { throw RecordDecodingError("fields not sorted") }
        previousName = name
        try v.field(name)
        let nv = try r.count(minimumSize: 4)
        guard nv > 0 else { throw RecordDecodingError("empty register") }
        var previousDot = (-1, UInt64(0))
        for _ in 0..<nv {
            let value = try r.slice()
            guard UTF8Validation.isValid(value) else { throw RecordDecodingError("value is not valid UTF-8") }
            let hlc = try r.varint()
            let d = try dot(&r)
            if !less(previousDot, d) { throw RecordDecodingError("register not sorted") }
            previousDot = d
            try v.version(value, hlc, d.0, d.1)
        }
    }
    guard r.isAtEnd else { throw RecordDecodingError("trailing bytes") }
    try v.end()
}

/// Whether `a` sorts strictly before `b`, comparing bytes (memcmp, then length).
@inline(__always)
func bytesLess(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let n = min(a.count, b.count)
    let c = n == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, n)
    return c != 0 ? c < 0 : a.count < b.count
}

