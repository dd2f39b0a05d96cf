import Foundation

/// A remote record ready to store: its canonical encoding and what the store
/// indexes, without the `Record` value itself.
///
/// A sync's first pull is almost all new records; reading them from the wire
/// straight into this form skips building field strings and registers only to
/// encode them again. `record()` decodes the full state when a merge needs it.
public struct PreparedRecord: Sendable {
    /// The record id.
    public var id: String
    /// The record kind.
    public var kind: RecordKind
    /// The record's vector clock.
    public var clock: VectorClock
    /// Whether the record holds any register (a record with none is invalid).
    public var hasRegisters = true

    /// Where the rest comes from: read off the wire already encoded, or a decoded
    /// record whose encoding is made only if it is stored (a re-delivered record
    /// is skipped on its clock alone).
    enum Source: Sendable {
        case wire(body: [UInt8], dots: [Dot], isLive: Bool, lookup: String?, maxHLC: HLC)
        case record(Record)
    }
    let source: Source

    /// Prepares a decoded record.
    public init(_ r: Record) {
        id = r.id
        kind = r.kind
        clock = r.clock
        hasRegisters = !r.fields.isEmpty || !r.deletedRegister.isEmpty
        source = .record(r)
    }

    init(id: String, kind: RecordKind, clock: VectorClock, body: [UInt8], dots: [Dot], isLive: Bool, lookup: String?, maxHLC: HLC) {
        self.id = id
        self.kind = kind
        self.clock = clock
        source = .wire(body: body, dots: dots, isLive: isLive, lookup: lookup, maxHLC: maxHLC)
    }

    /// The canonical encoding (what `Record.encode` writes).
    public var body: [UInt8] {
        switch source {
        case .wire(let body, _, _, _, _): return body
        case .record(let r): return r.encoded
        }
    }

    /// The distinct dots the registers hold.
    public var dots: [Dot] {
        switch source {
        case .wire(_, let dots, _, _, _): return dots
        case .record(let r): return r.distinctDots
        }
    }

    /// Whether the record exists for users.
    public var isLive: Bool {
        switch source {
        case .wire(_, _, let live, _, _): return live
        case .record(let r): return r.isLive
        }
    }

    /// For a live link, its visible token.
    public var lookup: String? {
        switch source {
        case .wire(_, _, _, let lookup, _): return lookup
        case .record(let r): return r.isLive && r.kind == .link ? r["token"] : nil
        }
    }

    /// The largest timestamp held.
    public var maxHLC: HLC {
        switch source {
        case .wire(_, _, _, _, let h): return h
        case .record(let r): return r.maxHLC
        }
    }

    /// The full state.
    public func record() throws -> Record {
        switch source {
        case .wire(let body, _, _, _, _): return try Record(id: id, encoded: body)
        case .record(let r): return r
        }
    }

    /// One version as read from the wire: the value's UTF-8, its timestamp and its dot.
    public struct WireVersion {
        /// The value's bytes (valid UTF-8, without escapes).
        public var value: UnsafeRawBufferPointer
        /// The timestamp.
        public var hlc: UInt64
        /// The dot.
        public var dot: Dot
        /// Creates one.
        public init(value: UnsafeRawBufferPointer, hlc: UInt64, dot: Dot) {
            self.value = value
            self.hlc = hlc
            self.dot = dot
        }
    }

    /// Builds the canonical encoding straight from wire parts, or returns `nil`
    /// when they are not already in canonical shape (fields sorted by name and
    /// ASCII, versions sorted by dot, no empty register, a clock covering every
    /// dot); the caller then builds a `Record`, which normalizes.
    public static func fromWire(id: String, kind: RecordKind, clock: [(ReplicaID, UInt64)],
                                deleted: [(Bool, UInt64, Dot)],
                                fields: [(name: UnsafeRawBufferPointer, versions: [WireVersion])]) -> PreparedRecord? {
        // A record with no register at all is invalid: let the Record path refuse it.
        if fields.isEmpty && deleted.isEmpty { return nil }
        // The clock, sorted by replica, with no duplicates (the wire may list it in any order).
        var entries = clock.map { VectorClock.Entry(replica: $0.0, counter: $0.1) }
        entries.sort { $0.replica < $1.replica }
        for k in entries.indices.dropFirst() where entries[k - 1].replica == entries[k].replica { return nil }
        guard entries.allSatisfy({ $0.counter > 0 }) else { return nil }
        let vc = VectorClock(sortedEntries: entries)
        func index(_ d: Dot) -> Int? {
            var lo = 0, hi = entries.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if entries[mid].replica < d.replica { lo = mid + 1 } else { hi = mid }
            }
            guard lo < entries.count, entries[lo].replica == d.replica, entries[lo].counter >= d.counter else { return nil }
            return lo
        }
        var out: [UInt8] = []
        out.reserveCapacity(128 + fields.count * 48)
        out.append(Record.binaryVersion)
        out.append(kind.rawValue)
        putVarint(UInt64(entries.count), &out)
        for e in entries {
            putUInt64(e.replica.high, &out)
            putUInt64(e.replica.low, &out)
            putVarint(e.counter, &out)
        }
        var dots: [Dot] = []
        func note(_ d: Dot) { if !dots.contains(d) { dots.append(d) } }
        var maxHLC: UInt64 = 0
        var deletedTrue = false
        putVarint(UInt64(deleted.count), &out)
        var previous: Dot?
        for (value, hlc, dot) in deleted {
            if let p = previous, !(p < dot) { return nil }
            previous = dot
            guard let i = index(dot) else { return nil }
            out.append(value ? 1 : 0)
            putVarint(hlc, &out)
            putVarint(UInt64(i), &out)
            putVarint(dot.counter, &out)
            note(dot)
            maxHLC = max(maxHLC, hlc)
            if value { deletedTrue = true }
        }
        putVarint(UInt64(fields.count), &out)
        var previousName: UnsafeRawBufferPointer?
        var token: String?
        for f in fields {
            guard !f.versions.isEmpty, !f.name.isEmpty, f.name.allSatisfy({ $0 < 0x80 }) else { return nil }
            // Byte order is String order for ASCII names.
            if let p = previousName, !p.lexicographicallyPrecedes(f.name) { return nil }
            previousName = f.name
            putVarint(UInt64(f.name.count), &out)
            out.append(contentsOf: f.name)
            putVarint(UInt64(f.versions.count), &out)
            var previousDot: Dot?
            var winner: WireVersion?
            for v in f.versions {
                if let p = previousDot, !(p < v.dot) { return nil }
                previousDot = v.dot
                guard let i = index(v.dot) else { return nil }
                putVarint(UInt64(v.value.count), &out)
                out.append(contentsOf: v.value)
                putVarint(v.hlc, &out)
                putVarint(UInt64(i), &out)
                putVarint(v.dot.counter, &out)
                note(v.dot)
                maxHLC = max(maxHLC, v.hlc)
                if let w = winner {
                    if versionWins(HLC(rawValue: v.hlc), v.dot, over: HLC(rawValue: w.hlc), w.dot) { winner = v }
                } else {
                    winner = v
                }
            }
            if kind == .link, f.name.elementsEqual("token".utf8), let w = winner {
                token = String(decoding: w.value, as: UTF8.self)
            }
        }
        let live = !fields.isEmpty && !deletedTrue
        return PreparedRecord(id: id, kind: kind, clock: vc, body: out, dots: dots, isLive: live,
                              lookup: live ? token : nil, maxHLC: HLC(rawValue: maxHLC))
    }

}

/// A page of prepared records (see `ChangePage`).
public struct PreparedPage: Sendable {
    /// The records.
    public var records: [PreparedRecord]
    /// As `ChangePage.coverage`.
    public var coverage: VectorClock
    /// As `ChangePage.more`.
    public var more: Bool
    /// As `ChangePage.base`.
    public var base: VectorClock

    /// Creates a page.
    public init(records: [PreparedRecord], coverage: VectorClock, more: Bool, base: VectorClock) {
        self.records = records
        self.coverage = coverage
        self.more = more
        self.base = base
    }

    /// Prepares every record of a decoded page.
    public init(_ page: ChangePage) {
        self.init(records: page.records.map(PreparedRecord.init), coverage: page.coverage, more: page.more, base: page.base)
    }

    /// The clock a receiver whose clock is `clock` reaches by applying this page.
    public func advance(_ clock: VectorClock) -> VectorClock {
        ChangePage(records: [], coverage: coverage, more: more, base: base).advance(clock)
    }
}
