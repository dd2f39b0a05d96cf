import JSON
import Replica

/// A single-pass reader of the page format straight from bytes, for speed.
///
/// It handles the shape this project writes (keys in any order except that
/// `replicas` precedes `records`, strings without escapes, integers) and gives
/// up on anything else by returning `nil`; the caller then decodes through the
/// strict `JSONParser` tree, which either accepts the document or names the
/// field at fault. So validation and error messages stay in one place, and the
/// common case costs one pass without building a JSON tree.
struct FastPageReader {
    struct GiveUp: Error {}

    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    // MARK: Tokens

    @inline(__always) mutating func ws() {
        while at < bytes.count {
            let c = bytes[at]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { at += 1 } else { return }
        }
    }

    @inline(__always) mutating func peek() throws -> UInt8 {
        ws()
        guard at < bytes.count else { throw GiveUp() }
        return bytes[at]
    }

    @inline(__always) mutating func expect(_ c: UInt8) throws {
        guard try peek() == c else { throw GiveUp() }
        at += 1
    }

    /// Reads `{…}` calling `member` for each key with the reader positioned at its value.
    mutating func object(_ member: (String, inout FastPageReader) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") { at += 1; return }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(key, &self)
            let c = try peek()
            at += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw GiveUp() }
        }
    }

    /// Reads `[…]` calling `element` for each item.
    mutating func array(_ element: (inout FastPageReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if try peek() == UInt8(ascii: "]") { at += 1; return }
        while true {
            try element(&self)
            let c = try peek()
            at += 1
            if c == UInt8(ascii: "]") { return }
            guard c == UInt8(ascii: ",") else { throw GiveUp() }
        }
    }

    /// A string without escapes or control characters; valid UTF-8.
    mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = at
        var ascii = true
        while at < bytes.count {
            let c = bytes[at]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
                at += 1
                // A typed buffer takes String's contiguous fast path (no dynamic casts).
                let typed = UnsafeBufferPointer(start: slice.baseAddress?.assumingMemoryBound(to: UInt8.self), count: slice.count)
                if ascii { return String(decoding: typed, as: UTF8.self) }
                guard let s = String(validating: typed, as: UTF8.self) else { throw GiveUp() }
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { throw GiveUp() }
            if c >= 0x80 { ascii = false }
            at += 1
        }
        throw GiveUp()
    }

    /// A string's raw UTF-8 (no escapes, no control characters, valid UTF-8), as a slice of the input.
    mutating func rawString() throws -> UnsafeRawBufferPointer {
        try expect(UInt8(ascii: "\""))
        let start = at
        var ascii = true
        while at < bytes.count {
            let c = bytes[at]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
                at += 1
                if !ascii {
                    let typed = UnsafeBufferPointer(start: slice.baseAddress?.assumingMemoryBound(to: UInt8.self), count: slice.count)
                    guard String(validating: typed, as: UTF8.self) != nil else { throw GiveUp() }
                }
                return slice
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { throw GiveUp() }
            if c >= 0x80 { ascii = false }
            at += 1
        }
        throw GiveUp()
    }

    /// Reads an envelope object: `pageKey` is read as a prepared page (see `PreparedRecord`),
    /// every other member is handed to `other` as raw bytes.
    static func envelope(_ body: [UInt8], pageKey: String,
                                 other: (String, UnsafeRawBufferPointer) throws -> Void) -> PreparedPage? {
        body.withUnsafeBytes { raw in
            var r = FastPageReader(raw)
            do {
                var page: PreparedPage?
                try r.object { key, r in
                    if key == pageKey {
                        page = try r.page()
                    } else {
                        let start = r.at
                        try r.skipValue()
                        do { try other(key, UnsafeRawBufferPointer(rebasing: raw[start..<r.at])) } catch { throw GiveUp() }
                    }
                }
                r.ws()
                guard r.at == raw.count else { return nil }
                return page
            } catch {
                return nil
            }
        }
    }

    mutating func page() throws -> PreparedPage {
        var table: [ReplicaID]?
        var records: [PreparedRecord]?
        var coverage: VectorClock?, base: VectorClock?, more: Bool?
        try object { key, r in
            switch key {
            case "replicas":
                var t: [ReplicaID] = []
                try r.array { r in
                    guard let id = ReplicaID(hex: try r.string()), !t.contains(id) else { throw GiveUp() }
                    t.append(id)
                }
                table = t
            case "records":
                guard let t = table else { throw GiveUp() }
                var out: [PreparedRecord] = []
                try r.array { r in out.append(try r.record(table: t)) }
                records = out
            case "coverage": coverage = try r.clock()
            case "base": base = try r.clock()
            case "more": more = try r.bool()
            default: try r.skipChecked()
            }
        }
        guard let records, let coverage, let base, let more else { throw GiveUp() }
        return PreparedPage(records: records, coverage: coverage, more: more, base: base)
    }

    /// One record straight into its canonical encoding; records not already in
    /// canonical shape go through `Record`, which normalizes them.
    mutating func record(table: [ReplicaID]) throws -> PreparedRecord {
        var id: String?, kind: RecordKind?
        var clock: [(ReplicaID, UInt64)] = []
        var sawClock = false
        var deleted: [(Bool, UInt64, Dot)]?
        var fields: [(name: UnsafeRawBufferPointer, versions: [PreparedRecord.WireVersion])]?
        try object { key, r in
            switch key {
            case "id":
                let s = try r.string()
                guard !s.isEmpty, s.utf8.count <= WireFormat.maxIDBytes else { throw GiveUp() }
                id = s
            case "kind":
                guard let k = RecordKind(name: try r.string()) else { throw GiveUp() }
                kind = k
            case "clock":
                sawClock = true
                try r.array { r in
                    try r.expect(UInt8(ascii: "["))
                    let i = try r.uint()
                    guard i < UInt64(table.count) else { throw GiveUp() }
                    try r.expect(UInt8(ascii: ","))
                    let c = try r.uint()
                    guard c > 0 else { throw GiveUp() }
                    try r.expect(UInt8(ascii: "]"))
                    clock.append((table[Int(i)], c))
                }
            case "deleted":
                var out: [(Bool, UInt64, Dot)] = []
                try r.array { r in
                    try r.expect(UInt8(ascii: "["))
                    let flag = try r.bool()
                    try r.expect(UInt8(ascii: ","))
                    let hlc = try r.uint()
                    try r.expect(UInt8(ascii: ","))
                    let d = try r.dot(table: table)
                    try r.expect(UInt8(ascii: "]"))
                    out.append((flag, hlc, d))
                }
                deleted = out
            case "fields":
                var out: [(name: UnsafeRawBufferPointer, versions: [PreparedRecord.WireVersion])] = []
                try r.array_object { name, r in
                    var versions: [PreparedRecord.WireVersion] = []
                    try r.array { r in
                        try r.expect(UInt8(ascii: "["))
                        let value = try r.rawString()
                        try r.expect(UInt8(ascii: ","))
                        let hlc = try r.uint()
                        try r.expect(UInt8(ascii: ","))
                        let d = try r.dot(table: table)
                        try r.expect(UInt8(ascii: "]"))
                        versions.append(PreparedRecord.WireVersion(value: value, hlc: hlc, dot: d))
                    }
                    out.append((name, versions))
                }
                fields = out
            default:
                try r.skipChecked()
            }
        }
        guard let id, let kind, sawClock, let deleted, let fields else { throw GiveUp() }
        if let p = PreparedRecord.fromWire(id: id, kind: kind, clock: clock, deleted: deleted, fields: fields) { return p }
        // Not canonical as sent: build the Record, which sorts, merges and raises the clock.
        var recordClock = VectorClock()
        for (r, c) in clock where recordClock[r] < c { recordClock[r] = c }
        let record = Record(
            id: id, kind: kind,
            fields: fields.map { f in
                Field(name: String(decoding: f.name, as: UTF8.self), register: Register(versions: f.versions.map {
                    Version(value: String(decoding: $0.value, as: UTF8.self), hlc: HLC(rawValue: $0.hlc), dot: $0.dot)
                }))
            },
            deleted: Register(versions: deleted.map { Version(value: $0.0, hlc: HLC(rawValue: $0.1), dot: $0.2) }),
            clock: recordClock)
        // A record the Record path refuses (no register at all) is refused by the store's validation.
        return PreparedRecord(record)
    }

    /// Reads an object whose keys are handed over raw (field names), for the prepared path.
    mutating func array_object(_ member: (UnsafeRawBufferPointer, inout FastPageReader) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") { at += 1; return }
        while true {
            let key = try rawString()
            guard !key.isEmpty else { throw GiveUp() }
            try expect(UInt8(ascii: ":"))
            try member(key, &self)
            let c = try peek()
            at += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw GiveUp() }
        }
    }

    /// A non-negative integer without sign, fraction or exponent, no leading zeros.
    mutating func uint() throws -> UInt64 {
        _ = try peek()
        let start = at
        var v: UInt64 = 0
        while at < bytes.count {
            let c = bytes[at]
            guard c >= 0x30 && c <= 0x39 else { break }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1, !o2, a <= UInt64(Int64.max) else { throw GiveUp() }
            v = a
            at += 1
        }
        guard at > start, !(at - start > 1 && bytes[start] == 0x30) else { throw GiveUp() }
        if at < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[at]) { throw GiveUp() }
        return v
    }

    mutating func bool() throws -> Bool {
        let c = try peek()
        if c == UInt8(ascii: "t"), bytes.count - at >= 4, bytes[at + 1] == 0x72, bytes[at + 2] == 0x75, bytes[at + 3] == 0x65 {
            at += 4
            return true
        }
        if c == UInt8(ascii: "f"), bytes.count - at >= 5, bytes[at + 1] == 0x61, bytes[at + 2] == 0x6C, bytes[at + 3] == 0x73, bytes[at + 4] == 0x65 {
            at += 5
            return false
        }
        throw GiveUp()
    }

    /// Skips any value (strings may contain escapes here; they are only stepped over).
    mutating func skipValue() throws {
        let c = try peek()
        switch c {
        case UInt8(ascii: "{"):
            try object { _, r in try r.skipValue() }
        case UInt8(ascii: "["):
            try array { r in try r.skipValue() }
        case UInt8(ascii: "\""):
            at += 1
            while at < bytes.count {
                let b = bytes[at]
                if b == UInt8(ascii: "\\") { at += 2; continue }
                at += 1
                if b == UInt8(ascii: "\"") { return }
            }
            throw GiveUp()
        default:
            while at < bytes.count {
                let b = bytes[at]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { return }
                at += 1
            }
        }
    }

    /// Skips a value and checks it with the strict parser (unknown members are rare).
    mutating func skipChecked() throws {
        ws()
        let start = at
        try skipValue()
        do { _ = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[start..<at])) } catch { throw GiveUp() }
    }

    // MARK: The page

    mutating func clock() throws -> VectorClock {
        var pairs: [(ReplicaID, UInt64)] = []
        try object { key, r in
            guard let id = ReplicaID(hex: key) else { throw GiveUp() }
            let c = try r.uint()
            guard c > 0 else { throw GiveUp() }
            pairs.append((id, c))
        }
        return VectorClock(pairs)
    }

    @inline(__always) mutating func dot(table: [ReplicaID]) throws -> Dot {
        let i = try uint()
        guard i < UInt64(table.count) else { throw GiveUp() }
        try expect(UInt8(ascii: ","))
        let c = try uint()
        guard c > 0 else { throw GiveUp() }
        return Dot(replica: table[Int(i)], counter: c)
    }

}
