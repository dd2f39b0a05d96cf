import Foundation
import Replica

/// What the domain says a record of one kind must be (SPEC §1: ids, tokens, names,
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
    /// Checks the id of a record of that kind (cheap: the record is not decoded for it).
    public let checkID: @Sendable (String) -> Violation?
    /// Checks the whole record (every version of its fields, not only the visible ones: any of
    /// them may become visible), if the kind needs it; the record is decoded for it.
    public let check: (@Sendable (Record) -> Violation?)?

    /// A rule for `kind`.
    public init(kind: RecordKind, id checkID: @escaping @Sendable (String) -> Violation? = { _ in nil },
                record check: (@Sendable (Record) -> Violation?)? = nil) {
        self.kind = kind
        self.checkID = checkID
        self.check = check
    }

    /// Whether an id holds a control character (C0, DEL, C1): no record id of any kind may.
    public static func hasControlCharacter(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value <= 0x9F) }
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
        func refuse(_ field: String, _ reason: String) -> PeerInputError {
            PeerInputError(field: "page.records[\(index)]\(field)", reason: reason)
        }
        if RecordRule.hasControlCharacter(r.id) { throw refuse(".id", "a record id must not contain control characters") }
        guard let rules = recordRules, let rule = rules[kind.rawValue] else { return }
        if let v = rule.checkID(r.id) { throw refuse(".id", "\(v.reason) (record \(r.id), a \(kind))") }
        guard let check = rule.check else { return }
        let record: Record
        do { record = try r.decoded() } catch { throw refuse("", "not a canonical record encoding: \(error.description)") }
        if let v = check(record) {
            throw refuse(v.field == "id" ? ".id" : ".fields.\(v.field)", "\(v.reason) (record \(r.id), a \(kind))")
        }
    }
}
