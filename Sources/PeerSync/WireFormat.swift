import JSON
import Replica
import Storage

/// Why a peer-protocol JSON document was refused: the field at fault and what is wrong with it.
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

/// The JSON encoding of the peer protocol's pages, clocks and records.
///
/// A page carries one replica table, `"replicas":["<32 hex>",...]`, and every
/// dot in it names its replica by index into that table, so a 32-digit id is
/// written once per page rather than once per value:
///
/// ```
/// {"replicas":["<hex>",...],
///  "records":[{"id":"…","kind":"link"|"directory",
///              "clock":[[ri,counter],...],
///              "deleted":[[bool,hlc,ri,counter],...],
///              "fields":{"name":[[value,hlc,ri,counter],...],...}}, ...],
///  "coverage":{"<hex>":counter,...},"base":{"<hex>":counter,...},"more":bool}
/// ```
///
/// `hlc` is the packed hybrid logical timestamp as an integer. Decoding checks
/// every type, index and counter and names the field at fault; unknown
/// members are ignored so a later version may add some.
public enum WireFormat {
    /// The longest record id accepted, in UTF-8 bytes.
    public static let maxIDBytes = 256

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

    /// Writes a page of stored encodings as one JSON object, the same document
    /// `writePage` produces for the decoded records, without decoding them.
    public static func writePage(_ page: ReplicaStore.EncodedChanges, into w: inout JSONWriter) throws {
        var collect = ReplicaTableCollector()
        for r in page.records { try r.body.withUnsafeBytes { try walkEncodedRecord($0, &collect) } }
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
            try r.body.withUnsafeBytes { try walkEncodedRecord($0, &emit) }
            emit.end()
        }
        w = emit.writer
        w.endArray()
        w.key("coverage")
        writeClock(page.coverage, into: &w)
        w.key("base")
        writeClock(page.base, into: &w)
        w.key("more")
        w.bool(page.more)
        w.endObject()
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
        mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
        mutating func field(_ name: UnsafeRawBufferPointer) {}
        mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
    }

    /// Writes one record's JSON from its encoding, mapping clock indexes to the page's table.
    struct RecordEmitter: EncodedRecordVisitor {
        var writer: JSONWriter
        let table: [ReplicaID: Int]
        var local: [Int] = []
        var stage = 0  // 0 clock, 1 deleted, 2 fields
        var inField = false

        mutating func begin(id: String) {
            local.removeAll(keepingCapacity: true)
            stage = 0
            inField = false
            writer.beginObject()
            writer.key("id")
            writer.string(id)
        }

        mutating func advance(to s: Int) {
            if stage == 0 && s >= 1 {
                writer.endArray()
                writer.key("deleted")
                writer.beginArray()
                stage = 1
            }
            if stage == 1 && s >= 2 {
                writer.endArray()
                writer.key("fields")
                writer.beginObject()
                stage = 2
            }
        }

        mutating func end() {
            advance(to: 2)
            if inField { writer.endArray() }
            writer.endObject()
            writer.endObject()
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

        mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
            advance(to: 1)
            writer.beginArray()
            writer.bool(value)
            writer.uint(hlc)
            writer.int(Int64(local[clockIndex]))
            writer.uint(counter)
            writer.endArray()
        }

        mutating func field(_ name: UnsafeRawBufferPointer) {
            advance(to: 2)
            if inField { writer.endArray() }
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
    }

    /// Writes a page as one JSON object (see the type's documentation).
    public static func writePage(_ page: ChangePage, into w: inout JSONWriter) {
        var table: [ReplicaID: Int] = [:]
        var order: [ReplicaID] = []
        @inline(__always) func intern(_ r: ReplicaID) {
            if table[r] == nil {
                table[r] = order.count
                order.append(r)
            }
        }
        for r in page.records {
            for e in r.clock.entries { intern(e.replica) }
            for v in r.deletedRegister.versions { intern(v.dot.replica) }
            for f in r.fields { for v in f.register.versions { intern(v.dot.replica) } }
        }
        w.beginObject()
        w.key("replicas")
        w.beginArray()
        for r in order { w.string(r.hex) }
        w.endArray()
        w.key("records")
        w.beginArray()
        for r in page.records {
            w.beginObject()
            w.key("id")
            w.string(r.id)
            w.key("kind")
            w.string(r.kind.description)
            w.key("clock")
            w.beginArray()
            for e in r.clock.entries {
                w.beginArray()
                w.int(Int64(table[e.replica]!))
                w.uint(e.counter)
                w.endArray()
            }
            w.endArray()
            w.key("deleted")
            w.beginArray()
            for v in r.deletedRegister.versions {
                w.beginArray()
                w.bool(v.value)
                w.uint(v.hlc.rawValue)
                w.int(Int64(table[v.dot.replica]!))
                w.uint(v.dot.counter)
                w.endArray()
            }
            w.endArray()
            w.key("fields")
            w.beginObject()
            for f in r.fields {
                w.key(f.name)
                w.beginArray()
                for v in f.register.versions {
                    w.beginArray()
                    w.string(v.value)
                    w.uint(v.hlc.rawValue)
                    w.int(Int64(table[v.dot.replica]!))
                    w.uint(v.dot.counter)
                    w.endArray()
                }
                w.endArray()
            }
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.key("coverage")
        writeClock(page.coverage, into: &w)
        w.key("base")
        writeClock(page.base, into: &w)
        w.key("more")
        w.bool(page.more)
        w.endObject()
    }

    /// A page encoded alone, as bytes.
    public static func encode(_ page: ChangePage) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + page.records.count * 256)
        writePage(page, into: &w)
        return w.bytes
    }

    // MARK: Decoding

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

    /// A clock given as `{"<hex>":counter,...}` with every counter > 0, or an error naming `field`.
    public static func clock(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(WireFormatError) -> VectorClock {
        let members = try object(value, field())
        var pairs: [(ReplicaID, UInt64)] = []
        pairs.reserveCapacity(members.count)
        for (key, v) in members {
            guard let r = ReplicaID(hex: key) else {
                throw WireFormatError(field: "\(field()).\(key)", reason: "a clock key must be a replica id of 32 hex digits")
            }
            pairs.append((r, try counter(v, "\(field()).\(key)")))
        }
        return VectorClock(pairs)
    }

    /// Decodes a page (see the type's documentation); `field` names it in errors.
    public static func page(_ value: JSONValue?, _ field: @autoclosure () -> String = "page") throws(WireFormatError) -> ChangePage {
        let members = try object(value, field())
        var replicasValue: JSONValue?, recordsValue: JSONValue?, coverageValue: JSONValue?
        var baseValue: JSONValue?, moreValue: JSONValue?
        for (key, v) in members {
            switch key {
            case "replicas": replicasValue = v
            case "records": recordsValue = v
            case "coverage": coverageValue = v
            case "base": baseValue = v
            case "more": moreValue = v
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
        var records: [Record] = []
        records.reserveCapacity(recordItems.count)
        for (i, item) in recordItems.enumerated() {
            records.append(try record(item, table: table, "\(field()).records[\(i)]"))
        }
        let coverage = try clock(coverageValue, "\(field()).coverage")
        let base = try clock(baseValue, "\(field()).base")
        guard let moreValue else { throw WireFormatError(field: "\(field()).more", reason: "missing") }
        guard case .bool(let more) = moreValue else {
            throw WireFormatError(field: "\(field()).more", reason: "must be true or false, not \(typeName(moreValue))")
        }
        return ChangePage(records: records, coverage: coverage, more: more, base: base)
    }

    /// Decodes a bare page document into prepared records through the one-pass
    /// reader, falling back to the strict decoder.
    public static func decodePreparedPage(_ bytes: [UInt8]) throws(WireFormatError) -> PreparedPage {
        let fast: PreparedPage? = bytes.withUnsafeBytes { raw in
            var r = FastPageReader(raw)
            guard let p = try? r.page() else { return nil }
            r.ws()
            return r.at == raw.count ? p : nil
        }
        if let fast { return fast }
        return PreparedPage(try decodePage(bytes))
    }

    /// Decodes a page from bytes.
    public static func decodePage(_ bytes: [UInt8]) throws(WireFormatError) -> ChangePage {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw WireFormatError(field: "", reason: error.description) }
        return try page(value, "page")
    }

    /// Decodes one record whose dots index into `table`.
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
        // Built entry by entry: records carry one or two entries, and this avoids
        // the dictionary that `VectorClock(pairs)` sets up.
        var recordClock = VectorClock()
        for (i, item) in clockItems.enumerated() {
            guard case .array(let pair) = item, pair.count == 2 else {
                throw WireFormatError(field: "\(field()).clock[\(i)]", reason: "must be [replica index, counter]")
            }
            let r = try replicaIndex(pair[0], table: table, "\(field()).clock[\(i)][0]")
            let c = try counter(pair[1], "\(field()).clock[\(i)][1]")
            if recordClock[r] < c { recordClock[r] = c }
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
            deleted.append(Version(value: flag, hlc: try hlc(parts[1], "\(field()).deleted[\(i)][1]"),
                                   dot: try dot(parts[2], parts[3], table: table, "\(field()).deleted[\(i)]")))
        }

        guard let fieldsValue else { throw WireFormatError(field: "\(field()).fields", reason: "missing") }
        guard case .object(let fieldMembers) = fieldsValue else {
            throw WireFormatError(field: "\(field()).fields", reason: "must be an object, not \(typeName(fieldsValue))")
        }
        var fields: [Field] = []
        fields.reserveCapacity(fieldMembers.count)
        for (name, v) in fieldMembers {
            guard !name.isEmpty else { throw WireFormatError(field: "\(field()).fields", reason: "a field name must not be empty") }
            guard case .array(let items) = v else {
                throw WireFormatError(field: "\(field()).fields.\(name)", reason: "must be an array, not \(typeName(v))")
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
                versions.append(Version(value: s, hlc: try hlc(parts[1], "\(field()).fields.\(name)[\(i)][1]"),
                                        dot: try dot(parts[2], parts[3], table: table, "\(field()).fields.\(name)[\(i)]")))
            }
            fields.append(Field(name: name, register: Register(versions: versions)))
        }
        return Record(id: id, kind: kind, fields: fields, deleted: Register(versions: deleted), clock: recordClock)
    }

    @inline(__always)
    static func counter(_ value: JSONValue, _ field: @autoclosure () -> String) throws(WireFormatError) -> UInt64 {
        guard case .int(let c) = value else {
            throw WireFormatError(field: field(), reason: "a counter must be an integer, not \(typeName(value))")
        }
        guard c > 0 else { throw WireFormatError(field: field(), reason: "a counter must be greater than 0") }
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
