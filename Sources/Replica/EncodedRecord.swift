import Foundation

/// A record in its canonical form: its id and its canonical encoding
/// (`Record.encode`), as the store keeps it and as pages carry it.
///
/// This is not a second model of a record: it is the bytes, which cross every
/// boundary (disk, wire) unchanged, so a pull is a copy and a push is a check
/// plus an insert. `Record` is the decoded state that merges and local writes
/// work on; `decoded()` and `init(_:)` are the one codec between them, and
/// `facts(winnersOf:)` reads what the store needs without decoding.
public struct EncodedRecord: Sendable, Hashable {
    /// The record id.
    public var id: String
    /// The canonical encoding (unchecked until read with `facts` or `decoded`).
    public var bytes: [UInt8]

    /// Wraps an id and bytes as received or stored; nothing is checked yet.
    public init(id: String, bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }

    /// Encodes a record.
    public init(_ record: Record) {
        id = record.id
        bytes = record.encoded
    }

    /// The decoded state; throws unless the bytes are exactly a canonical encoding.
    public func decoded() throws(RecordDecodingError) -> Record { try Record(id: id, encoded: bytes) }

    /// Walks the encoding with the one reader (see `walkEncodedRecord`).
    public func walk<V: EncodedRecordVisitor>(_ visitor: inout V) throws(RecordDecodingError) {
        let result: Result<Void, RecordDecodingError> = bytes.withUnsafeBytes { raw in
            do throws(RecordDecodingError) { return .success(try walkEncodedRecord(raw, &visitor)) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Reads and checks the encoding once (see `walkEncodedRecord`), collecting what
    /// the store indexes and what peer input is checked against; with `winnersOf`,
    /// also the visible value of those fields.
    public func facts(winnersOf wanted: [[UInt8]] = []) throws(RecordDecodingError) -> RecordFacts {
        let result: Result<RecordFacts, RecordDecodingError> = bytes.withUnsafeBytes { raw in
            do throws(RecordDecodingError) { return .success(try RecordFacts(encoded: raw, winnersOf: wanted)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// What one reading of a canonical encoding tells without building a `Record`.
public struct RecordFacts: Sendable {
    /// The kind.
    public var kind: RecordKind
    /// The record's vector clock.
    public var clock: VectorClock
    /// The distinct dots its registers hold (its entries in the dots index).
    public var dots: [Dot]
    /// Whether it exists for users: a field was written and no delete holds.
    public var isLive: Bool
    /// The largest timestamp held.
    public var maxHLC: HLC
    /// Whether some field holds more than one version (concurrent writes, maybe a conflict).
    public var hasConcurrentVersions: Bool
    /// Where the name and the value of every version of every field lie in the encoding read,
    /// when the record's kind was among those asked for (`valuesOf`); else `nil`.
    public var values: [(name: Range<Int>, value: Range<Int>)]?
    /// Where the visible values of the fields asked for lie in the encoding read
    /// (`nil` where never written), in the order asked: byte ranges, so reading
    /// them costs no allocation (`winner(_:in:)` makes one a `String`).
    public var winnerRanges: [Range<Int>?]

    /// Reads `bytes` (see `walkEncodedRecord`).
    ///
    /// `valuesOf` is a set of kinds, as a bit mask of their codes (`1 << kind.rawValue`): for a
    /// record of one of them, `values` is collected in the same walk (what a check of its
    /// meaning reads).
    public init(encoded bytes: UnsafeRawBufferPointer, winnersOf wanted: [[UInt8]] = [], valuesOf kinds: UInt64 = 0) throws(RecordDecodingError) {
        var c = FactsCollector(wanted: wanted, base: bytes.baseAddress, valueKinds: kinds)
        try walkEncodedRecord(bytes, &c)
        kind = c.kind
        clock = VectorClock(sortedEntries: c.entries)
        dots = c.dots
        isLive = c.written && !c.deleted
        maxHLC = HLC(rawValue: c.maxHLC)
        hasConcurrentVersions = c.concurrent
        values = c.collecting ? c.values : nil
        winnerRanges = c.winners.map { w in w.map { $0.offset..<($0.offset + $0.count) } }
    }

    /// The visible value of the `i`th field asked for, read from `bytes`, the encoding these facts were read from.
    public func winner(_ i: Int, in bytes: [UInt8]) -> String? {
        winnerRanges[i].map { String(decoding: bytes[$0], as: UTF8.self) }
    }
}

/// Collects `RecordFacts` during a walk; the visible value of a field is
/// chosen by `Version.wins`, the one winner rule. Allocates only the clock and
/// dots arrays: winners are kept as offsets into the encoding until the end.
private struct FactsCollector: EncodedRecordVisitor {
    let wanted: [[UInt8]]
    let base: UnsafeRawPointer?
    var kind = RecordKind.link
    var entries: [VectorClock.Entry] = []
    var dots: [Dot] = []
    var deleted = false
    var written = false
    var maxHLC: UInt64 = 0
    var current = -1
    var versionsInField = 0
    var concurrent = false
    var winners: [(offset: Int, count: Int, version: Version<Bool>)?]
    let valueKinds: UInt64
    var collecting = false
    var values: [(name: Range<Int>, value: Range<Int>)] = []
    var name: Range<Int> = 0..<0

    init(wanted: [[UInt8]], base: UnsafeRawPointer?, valueKinds: UInt64 = 0) {
        self.wanted = wanted
        self.base = base
        self.valueKinds = valueKinds
        winners = Array(repeating: nil, count: wanted.count)
        entries.reserveCapacity(2)
        dots.reserveCapacity(2)
    }

    mutating func kind(_ kind: RecordKind) {
        self.kind = kind
        collecting = valueKinds & (1 << UInt64(kind.rawValue)) != 0
    }
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) {
        entries.append(.init(replica: replica, counter: counter))
    }

    @inline(__always) mutating func note(_ hlc: UInt64, _ dot: Dot) {
        if hlc > maxHLC { maxHLC = hlc }
        // A record holds one to three distinct dots: a scan beats a set.
        if !dots.contains(dot) { dots.append(dot) }
    }

    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
        if value { deleted = true }
        note(hlc, Dot(replica: entries[clockIndex].replica, counter: counter))
    }

    mutating func field(_ name: UnsafeRawBufferPointer) {
        written = true
        current = -1
        versionsInField = 0
        if collecting {
            let at = name.baseAddress.map { $0 - base! } ?? 0
            self.name = at..<(at + name.count)
        }
        for (i, w) in wanted.enumerated() where w.count == name.count {
            if w.withUnsafeBytes({ memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }) {
                current = i
                break
            }
        }
    }

    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
        let dot = Dot(replica: entries[clockIndex].replica, counter: counter)
        note(hlc, dot)
        versionsInField += 1
        if versionsInField > 1 { concurrent = true }
        if collecting {
            let at = value.baseAddress.map { $0 - base! } ?? 0
            values.append((name, at..<(at + value.count)))
        }
        guard current >= 0 else { return }
        // The value type does not take part in the rule: compare as flags.
        let candidate = Version(value: false, hlc: HLC(rawValue: hlc), dot: dot)
        if let w = winners[current], !candidate.wins(over: w.version) { return }
        let offset = value.baseAddress.map { $0 - base! } ?? 0
        winners[current] = (offset, value.count, candidate)
    }
}
