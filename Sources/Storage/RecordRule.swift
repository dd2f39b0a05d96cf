import Foundation
import Replica

/// What the domain says a record of one kind must be (SetupLinks.docc/RecordRules.md: ids, tokens, names,
/// URLs), checked on every record a peer sends, in both directions, before anything
/// is stored. Storage knows no field by name: the domain installs its rules
/// (`ReplicaStore.installRules`), as it installs its indexes.
public struct RecordRule: Sendable {
    /// A field of a record that breaks a rule, and why.
    public struct Violation: Error, Sendable, Equatable {
        /// The field (`id`, or a field name).
        public var field: String
        /// What is wrong with it.
        public var reason: String

        /// A violation.
        public init(field: String, reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    /// The kind the rule is about.
    public let kind: RecordKind
    /// Checks the id of a record of that kind (cheap: the record is not read for it).
    public let checkID: @Sendable (String) -> Violation?
    /// Checks the record's fields (every version of them, not only the visible ones: any of
    /// them may become visible), if the kind needs it, from its encoding (`RecordView`).
    public let check: (@Sendable (borrowing RecordView) -> Violation?)?

    /// A rule for `kind`.
    public init(kind: RecordKind, id checkID: @escaping @Sendable (String) -> Violation? = { _ in nil },
                record check: (@Sendable (borrowing RecordView) -> Violation?)? = nil) {
        self.kind = kind
        self.checkID = checkID
        self.check = check
    }

    /// Whether an id holds a control character (C0, DEL, C1): no record id of any kind may.
    public static func hasControlCharacter(_ s: String) -> Bool {
        // C1 characters are U+0080…U+009F, 0xC2 0x80…0x9F in UTF-8.
        var previous: UInt8 = 0
        for b in s.utf8 {
            if b < 0x20 || b == 0x7F || (previous == 0xC2 && (0x80...0x9F).contains(b)) { return true }
            previous = b
        }
        return false
    }
}

extension ReplicaStore {
    /// Installs the domain's rules; every record a peer sends is checked against the rule of
    /// its kind (and no record id may hold a control character), and a page with one that breaks
    /// them is refused whole, naming the record and the field (`PeerInputError`).
    public func installRules(_ rules: [RecordRule]) {
        lock.withLock {
            var byKind: [UInt8: RecordRule] = [:]
            for r in rules { byKind[r.kind.rawValue] = r }
            recordRules = byKind
        }
    }

    /// Checks one record of a peer's page against the installed rules (in the caller's transaction).
    func checkRules(_ r: EncodedRecord, kind: RecordKind, at index: Int) throws {
        if let v = RecordRule.violation(of: r, kind: kind, rules: recordRules ?? [:]) { throw RecordRule.refusal(v, at: index) }
    }
}

extension RecordRule {
    /// What is wrong with `r` under `rules` (and the id rule every kind has), or `nil`. The
    /// field is `id`, or `fields.<name>`, or empty for an encoding that does not decode.
    ///
    /// `values`, when given, are the record's field versions as `RecordFacts` read them (the
    /// merge's one walk of each record collects them: `valueKinds`); otherwise they are read here.
    public static func violation(of r: EncodedRecord, kind: RecordKind, rules: [UInt8: RecordRule],
                                 values: [(name: Range<Int>, value: Range<Int>)]? = nil) -> Violation? {
        if hasControlCharacter(r.id) { return Violation(field: "id", reason: "a record id must not contain control characters") }
        guard let rule = rules[kind.rawValue] else { return nil }
        if let v = rule.checkID(r.id) { return Violation(field: "id", reason: "\(v.reason) (record \(r.id), a \(kind))") }
        guard let check = rule.check else { return nil }
        let verdict: Result<Violation?, RecordDecodingError> = r.bytes.withUnsafeBytes { raw in
            if let values { return .success(check(RecordView(id: r.id, bytes: raw, values: values))) }
            var collect = ValueCollector(base: raw.baseAddress)
            do throws(RecordDecodingError) { try walkEncodedRecord(raw, &collect) } catch { return .failure(error) }
            return .success(check(RecordView(id: r.id, bytes: raw, values: collect.values)))
        }
        switch verdict {
        case .failure(let e): return Violation(field: "", reason: "not a canonical record encoding: \(e.description)")
        case .success(nil): return nil
        case .success(let v?):
            return Violation(field: v.field == "id" ? "id" : "fields.\(v.field)", reason: "\(v.reason) (record \(r.id), a \(kind))")
        }
    }

    /// A violation as the refusal of the page's `index`th record.
    static func refusal(_ v: Violation, at index: Int) -> PeerInputError {
        PeerInputError(field: "page.records[\(index)]" + (v.field.isEmpty ? "" : "." + v.field), reason: v.reason)
    }
}

/// The kinds `rules` reads the fields of, as `RecordFacts`'s `valuesOf` mask.
func valueKinds(_ rules: [UInt8: RecordRule]?) -> UInt64 {
    (rules ?? [:]).values.reduce(0) { $1.check == nil ? $0 : $0 | (1 << UInt64($1.kind.rawValue)) }
}

/// A record's fields as a rule reads them: every version's value, as the bytes of the
/// encoding (no string or array per field is made unless a rule asks for one).
public struct RecordView: ~Copyable {
    /// The record id.
    public let id: String
    let bytes: UnsafeRawBufferPointer
    /// (field name range, value range) of every version, in the encoding's order (fields sorted by name).
    let values: [(name: Range<Int>, value: Range<Int>)]

    /// Whether the record holds any field.
    public var hasFields: Bool { !values.isEmpty }

    /// Calls `body` with the name and value of every version, in the encoding's order (fields
    /// sorted by name, versions by dot), until it returns a violation.
    public func first<T>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> T?) -> T? {
        for v in values {
            if let t = body(UnsafeRawBufferPointer(rebasing: bytes[v.name]), UnsafeRawBufferPointer(rebasing: bytes[v.value])) { return t }
        }
        return nil
    }

    /// Every version of field `name`, as bytes.
    public func values(_ name: StaticString) -> [UnsafeRawBufferPointer] {
        let n = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return values.filter { equal($0.name, n) }.map { UnsafeRawBufferPointer(rebasing: bytes[$0.value]) }
    }

    /// The first version of `name` as text, or `nil` when the field is absent.
    public func text(_ name: StaticString) -> String? {
        values(name).first.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The names of the fields held, as text.
    public var fieldNames: [String] {
        var out: [String] = []
        var last: Range<Int>?
        for v in values where v.name != last {
            out.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[v.name]), as: UTF8.self))
            last = v.name
        }
        return out
    }

    /// Every version of the field named `name` (a name read from `fieldNames`).
    public func values(named name: String) -> [UnsafeRawBufferPointer] {
        var name = name
        return name.withUTF8 { n in
            values.filter { equal($0.name, UnsafeRawBufferPointer(n)) }.map { UnsafeRawBufferPointer(rebasing: bytes[$0.value]) }
        }
    }

    private func equal(_ r: Range<Int>, _ n: UnsafeRawBufferPointer) -> Bool {
        r.count == n.count && (n.isEmpty || memcmp(bytes.baseAddress! + r.lowerBound, n.baseAddress!, n.count) == 0)
    }
}

/// Collects the byte ranges of every field version during a walk.
private struct ValueCollector: EncodedRecordVisitor {
    let base: UnsafeRawPointer?
    var values: [(name: Range<Int>, value: Range<Int>)] = []
    var name: Range<Int> = 0..<0

    mutating func kind(_ kind: RecordKind) {}
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) {}
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
    mutating func field(_ n: UnsafeRawBufferPointer) {
        let at = n.baseAddress.map { $0 - base! } ?? 0
        name = at..<(at + n.count)
    }
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {
        let at = value.baseAddress.map { $0 - base! } ?? 0
        values.append((name, at..<(at + value.count)))
    }
}
