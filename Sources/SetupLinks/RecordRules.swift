import Crypto
import Dates
import Foundation
import Replica
import Storage

/// What each kind of record must be (SPEC §1), checked on every record a peer sends
/// (`ReplicaStore.installRules`): a link's id is the one its tenant and product
/// derive, its token 48 hex digits, its URLs absolute http(s); a directory's id a
/// UUID, its type one of the six; SCIM records' ids UUIDs; member records' ids
/// replica ids. Every version of a field is checked, not only the visible one (a
/// losing version may become visible). A record that breaks them refuses its page
/// with a 422 naming the record and the field.
///
/// Fields may be absent (a record state need not hold every field), but a link that
/// holds any field holds its tenant and product, which its id is checked against.
public enum RecordRules {
    /// The rules of every kind the flows write.
    public static let all: [RecordRule] = [
        RecordRule(kind: .link, id: hex(32), record: link),
        RecordRule(kind: .directory, id: uuid, record: directory),
        RecordRule(kind: .user, id: uuid, record: nil),
        RecordRule(kind: .group, id: uuid, record: nil),
        RecordRule(kind: .membership, id: uuid, record: nil),
        RecordRule(kind: .replica, id: hex(32), record: member),
        RecordRule(kind: .retiredToken, id: { RetiredToken.isID($0) ? nil : .init(field: "id", reason: "must be token: and 64 hex digits") },
                   record: nil),
    ]

    typealias Violation = RecordRule.Violation

    /// An id of `count` lowercase hex digits.
    static func hex(_ count: Int) -> @Sendable (String) -> Violation? {
        { id in isHex(id, count) ? nil : Violation(field: "id", reason: "must be \(count) lowercase hex digits") }
    }

    static func isHex(_ s: String, _ count: Int) -> Bool {
        s.utf8.count == count && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// A lowercase UUID (8-4-4-4-12 hex digits).
    static func isUUID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !((48...57).contains(c) || (97...102).contains(c)) {
                return false
            }
        }
        return true
    }

    static let uuid: @Sendable (String) -> Violation? = { id in
        isUUID(id) ? nil : Violation(field: "id", reason: "must be a lowercase UUID")
    }

    /// Every version of `name` in `r`.
    static func values(_ r: Record, _ name: String) -> [String] { r.register(name)?.versions.map(\.value) ?? [] }

    /// The first version of `name` that `ok` refuses, as a violation.
    static func each(_ r: Record, _ name: String, _ reason: String, _ ok: (String) -> Bool) -> Violation? {
        values(r, name).contains { !ok($0) } ? Violation(field: name, reason: reason) : nil
    }

    static func hasControl(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// Tenant and product as the flows store them: trimmed, 1–256 characters, no `:`, no control characters.
    static func isTenantOrProduct(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 256 && s == Validation.trimmed(s) && !s.contains(":") && !hasControl(s)
    }

    /// A stored name: empty (none given) or 1–256 characters without control characters.
    static func isName(_ s: String, emptyAllowed: Bool) -> Bool {
        (s.isEmpty && emptyAllowed) || (!s.isEmpty && s.count <= 256 && !hasControl(s))
    }

    static func isSecret(_ s: String) -> Bool { !s.isEmpty && s.count <= 1024 && !hasControl(s) }

    /// Tenant and product: one value each, valid, and the id they derive is the record's.
    static func tenantAndProduct(_ r: Record, derive: ((String, String) -> String)?) -> Violation? {
        for f in ["tenant", "product"] {
            let v = values(r, f)
            guard let first = v.first else { return Violation(field: f, reason: "is missing") }
            guard isTenantOrProduct(first) else { return Violation(field: f, reason: "must be 1 to 256 characters, with no ':' and no control characters") }
            // A link's tenant and product never change: its id is derived from them.
            guard v.allSatisfy({ $0 == first }) else { return Violation(field: f, reason: "holds two different values") }
        }
        if let derive, derive(r["tenant"]!, r["product"]!) != r.id {
            return Violation(field: "id", reason: "is not the id its tenant and product derive")
        }
        return nil
    }

    static let link: @Sendable (Record) -> Violation? = { r in
        if r.fields.isEmpty { return nil }
        if let v = tenantAndProduct(r, derive: SetupLinkService.linkID) { return v }
        return each(r, "token", "must be 48 lowercase hex digits") { isHex($0, 48) }
            ?? each(r, "webhook_url", "must be an absolute http(s) URL") { Validation.isHTTPURL($0) && !hasControl($0) }
            ?? each(r, "webhook_secret", "must be 1 to 1024 characters without control characters", isSecret)
            ?? each(r, "name", "must be at most 256 characters without control characters") { isName($0, emptyAllowed: true) }
            ?? each(r, "valid_till", "must be an ISO 8601 time") { DateTime.date($0) != nil }
            ?? each(r, "expiry_days", "must be a whole number of days from 1 to 3650") { Int($0).map { (1...3650).contains($0) } ?? false }
            ?? each(r, "service", "must be \(SetupLinkService.service)") { $0 == SetupLinkService.service }
    }

    static let directory: @Sendable (Record) -> Violation? = { r in
        if r.fields.isEmpty { return nil }
        if let v = tenantAndProduct(r, derive: nil) { return v }
        let types = Set(DirectoryType.allCases.map(\.rawValue))
        return each(r, "name", "must be 1 to 256 characters without control characters") { isName($0, emptyAllowed: false) }
            ?? each(r, "type", "must be one of \(DirectoryType.allCases.map(\.rawValue).joined(separator: ", "))") { types.contains($0) }
            ?? each(r, "scim_path", "must be /api/scim/v2.0/<the directory's id>, or empty") { $0.isEmpty || $0 == "/api/scim/v2.0/" + r.id }
            ?? each(r, "scim_token", "must be 22 base64url characters, or empty") { t in
                t.isEmpty || (t.utf8.count == 22 && t.utf8.allSatisfy { c in
                    (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) || c == 45 || c == 95
                })
            }
            ?? each(r, "webhook_url", "must be an absolute http(s) URL") { Validation.isHTTPURL($0) && !hasControl($0) }
            ?? each(r, "webhook_secret", "must be 1 to 1024 characters without control characters", isSecret)
            ?? each(r, "deactivated", "must be true or false") { $0 == "true" || $0 == "false" }
            ?? each(r, "link_id", "must be 32 lowercase hex digits") { isHex($0, 32) }
    }

    static let member: @Sendable (Record) -> Violation? = { r in
        for f in r.fields {
            if f.name.hasPrefix("intro.") {
                guard isHex(String(f.name.dropFirst(6)), 32) else { return Violation(field: f.name, reason: "must name a replica id") }
            } else if f.name == "acked" {
                if let v = each(r, "acked", "must be a clock", { VectorClock(encoded: $0) != nil }) { return v }
            } else if f.name == "retired" {
                if let v = each(r, "retired", "must be a counter", { UInt64($0) != nil }) { return v }
            }
        }
        return nil
    }
}

/// A setup-link token that was regenerated or deleted (record kind `retiredToken`):
/// kept for ever, so no copy of it opens a setup page again, whatever peers sent
/// (SPEC §2: a regenerate or delete kills every copy of the old token).
public enum RetiredToken {
    /// The record id of a retired token: `token:` and the SHA-256 of the lowercased token (the token itself is not stored).
    public static func id(_ token: String) -> String { "token:" + SHA256Hasher.hex(of: token.lowercased()) }

    /// Whether `s` is such an id.
    static func isID(_ s: String) -> Bool { s.hasPrefix("token:") && RecordRules.isHex(String(s.dropFirst(6)), 64) }
}
