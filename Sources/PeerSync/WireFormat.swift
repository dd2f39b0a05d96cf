import JSON
import Replica

/// Why a peer-protocol document was refused: the field at fault and what is wrong with it.
///
/// The server answers these with 400; the client reports them as a peer that
/// does not speak the protocol.
public struct WireFormatError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path of the offending field, e.g. `page.records[3].fields.token[0][2]`.
    public var field: String
    /// What is wrong with it, e.g. `replica index 7 out of range (table has 2)`.
    public var reason: String

    /// Creates an error about `field`.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// `page.records[3].id: must not be empty`.
    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

/// A page as one replica sends it to another: a pull answer or a push body,
/// in either encoding (`WireFormat` for JSON, `BinaryPage` for binary).
public struct PageMessage: Sendable {
    /// The sending replica.
    public var sender: ReplicaID
    /// The sender's replica clock (a pull answer always has it; a push has it in binary and may in JSON).
    public var clock: VectorClock?
    /// The sender's purge floor, if it says.
    public var purgeFloor: VectorClock?
    /// The page.
    public var page: ChangePage
    /// What the sender knows of lies told about replicas' writes (Replica.docc/Corrections.md).
    public var corrections: Corrections
    /// The replicas whose writes the sender forgot after believing a lie about them (a push says so).
    public var forgot: [ReplicaID]

    /// A message.
    public init(sender: ReplicaID, clock: VectorClock?, purgeFloor: VectorClock?, page: ChangePage,
                corrections: Corrections = Corrections(), forgot: [ReplicaID] = []) {
        self.sender = sender
        self.clock = clock
        self.purgeFloor = purgeFloor
        self.page = page
        self.corrections = corrections
        self.forgot = forgot
    }
}

/// The JSON encoding of the peer protocol: the one JSON page codec, for curl,
/// debugging and peers that do not ask for the binary one.
///
/// A page carries one replica table, `"replicas":["<32 hex>",...]`, and every
/// dot in it names its replica by index into that table, so a 32-digit id is
/// written once per page rather than once per value:
///
/// ```
/// {"replicas":["<hex>",...],
///  "records":[{"id":"…","kind":"link"|"directory"|…,
///              "clock":[[ri,counter],...],
///              "deleted":[[bool,hlc,ri,counter],...],
///              "fields":{"name":[[value,hlc,ri,counter],...],...}}, ...],
///  "coverage":{"<hex>":counter,...},"base":{"<hex>":counter,...},"more":bool}
/// ```
///
/// A message wraps it: `{"replica":"<hex>","clock":{…},"purge_floor":{…},"page":{…}}`.
/// `hlc` is the packed hybrid logical timestamp as an integer. Pages are
/// written from records' canonical encodings (`walkEncodedRecord`) and read
/// with the one JSON parser (depth-limited), then each record is checked and
/// encoded by the one record codec. Decoding checks every type, index and
/// counter and names the field at fault; members it does not know are parsed
/// (so checked as JSON) and ignored, so a later version may add some.
public enum WireFormat {
    /// The longest record id accepted, in UTF-8 bytes.
    public static let maxIDBytes = 256
    /// The deepest nesting a peer-protocol document may have (a page needs 6).
    public static let maxDepth = 32

    // MARK: Encoding

    /// Writes a clock as `{"<hex>":counter,...}`.
    public static func writeClock(_ clock: VectorClock, into w: inout JSONWriter) {
        w.beginObject()
        for e in clock.entries {
            w.key(e.replica.hex)
            w.uint(e.counter)
        }
        w.endObject()
    }

    /// Writes corrections as `{"<hex>":[made,lie],...}` (`lie` 0: none known; `[made,lie,1]` for a retired replica).
    public static func writeCorrections(_ corrections: Corrections, into w: inout JSONWriter) {
        w.beginObject()
        for (r, c) in corrections {
            w.key(r.hex)
            w.beginArray()
            w.uint(c.made)
            w.uint(c.lie)
            if c.retired { w.int(1) }
            w.endArray()
        }
        w.endObject()
    }

    /// Writes replica ids as an array of hex strings.
    public static func writeReplicas(_ replicas: [ReplicaID], into w: inout JSONWriter) {
        w.beginArray()
        for r in replicas { w.string(r.hex) }
        w.endArray()
    }

    /// Replica ids given as an array of hex strings (absent: none), at most `PeerInput.maxClockEntries`.
    public static func replicas(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(WireFormatError) -> [ReplicaID] {
        guard let value else { return [] }
        guard case .array(let items) = value else { throw WireFormatError(field: field(), reason: "must be an array, not \(typeName(value))") }
        guard items.count <= PeerInput.maxClockEntries else {
            throw WireFormatError(field: field(), reason: "has \(items.count) entries, more than the \(PeerInput.maxClockEntries) accepted")
        }
        var out: [ReplicaID] = []
        for (i, item) in items.enumerated() { out.append(try replicaID(item, "\(field())[\(i)]")) }
        return out
    }

    /// Writes a message as one JSON object.
    public static func write(_ m: PageMessage, into w: inout JSONWriter) throws(RecordDecodingError) {
        w.beginObject()
        w.key("replica"); w.string(m.sender.hex)
        if let c = m.clock { w.key("clock"); writeClock(c, into: &w) }
        if let f = m.purgeFloor { w.key("purge_floor"); writeClock(f, into: &w) }
        if !m.corrections.isEmpty { w.key("corrections"); writeCorrections(m.corrections, into: &w) }
        if !m.forgot.isEmpty { w.key("forgot"); writeReplicas(m.forgot, into: &w) }
        w.key("page"); try writePage(m.page, into: &w)
        w.endObject()
    }

    /// A message as bytes.
    public static func encode(_ m: PageMessage) throws(RecordDecodingError) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + m.page.records.reduce(0) { $0 + $1.bytes.count * 2 })
        try write(m, into: &w)
        return w.bytes
    }

    /// Writes a page (see the type's documentation) from its records' canonical encodings.
    public static func writePage(_ page: ChangePage, into w: inout JSONWriter) throws(RecordDecodingError) {
        var collect = ReplicaTableCollector()
        for r in page.records { try r.walk(&collect) }
        w.beginObject()
        w.key("replicas")
        w.beginArray()
        for r in collect.order { w.string(r.hex) }
        w.endArray()
        w.key("records")
        w.beginArray()
        var emit = RecordEmitter(writer: w, table: collect.table)
        for r in page.records {
            emit.begin(id: r.id)
            try r.walk(&emit)
        }
        w = emit.writer
        w.endArray()
        w.key("coverage")
        writeClock(page.coverage, into: &w)
        w.key("base")
        writeClock(page.base, into: &w)
        w.key("more")
        w.bool(page.more)
        if let p = page.partial {
            w.key("partial")
            w.beginObject()
            w.key("replica"); w.string(p.replica.hex)
            w.key("counter"); w.uint(p.counter)
            w.key("records"); w.int(Int64(p.records))
            w.key("after"); w.int(p.after)
            w.endObject()
        }
        w.endObject()
    }

    /// Writes a cursor (`PageCursor`) as `{"replica":…,"counter":…,"after":…}`.
    public static func writeCursor(_ c: PageCursor, into w: inout JSONWriter) {
        w.beginObject()
        w.key("replica"); w.string(c.replica.hex)
        w.key("counter"); w.uint(c.counter)
        w.key("after"); w.int(c.after)
        w.endObject()
    }

    /// A cursor (absent: none).
    public static func cursor(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(WireFormatError) -> PageCursor? {
        guard let value else { return nil }
        let members = try object(value, field())
        func member(_ name: String) throws(WireFormatError) -> JSONValue {
            guard let v = members.first(where: { $0.0 == name })?.1 else { throw WireFormatError(field: "\(field()).\(name)", reason: "missing") }
            return v
        }
        let replica = try replicaID(try member("replica"), "\(field()).replica")
        let counter = try self.counter(try member("counter"), "\(field()).counter")
        guard case .int(let after) = try member("after") else {
            throw WireFormatError(field: "\(field()).after", reason: "must be an integer")
        }
        return PageCursor(replica: replica, counter: counter, after: after)
    }

    /// Collects the replica ids a page's records name, in first-seen order.
    struct ReplicaTableCollector: EncodedRecordVisitor {
        var table: [ReplicaID: Int] = [:]
        var order: [ReplicaID] = []
        mutating func kind(_ kind: RecordKind) {}
        mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) {
            if table[replica] == nil {
                table[replica] = order.count
                order.append(replica)
            }
        }
        mutating func clockEnd() -> Bool { false }
        mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
        mutating func field(_ name: UnsafeRawBufferPointer) {}
        mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
    }

    /// Writes one record's JSON from its encoding, mapping clock indexes to the page's table.
    struct RecordEmitter: EncodedRecordVisitor {
        var writer: JSONWriter
        let table: [ReplicaID: Int]
        var local: [Int] = []
        var inField = false

        mutating func begin(id: String) {
            local.removeAll(keepingCapacity: true)
            inField = false
            writer.beginObject()
            writer.key("id")
            writer.string(id)
        }

        mutating func kind(_ kind: RecordKind) {
            writer.key("kind")
            writer.string(kind.description)
            writer.key("clock")
            writer.beginArray()
        }

        mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) {
            let i = table[replica]!
            local.append(i)
            writer.beginArray()
            writer.int(Int64(i))
            writer.uint(counter)
            writer.endArray()
        }

        mutating func clockEnd() -> Bool {
            writer.endArray()
            writer.key("deleted")
            writer.beginArray()
            return true
        }

        mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
            writer.beginArray()
            writer.bool(value)
            writer.uint(hlc)
            writer.int(Int64(local[clockIndex]))
            writer.uint(counter)
            writer.endArray()
        }

        mutating func field(_ name: UnsafeRawBufferPointer) {
            if inField { writer.endArray() } else {
                writer.endArray()
                writer.key("fields")
                writer.beginObject()
            }
            writer.key(utf8: name)
            writer.beginArray()
            inField = true
        }

        mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
            writer.beginArray()
            writer.string(utf8: value)
            writer.uint(hlc)
            writer.int(Int64(local[clockIndex]))
            writer.uint(counter)
            writer.endArray()
        }

        mutating func end() {
            if inField { writer.endArray() } else {
                writer.endArray()
                writer.key("fields")
                writer.beginObject()
            }
            writer.endObject()
            writer.endObject()
        }
    }

    // MARK: Decoding

    /// Parses a document with the one JSON parser, at most `maxDepth` deep; `field` names it in errors.
    public static func parse(_ bytes: [UInt8], _ field: String = "body") throws(WireFormatError) -> JSONValue {
        guard !bytes.isEmpty else { throw WireFormatError(field: field, reason: "empty; expected a JSON object") }
        do { return try JSONParser.parse(bytes, maxDepth: maxDepth) } catch { throw WireFormatError(field: field, reason: error.description) }
    }

    /// Decodes a message (a pull answer or a push body).
    public static func decodeMessage(_ bytes: [UInt8]) throws(WireFormatError) -> PageMessage {
        let value = try parse(bytes)
        _ = try object(value, "body")
        let sender = try replicaID(value["replica"], "replica")
        let clock = value["clock"] == nil ? nil : try self.clock(value["clock"], "clock")
        let floor = value["purge_floor"] == nil ? nil : try self.clock(value["purge_floor"], "purge_floor")
        return PageMessage(sender: sender, clock: clock, purgeFloor: floor, page: try page(value["page"], "page"),
                           corrections: try corrections(value["corrections"], "corrections"),
                           forgot: try replicas(value["forgot"], "forgot"))
    }

    /// Corrections given as `{"<hex>":[made,lie],...}`; absent is none. Counters are
    /// checked as a clock's are (`lie` may be 0: none known), at most
    /// `PeerInput.maxClockEntries` entries, no replica twice.
    public static func corrections(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(WireFormatError) -> Corrections {
        guard let value else { return Corrections() }
        let members = try object(value, field())
        guard members.count <= PeerInput.maxClockEntries else {
            throw WireFormatError(field: field(), reason: "has \(members.count) entries, more than the \(PeerInput.maxClockEntries) accepted")
        }
        var out = Corrections()
        var seen = Set<ReplicaID>()
        for (key, v) in members {
            guard let r = ReplicaID(hex: key) else {
                throw WireFormatError(field: "\(field()).\(key)", reason: "a key must be a replica id of 32 hex digits")
            }
            guard seen.insert(r).inserted else { throw WireFormatError(field: "\(field()).\(key)", reason: "the replica appears twice") }
            guard case .array(let pair) = v, pair.count == 2 || pair.count == 3 else {
                throw WireFormatError(field: "\(field()).\(key)", reason: "must be [made, lie] or [made, lie, 1] (retired)")
            }
            let made = try counter(pair[0], "\(field()).\(key)[0]")
            var lie: UInt64 = 0
            if case .int(0) = pair[1] {} else { lie = try counter(pair[1], "\(field()).\(key)[1]") }
            var retired = false
            if pair.count == 3 {
                guard case .int(1) = pair[2] else { throw WireFormatError(field: "\(field()).\(key)[2]", reason: "must be 1 (retired)") }
                retired = true
            }
            out.merge(r, Correction(made: made, lie: lie, retired: retired))
        }
        return out
    }

    /// Decodes a bare page document.
    public static func decodePage(_ bytes: [UInt8]) throws(WireFormatError) -> ChangePage {
        try page(try parse(bytes, ""), "page")
    }

    /// The members of an object, or an error naming `field`.
    public static func object(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(WireFormatError) -> [(String, JSONValue)] {
        guard let value else { throw WireFormatError(field: field(), reason: "missing") }
        guard case .object(let members) = value else { throw WireFormatError(field: field(), reason: "must be an object, not \(typeName(value))") }
        return members
    }

    /// A replica id given as 32 hex digits, or an error naming `field`.
    public static func replicaID(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(WireFormatError) -> ReplicaID {
        guard let value else { throw WireFormatError(field: field(), reason: "missing") }
        guard case .string(let s) = value else { throw WireFormatError(field: field(), reason: "must be a string of 32 hex digits, not \(typeName(value))") }
        guard let id = ReplicaID(hex: s) else { throw WireFormatError(field: field(), reason: "must be 32 hex digits") }
        return id
    }

    /// A clock given as `{"<hex>":counter,...}`: every counter above 0 and at most
    /// `PeerInput.maxCounter`, at most `PeerInput.maxClockEntries` entries, no replica twice.
    public static func clock(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(WireFormatError) -> VectorClock {
        let members = try object(value, field())
        guard members.count <= PeerInput.maxClockEntries else {
            throw WireFormatError(field: field(), reason: "has \(members.count) entries, more than the \(PeerInput.maxClockEntries) accepted")
        }
        var pairs: [(ReplicaID, UInt64)] = []
        pairs.reserveCapacity(members.count)
        var seen = Set<ReplicaID>()
        for (key, v) in members {
            guard let r = ReplicaID(hex: key) else {
                throw WireFormatError(field: "\(field()).\(key)", reason: "a clock key must be a replica id of 32 hex digits")
            }
            guard seen.insert(r).inserted else { throw WireFormatError(field: "\(field()).\(key)", reason: "the replica appears twice") }
            pairs.append((r, try counter(v, "\(field()).\(key)")))
        }
        return VectorClock(pairs)
    }

    /// Decodes a page (see the type's documentation); `field` names it in errors.
    public static func page(_ value: JSONValue?, _ field: @autoclosure () -> String = "page") throws(WireFormatError) -> ChangePage {
        let members = try object(value, field())
        var replicasValue: JSONValue?, recordsValue: JSONValue?, coverageValue: JSONValue?
        var baseValue: JSONValue?, moreValue: JSONValue?, partialValue: JSONValue?
        for (key, v) in members {
            switch key {
            case "replicas": replicasValue = v
            case "records": recordsValue = v
            case "coverage": coverageValue = v
            case "base": baseValue = v
            case "more": moreValue = v
            case "partial": partialValue = v
            default: break
            }
        }
        guard let replicasValue else { throw WireFormatError(field: "\(field()).replicas", reason: "missing") }
        guard case .array(let replicaItems) = replicasValue else {
            throw WireFormatError(field: "\(field()).replicas", reason: "must be an array, not \(typeName(replicasValue))")
        }
        var table: [ReplicaID] = []
        table.reserveCapacity(replicaItems.count)
        var seen = Set<ReplicaID>()
        for (i, item) in replicaItems.enumerated() {
            let r = try replicaID(item, "\(field()).replicas[\(i)]")
            guard seen.insert(r).inserted else {
                throw WireFormatError(field: "\(field()).replicas[\(i)]", reason: "duplicate replica id")
            }
            table.append(r)
        }
        guard let recordsValue else { throw WireFormatError(field: "\(field()).records", reason: "missing") }
        guard case .array(let recordItems) = recordsValue else {
            throw WireFormatError(field: "\(field()).records", reason: "must be an array, not \(typeName(recordsValue))")
        }
        var records: [EncodedRecord] = []
        records.reserveCapacity(recordItems.count)
        for (i, item) in recordItems.enumerated() {
            records.append(EncodedRecord(try record(item, table: table, "\(field()).records[\(i)]")))
        }
        let coverage = try clock(coverageValue, "\(field()).coverage")
        let base = try clock(baseValue, "\(field()).base")
        guard let moreValue else { throw WireFormatError(field: "\(field()).more", reason: "missing") }
        guard case .bool(let more) = moreValue else {
            throw WireFormatError(field: "\(field()).more", reason: "must be true or false, not \(typeName(moreValue))")
        }
        var partial: PartialChange?
        if let partialValue {
            guard let c = try cursor(partialValue, "\(field()).partial") else { throw WireFormatError(field: "\(field()).partial", reason: "missing") }
            guard case .object(let pm) = partialValue, let rv = pm.first(where: { $0.0 == "records" })?.1, case .int(let n) = rv,
                  n >= 1, n <= Int64(records.count) else {
                throw WireFormatError(field: "\(field()).partial.records", reason: "must be 1 to the number of records in the page")
            }
            guard more else { throw WireFormatError(field: "\(field()).partial", reason: "a page that ends inside a change must say more follow") }
            partial = PartialChange(replica: c.replica, counter: c.counter, records: Int(n), after: c.after)
        }
        return ChangePage(records: records, coverage: coverage, more: more, base: base, partial: partial)
    }

    /// Decodes one record whose dots index into `table`.
    ///
    /// JSON objects have no order, so fields and versions may come in any order
    /// (they are sorted); anything else that would make the record ambiguous is
    /// refused: a field or dot given twice, a dot its clock does not cover, no register.
    static func record(_ value: JSONValue, table: [ReplicaID], _ field: @autoclosure () -> String) throws(WireFormatError) -> Record {
        let members = try object(value, field())
        var idValue: JSONValue?, kindValue: JSONValue?, clockValue: JSONValue?
        var deletedValue: JSONValue?, fieldsValue: JSONValue?
        for (key, v) in members {
            switch key {
            case "id": idValue = v
            case "kind": kindValue = v
            case "clock": clockValue = v
            case "deleted": deletedValue = v
            case "fields": fieldsValue = v
            default: break
            }
        }
        guard let idValue else { throw WireFormatError(field: "\(field()).id", reason: "missing") }
        guard case .string(let id) = idValue else {
            throw WireFormatError(field: "\(field()).id", reason: "must be a string, not \(typeName(idValue))")
        }
        guard !id.isEmpty else { throw WireFormatError(field: "\(field()).id", reason: "must not be empty") }
        guard id.utf8.count <= maxIDBytes else {
            throw WireFormatError(field: "\(field()).id", reason: "longer than \(maxIDBytes) bytes")
        }
        guard let kindValue else { throw WireFormatError(field: "\(field()).kind", reason: "missing") }
        guard case .string(let kindName) = kindValue else {
            throw WireFormatError(field: "\(field()).kind", reason: "must be a string, not \(typeName(kindValue))")
        }
        guard let kind = RecordKind(name: kindName) else {
            throw WireFormatError(field: "\(field()).kind", reason: "unknown kind \"\(kindName)\" (expected one of \(RecordKind.allCases.map(\.description).joined(separator: ", ")))")
        }

        guard let clockValue else { throw WireFormatError(field: "\(field()).clock", reason: "missing") }
        guard case .array(let clockItems) = clockValue else {
            throw WireFormatError(field: "\(field()).clock", reason: "must be an array, not \(typeName(clockValue))")
        }
        guard clockItems.count <= PeerInput.maxClockEntries else {
            throw WireFormatError(field: "\(field()).clock", reason: "has \(clockItems.count) entries, more than the \(PeerInput.maxClockEntries) accepted")
        }
        var recordClock = VectorClock()
        for (i, item) in clockItems.enumerated() {
            guard case .array(let pair) = item, pair.count == 2 else {
                throw WireFormatError(field: "\(field()).clock[\(i)]", reason: "must be [replica index, counter]")
            }
            let r = try replicaIndex(pair[0], table: table, "\(field()).clock[\(i)][0]")
            let c = try counter(pair[1], "\(field()).clock[\(i)][1]")
            guard recordClock[r] == 0 else { throw WireFormatError(field: "\(field()).clock[\(i)][0]", reason: "the replica appears twice") }
            recordClock[r] = c
        }
        func covered(_ d: Dot, _ f: @autoclosure () -> String) throws(WireFormatError) {
            guard recordClock.covers(d) else {
                throw WireFormatError(field: f(), reason: "the dot \(d) is not covered by the record's clock")
            }
        }

        guard let deletedValue else { throw WireFormatError(field: "\(field()).deleted", reason: "missing") }
        guard case .array(let deletedItems) = deletedValue else {
            throw WireFormatError(field: "\(field()).deleted", reason: "must be an array, not \(typeName(deletedValue))")
        }
        var deleted: [Version<Bool>] = []
        deleted.reserveCapacity(deletedItems.count)
        for (i, item) in deletedItems.enumerated() {
            guard case .array(let parts) = item, parts.count == 4 else {
                throw WireFormatError(field: "\(field()).deleted[\(i)]", reason: "must be [bool, hlc, replica index, counter]")
            }
            guard case .bool(let flag) = parts[0] else {
                throw WireFormatError(field: "\(field()).deleted[\(i)][0]", reason: "must be true or false, not \(typeName(parts[0]))")
            }
            let h = try hlc(parts[1], "\(field()).deleted[\(i)][1]")
            let d = try dot(parts[2], parts[3], table: table, "\(field()).deleted[\(i)]")
            try covered(d, "\(field()).deleted[\(i)]")
            deleted.append(Version(value: flag, hlc: h, dot: d))
        }
        guard Set(deleted.map(\.dot)).count == deleted.count else {
            throw WireFormatError(field: "\(field()).deleted", reason: "holds one dot twice")
        }

        guard let fieldsValue else { throw WireFormatError(field: "\(field()).fields", reason: "missing") }
        guard case .object(let fieldMembers) = fieldsValue else {
            throw WireFormatError(field: "\(field()).fields", reason: "must be an object, not \(typeName(fieldsValue))")
        }
        var fields: [Field] = []
        fields.reserveCapacity(fieldMembers.count)
        var names = Set<[UInt8]>()
        for (name, v) in fieldMembers {
            guard !name.isEmpty else { throw WireFormatError(field: "\(field()).fields", reason: "a field name must not be empty") }
            guard names.insert(Array(name.utf8)).inserted else {
                throw WireFormatError(field: "\(field()).fields.\(name)", reason: "the field appears twice")
            }
            guard case .array(let items) = v, !items.isEmpty else {
                throw WireFormatError(field: "\(field()).fields.\(name)", reason: "must be a non-empty array, not \(typeName(v))")
            }
            var versions: [Version<String>] = []
            versions.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                guard case .array(let parts) = item, parts.count == 4 else {
                    throw WireFormatError(field: "\(field()).fields.\(name)[\(i)]", reason: "must be [value, hlc, replica index, counter]")
                }
                guard case .string(let s) = parts[0] else {
                    throw WireFormatError(field: "\(field()).fields.\(name)[\(i)][0]", reason: "must be a string, not \(typeName(parts[0]))")
                }
                let h = try hlc(parts[1], "\(field()).fields.\(name)[\(i)][1]")
                let d = try dot(parts[2], parts[3], table: table, "\(field()).fields.\(name)[\(i)]")
                try covered(d, "\(field()).fields.\(name)[\(i)]")
                versions.append(Version(value: s, hlc: h, dot: d))
            }
            guard Set(versions.map(\.dot)).count == versions.count else {
                throw WireFormatError(field: "\(field()).fields.\(name)", reason: "holds one dot twice")
            }
            fields.append(Field(name: name, register: Register(versions: versions)))
        }
        guard !fields.isEmpty || !deleted.isEmpty else {
            throw WireFormatError(field: field(), reason: "holds no register (no field and no delete flag)")
        }
        return Record(id: id, kind: kind, fields: fields, deleted: Register(versions: deleted), clock: recordClock)
    }

    @inline(__always)
    static func counter(_ value: JSONValue, _ field: @autoclosure () -> String) throws(WireFormatError) -> UInt64 {
        guard case .int(let c) = value else {
            throw WireFormatError(field: field(), reason: "a counter must be an integer, not \(typeName(value))")
        }
        guard c > 0 else { throw WireFormatError(field: field(), reason: "a counter must be greater than 0") }
        guard UInt64(c) <= PeerInput.maxCounter else {
            throw WireFormatError(field: field(), reason: "counter \(c) is above the largest accepted, \(PeerInput.maxCounter)")
        }
        return UInt64(c)
    }

    @inline(__always)
    static func hlc(_ value: JSONValue, _ field: @autoclosure () -> String) throws(WireFormatError) -> HLC {
        guard case .int(let h) = value, h >= 0 else {
            throw WireFormatError(field: field(), reason: "a timestamp must be a non-negative integer")
        }
        return HLC(rawValue: UInt64(h))
    }

    @inline(__always)
    static func replicaIndex(_ value: JSONValue, table: [ReplicaID], _ field: @autoclosure () -> String) throws(WireFormatError) -> ReplicaID {
        guard case .int(let i) = value else {
            throw WireFormatError(field: field(), reason: "a replica index must be an integer, not \(typeName(value))")
        }
        guard i >= 0, i < table.count else {
            throw WireFormatError(field: field(), reason: "replica index \(i) out of range (the page's table has \(table.count))")
        }
        return table[Int(i)]
    }

    @inline(__always)
    static func dot(_ index: JSONValue, _ counter: JSONValue, table: [ReplicaID], _ field: @autoclosure () -> String) throws(WireFormatError) -> Dot {
        Dot(replica: try replicaIndex(index, table: table, "\(field())[2]"),
            counter: try self.counter(counter, "\(field())[3]"))
    }

    /// A word for a JSON value's type, for error messages.
    public static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
