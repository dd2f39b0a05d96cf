import Bytes
import Foundation
import Replica

/// The encodings of a page on the wire, negotiated with `Accept` (pull answers)
/// and `Content-Type` (push bodies).
public enum PageEncoding: String, Sendable, CaseIterable {
    /// JSON (`WireFormat`): for curl, debugging and peers that ask for nothing else.
    case json
    /// The binary page encoding (`BinaryPage`): records in their canonical form.
    case binary

    /// The media type.
    public var mediaType: String {
        switch self {
        case .json: "application/json"
        case .binary: BinaryPage.mediaType
        }
    }

    /// The encoding a request's `Accept` asks for: binary only when it names the
    /// binary media type (with a q-value above 0), JSON otherwise.
    public static func accepted(_ accept: String?) -> PageEncoding {
        of(accept) ? .binary : .json
    }

    /// The encoding of a body whose `Content-Type` is `contentType` (JSON unless it names the binary type).
    public static func of(contentType: String?) -> PageEncoding {
        of(contentType) ? .binary : .json
    }

    private static func of(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard parts.first == BinaryPage.mediaType else { continue }
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return q > 0
        }
        return false
    }
}

/// The binary page encoding (`application/vnd.setuplink.page`), version 1: the
/// one binary page codec. Records are carried in their canonical encoding
/// (`Record.encode`), as stored, so a pull answer is a copy of stored bytes
/// and a push is a check (`walkEncodedRecord`) plus an insert.
///
/// ```
/// "SLPG"  u8 version (1)  u8 flags (1: more, 2: clock present, 4: purge floor present, 8: corrections, 16: forgot, 32: partial)
/// 16 bytes   sender replica id
/// [clock]    the sender's replica clock        (flag 2)
/// [clock]    the sender's purge floor          (flag 4)
/// [corrections] varint n, n × (16-byte replica id, varint made, varint lie, u8 retired), sorted (flag 8)
/// [forgot]   varint n, n × 16-byte replica id   (flag 16)
/// clock      base
/// clock      coverage
/// [partial]  16-byte replica id, varint counter, varint records, varint after (flag 32: the page ends inside a change)
/// varint n, n × (varint id length, id UTF-8, varint body length, body)
/// clock = varint n, n × (16-byte replica id, varint counter), sorted by replica
/// ```
/// Integers are the record codec's: shortest varints, big-endian ids.
/// Decoding checks every length and count against the bytes that remain,
/// clocks (sorted, counters in 1…`PeerInput.maxCounter`, at most
/// `PeerInput.maxClockEntries`), ids (1…256 bytes of UTF-8) and that nothing
/// follows; records are checked by the record codec when they are stored.
public enum BinaryPage {
    /// The media type.
    public static let mediaType = "application/vnd.setuplink.page"
    /// The format version this build writes and reads.
    public static let version: UInt8 = 1
    static let magic: [UInt8] = Array("SLPG".utf8)

    /// Encodes a message.
    public static func encode(_ m: PageMessage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + m.page.records.reduce(0) { $0 + $1.id.utf8.count + $1.bytes.count + 6 })
        out.append(contentsOf: magic)
        out.append(version)
        var flags: UInt8 = m.page.more ? 1 : 0
        if m.page.partial != nil { flags |= 32 }
        if m.clock != nil { flags |= 2 }
        if m.purgeFloor != nil { flags |= 4 }
        if !m.corrections.isEmpty { flags |= 8 }
        if !m.forgot.isEmpty { flags |= 16 }
        out.append(flags)
        putUInt64(m.sender.high, &out)
        putUInt64(m.sender.low, &out)
        if let c = m.clock { putClock(c, &out) }
        if let f = m.purgeFloor { putClock(f, &out) }
        if !m.corrections.isEmpty {
            putVarint(UInt64(m.corrections.count), &out)
            for (r, c) in m.corrections {
                putUInt64(r.high, &out)
                putUInt64(r.low, &out)
                putVarint(c.made, &out)
                putVarint(c.lie, &out)
                out.append(c.retired ? 1 : 0)
            }
        }
        if !m.forgot.isEmpty {
            putVarint(UInt64(m.forgot.count), &out)
            for r in m.forgot {
                putUInt64(r.high, &out)
                putUInt64(r.low, &out)
            }
        }
        putClock(m.page.base, &out)
        putClock(m.page.coverage, &out)
        if let p = m.page.partial {
            putUInt64(p.replica.high, &out)
            putUInt64(p.replica.low, &out)
            putVarint(p.counter, &out)
            putVarint(UInt64(p.records), &out)
            putVarint(UInt64(bitPattern: p.after), &out)
        }
        putVarint(UInt64(m.page.records.count), &out)
        for r in m.page.records {
            putString(r.id, &out)
            putVarint(UInt64(r.bytes.count), &out)
            out.append(contentsOf: r.bytes)
        }
        return out
    }

    static func putClock(_ c: VectorClock, _ out: inout [UInt8]) {
        putVarint(UInt64(c.entries.count), &out)
        for e in c.entries {
            putUInt64(e.replica.high, &out)
            putUInt64(e.replica.low, &out)
            putVarint(e.counter, &out)
        }
    }

    /// Decodes a message; the error names the part at fault.
    public static func decode(_ bytes: [UInt8]) throws(WireFormatError) -> PageMessage {
        let result: Result<PageMessage, WireFormatError> = bytes.withUnsafeBytes { raw in
            do throws(WireFormatError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes a message from raw bytes.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> PageMessage {
        var r = ByteReader(bytes)
        func read<T>(_ field: @autoclosure () -> String, _ body: (inout ByteReader) throws(RecordDecodingError) -> T) throws(WireFormatError) -> T {
            do { return try body(&r) } catch { throw WireFormatError(field: field(), reason: error.description) }
        }
        let head = try read("header") { (r: inout ByteReader) throws(RecordDecodingError) in try r.bytes(6) }
        guard Array(head[0..<4]) == magic else { throw WireFormatError(field: "header", reason: "not a setuplink page (no SLPG magic)") }
        guard head[4] == version else { throw WireFormatError(field: "header", reason: "page format version \(head[4]) is not supported (this build reads \(version))") }
        let flags = head[5]
        guard flags & ~63 == 0 else { throw WireFormatError(field: "header", reason: "unknown flags \(flags)") }
        let sender = try read("replica") { (r: inout ByteReader) throws(RecordDecodingError) in ReplicaID(high: try r.uint64(), low: try r.uint64()) }
        let clock = flags & 2 != 0 ? try self.clock(&r, "clock") : nil
        let floor = flags & 4 != 0 ? try self.clock(&r, "purge_floor") : nil
        let corrections = flags & 8 != 0 ? try self.corrections(&r, "corrections") : Corrections()
        var forgot: [ReplicaID] = []
        if flags & 16 != 0 {
            let n = try read("forgot") { (r: inout ByteReader) throws(RecordDecodingError) in try r.count(minimumSize: 16) }
            guard n <= PeerInput.maxClockEntries else {
                throw WireFormatError(field: "forgot", reason: "has \(n) entries, more than the \(PeerInput.maxClockEntries) accepted")
            }
            for _ in 0..<n {
                forgot.append(try read("forgot") { (r: inout ByteReader) throws(RecordDecodingError) in ReplicaID(high: try r.uint64(), low: try r.uint64()) })
            }
        }
        let base = try self.clock(&r, "page.base")
        let coverage = try self.clock(&r, "page.coverage")
        var partial: (ReplicaID, UInt64, UInt64, Int64)?
        if flags & 32 != 0 {
            partial = try read("page.partial") { (r: inout ByteReader) throws(RecordDecodingError) in
                (ReplicaID(high: try r.uint64(), low: try r.uint64()), try r.varint(), try r.varint(), Int64(bitPattern: try r.varint()))
            }
        }
        // Each record takes at least 4 bytes (two lengths, a 1-byte id and a body byte).
        let n = try read("page.records") { (r: inout ByteReader) throws(RecordDecodingError) in try r.count(minimumSize: 4) }
        var records: [EncodedRecord] = []
        records.reserveCapacity(n)
        for i in 0..<n {
            let id = try read("page.records[\(i)].id") { (r: inout ByteReader) throws(RecordDecodingError) in try r.slice() }
            guard !id.isEmpty, id.count <= WireFormat.maxIDBytes else {
                throw WireFormatError(field: "page.records[\(i)].id", reason: "must be 1 to \(WireFormat.maxIDBytes) bytes, not \(id.count)")
            }
            guard UTF8Validation.isValid(id) else { throw WireFormatError(field: "page.records[\(i)].id", reason: "not valid UTF-8") }
            let body = try read("page.records[\(i)].body") { (r: inout ByteReader) throws(RecordDecodingError) in try r.slice() }
            records.append(EncodedRecord(
                id: String(decoding: UnsafeBufferPointer(start: id.baseAddress?.assumingMemoryBound(to: UInt8.self), count: id.count), as: UTF8.self),
                bytes: Array(body)))
        }
        guard r.isAtEnd else { throw WireFormatError(field: "page", reason: "\(r.remaining) bytes after the last record") }
        var part: PartialChange?
        if let (replica, counter, count, after) = partial {
            guard counter >= 1, counter <= PeerInput.maxCounter else {
                throw WireFormatError(field: "page.partial.counter", reason: "must be 1 to \(PeerInput.maxCounter)")
            }
            guard count >= 1, count <= UInt64(records.count) else {
                throw WireFormatError(field: "page.partial.records", reason: "must be 1 to the number of records in the page")
            }
            guard flags & 1 != 0 else { throw WireFormatError(field: "page.partial", reason: "a page that ends inside a change must say more follow") }
            part = PartialChange(replica: replica, counter: counter, records: Int(count), after: after)
        }
        return PageMessage(sender: sender, clock: clock, purgeFloor: floor,
                           page: ChangePage(records: records, coverage: coverage, more: flags & 1 != 0, base: base, partial: part),
                           corrections: corrections, forgot: forgot)
    }

    /// Reads corrections: sorted by replica, counters as in a clock (`lie` may be 0), not too many.
    static func corrections(_ r: inout ByteReader, _ field: String) throws(WireFormatError) -> Corrections {
        do {
            // Each entry takes at least 19 bytes (an id, two varints and a flag).
            let n = try r.count(minimumSize: 19)
            guard n <= PeerInput.maxClockEntries else {
                throw WireFormatError(field: field, reason: "has \(n) entries, more than the \(PeerInput.maxClockEntries) accepted")
            }
            var out = Corrections()
            var last: ReplicaID?
            for _ in 0..<n {
                let id = ReplicaID(high: try r.uint64(), low: try r.uint64())
                let made = try r.varint(), lie = try r.varint(), flag = try r.byte()
                guard made > 0, made <= PeerInput.maxCounter, lie <= PeerInput.maxCounter, flag <= 1 else {
                    throw WireFormatError(field: "\(field).\(id.hex)", reason: "counters must be 1 to \(PeerInput.maxCounter) (lie: 0 for none), the flag 0 or 1")
                }
                if let last, !(last < id) { throw WireFormatError(field: field, reason: "entries not sorted by replica") }
                last = id
                out.merge(id, Correction(made: made, lie: lie, retired: flag == 1))
            }
            return out
        } catch let e as WireFormatError {
            throw e
        } catch let e as RecordDecodingError {
            throw WireFormatError(field: field, reason: e.description)
        } catch {
            throw WireFormatError(field: field, reason: "\(error)")
        }
    }

    /// Reads a clock: sorted, counters in range, not too many entries.
    static func clock(_ r: inout ByteReader, _ field: String) throws(WireFormatError) -> VectorClock {
        do {
            let n = try r.count(minimumSize: 17)
            guard n <= PeerInput.maxClockEntries else {
                throw WireFormatError(field: field, reason: "has \(n) entries, more than the \(PeerInput.maxClockEntries) accepted")
            }
            var pairs: [(ReplicaID, UInt64)] = []
            pairs.reserveCapacity(n)
            for _ in 0..<n {
                let id = ReplicaID(high: try r.uint64(), low: try r.uint64())
                let c = try r.varint()
                guard c > 0 else { throw WireFormatError(field: "\(field).\(id.hex)", reason: "a counter must be greater than 0") }
                guard c <= PeerInput.maxCounter else {
                    throw WireFormatError(field: "\(field).\(id.hex)", reason: "counter \(c) is above the largest accepted, \(PeerInput.maxCounter)")
                }
                if let last = pairs.last, !(last.0 < id) { throw WireFormatError(field: field, reason: "entries not sorted by replica") }
                pairs.append((id, c))
            }
            return VectorClock(pairs)
        } catch let e as WireFormatError {
            throw e
        } catch let e as RecordDecodingError {
            throw WireFormatError(field: field, reason: e.description)
        } catch {
            throw WireFormatError(field: field, reason: "\(error)")
        }
    }
}
