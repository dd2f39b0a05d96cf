import Crypto
import Dates
import Foundation
import JSON
import Replica
import Storage

/// What each kind of record must be (SetupLinks.docc/RecordRules.md), checked on every record a peer sends
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
        RecordRule(kind: .event, id: { EventRecords.isID($0) ? nil : .init(field: "id", reason: "must be <replica>-<counter>-<n> in hex (32-16-8 digits)") },
                   record: event),
        RecordRule(kind: .apiKey, id: { ApiKeys.isID($0) ? nil : .init(field: "id", reason: "must be apikey: and 64 hex digits") },
                   record: apiKey),
    ]

    typealias Violation = RecordRule.Violation

    /// An id of `count` lowercase hex digits.
    static func hex(_ count: Int) -> @Sendable (String) -> Violation? {
        { id in isHexString(id, count) ? nil : Violation(field: "id", reason: "must be \(count) lowercase hex digits") }
    }

    static func isHexString(_ s: String, _ count: Int) -> Bool {
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

    // The checks below run on every record a peer sends (a sync of 100,000 links checks
    // 100,000), on the bytes of its encoding: ASCII, the common case, is read byte by byte;
    // anything else is made a `String` and goes through the same Unicode rules as `Validation`.

    typealias Bytes = UnsafeRawBufferPointer

    static func isASCII(_ b: Bytes) -> Bool { b.allSatisfy { $0 < 0x80 } }
    static func string(_ b: Bytes) -> String { String(decoding: b, as: UTF8.self) }

    static func hasControl(_ b: Bytes) -> Bool {
        if isASCII(b) { return b.contains { $0 < 0x20 || $0 == 0x7F } }
        return string(b).unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// At most `n` characters (`Character`s, as `Validation` counts them).
    static func atMost(_ b: Bytes, _ n: Int) -> Bool { b.count <= n || string(b).count <= n }

    /// No blank or line break at either end (as `Validation.trimmed` would leave it).
    static func isTrimmed(_ b: Bytes) -> Bool {
        if isASCII(b) {
            func blank(_ c: UInt8?) -> Bool { c.map { $0 == 0x20 || (0x09...0x0D).contains($0) } ?? false }
            return !blank(b.first) && !blank(b.last)
        }
        let s = string(b)
        return s == Validation.trimmed(s)
    }

    static func isHex(_ b: Bytes, _ count: Int) -> Bool {
        b.count == count && b.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Tenant and product as the flows store them: trimmed, 1–256 characters, no `:`, no control characters.
    static func isTenantOrProduct(_ b: Bytes) -> Bool {
        !b.isEmpty && atMost(b, 256) && isTrimmed(b) && !b.contains(UInt8(ascii: ":")) && !hasControl(b)
    }

    /// A stored name: empty (none given) or 1–256 characters without control characters.
    static func isName(_ b: Bytes, emptyAllowed: Bool) -> Bool {
        (b.isEmpty && emptyAllowed) || (!b.isEmpty && atMost(b, 256) && !hasControl(b))
    }

    static func isSecret(_ b: Bytes) -> Bool { !b.isEmpty && atMost(b, 1024) && !hasControl(b) }

    /// An absolute http(s) URL with a host and no blank or control character: every URL
    /// `Validation.isHTTPURL` accepts passes (`URLComponents` per record cost more than the merge).
    static func isHTTPURL(_ b: Bytes) -> Bool {
        for scheme in ["https://", "http://"] where b.count > scheme.utf8.count {
            guard zip(b, scheme.utf8).allSatisfy({ $0 | 0x20 == $1 || $0 == $1 }) else { continue }
            let first = b[scheme.utf8.count]
            guard first != UInt8(ascii: "/"), first != UInt8(ascii: "?"), first != UInt8(ascii: "#") else { return false }
            return b.allSatisfy { $0 > 0x20 && $0 != 0x7F } && (isASCII(b) || !hasControl(b))
        }
        return false
    }

    /// Whether `b` is the bytes of `s`.
    @inline(__always) static func `is`(_ b: Bytes, _ s: StaticString) -> Bool {
        b.count == s.utf8CodeUnitCount && (b.isEmpty || memcmp(b.baseAddress!, s.utf8Start, b.count) == 0)
    }

    /// One rule per field name: the reason a value is refused, or `nil` when it passes.
    typealias FieldCheck = (name: StaticString, reason: String, ok: @Sendable (Bytes) -> Bool)

    /// Checks every version of every field in one pass: tenant and product (one value each,
    /// valid; with `derive`, the id they derive must be the record's), then `checks` by name.
    static func check(_ r: borrowing RecordView, derive: ((String, String) -> String)?, _ checks: [FieldCheck]) -> Violation? {
        guard r.hasFields else { return nil }
        var tenant: Bytes?, product: Bytes?
        let found: Violation? = r.first { name, value in
            for (field, slot) in [("tenant", 0), ("product", 1)] as [(StaticString, Int)] where Self.is(name, field) {
                let seen = slot == 0 ? tenant : product
                if let seen {
                    return seen.elementsEqual(value) ? nil : Violation(field: "\(field)", reason: "holds two different values")
                }
                guard isTenantOrProduct(value) else {
                    return Violation(field: "\(field)", reason: "must be 1 to 256 characters, with no ':' and no control characters")
                }
                if slot == 0 { tenant = value } else { product = value }
                return nil
            }
            for c in checks where Self.is(name, c.name) { return c.ok(value) ? nil : Violation(field: "\(c.name)", reason: c.reason) }
            return nil
        }
        if let found { return found }
        guard let tenant else { return Violation(field: "tenant", reason: "is missing") }
        guard let product else { return Violation(field: "product", reason: "is missing") }
        // A link's tenant and product never change: its id is derived from them.
        if let derive, derive(string(tenant), string(product)) != r.id {
            return Violation(field: "id", reason: "is not the id its tenant and product derive")
        }
        return nil
    }

    static let linkChecks: [FieldCheck] = [
        ("token", "must be 48 lowercase hex digits", { isHex($0, 48) }),
        ("webhook_url", "must be an absolute http(s) URL", isHTTPURL),
        ("webhook_secret", "must be 1 to 1024 characters without control characters", isSecret),
        ("name", "must be at most 256 characters without control characters", { isName($0, emptyAllowed: true) }),
        ("valid_till", "must be an ISO 8601 time", { DateTime.date(string($0)) != nil }),
        ("expiry_days", "must be a whole number of days from 1 to 3650", { Int(string($0)).map { (1...3650).contains($0) } ?? false }),
        ("service", "must be dsync", { Self.is($0, "dsync") }),
    ]

    static let link: @Sendable (borrowing RecordView) -> Violation? = { r in check(r, derive: SetupLinkService.linkID, linkChecks) }

    static let types = DirectoryType.allCases.map { Array($0.rawValue.utf8) }

    static let directoryChecks: [FieldCheck] = [
        ("name", "must be 1 to 256 characters without control characters", { isName($0, emptyAllowed: false) }),
        ("type", "must be one of \(DirectoryType.allCases.map(\.rawValue).joined(separator: ", "))", { t in types.contains { t.elementsEqual($0) } }),
        ("scim_token", "must be 22 base64url characters, or empty", { t in
            t.isEmpty || (t.count == 22 && t.allSatisfy { c in
                (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) || c == 45 || c == 95
            })
        }),
        // Empty: a directory made through the app API without a webhook (its events are in the feed only).
        ("webhook_url", "must be an absolute http(s) URL, or empty", { $0.isEmpty || isHTTPURL($0) }),
        ("webhook_secret", "must be 1 to 1024 characters without control characters, or empty", { $0.isEmpty || isSecret($0) }),
        ("deactivated", "must be true or false", { Self.is($0, "true") || Self.is($0, "false") }),
        ("log_webhook_events", "must be true or false", { Self.is($0, "true") || Self.is($0, "false") }),
        // Empty: made through the app API, not through a setup link.
        ("link_id", "must be 32 lowercase hex digits, or empty", { $0.isEmpty || isHex($0, 32) }),
        ("created", "must be an ISO 8601 time", { DateTime.date(string($0)) != nil }),
        // A Google directory's authorization (GoogleSync.docc/GoogleWorkspace.md); never its tokens.
        ("google_status", "must be authorized or reauthorize", { Self.is($0, "authorized") || Self.is($0, "reauthorize") }),
        ("google_holder", "must be a replica id (32 lowercase hex digits)", { isHex($0, 32) }),
        ("google_authorized_by", "must be 1 to 256 characters without control characters", { isName($0, emptyAllowed: false) }),
        ("google_domain", "must be 1 to 256 characters without control characters", { isName($0, emptyAllowed: false) }),
        ("google_authorized_at", "must be an ISO 8601 time", { DateTime.date(string($0)) != nil }),
    ]

    static let directory: @Sendable (borrowing RecordView) -> Violation? = { r in
        if let v = check(r, derive: nil, directoryChecks) { return v }
        // The SCIM path names the directory itself.
        let path = "/api/scim/v2.0/" + r.id
        return r.first { name, value in
            Self.is(name, "scim_path") && !value.isEmpty && !value.elementsEqual(path.utf8)
                ? Violation(field: "scim_path", reason: "must be /api/scim/v2.0/<the directory's id>, or empty") : nil
        }
    }

    static let eventNames = EventRecords.names.map { Array($0.utf8) }

    /// An event: its directory a UUID, its name one of the eight, its payload a JSON object
    /// (the feed hands it out as it is) naming that event and directory, its numbers digits.
    static let event: @Sendable (borrowing RecordView) -> Violation? = { r in
        var directory: String?, name: String?
        let found: Violation? = r.first { field, value in
            if Self.is(field, "directory") {
                guard isUUID(string(value)) else { return Violation(field: "directory", reason: "must be a lowercase UUID") }
                if let d = directory, d != string(value) { return Violation(field: "directory", reason: "holds two different values") }
                directory = string(value)
            } else if Self.is(field, "event") {
                guard eventNames.contains(where: { value.elementsEqual($0) }) else {
                    return Violation(field: "event", reason: "must be one of \(EventRecords.names.joined(separator: ", "))")
                }
                if let n = name, n != string(value) { return Violation(field: "event", reason: "holds two different values") }
                name = string(value)
            } else if Self.is(field, "created") || Self.is(field, "status_code") {
                guard !value.isEmpty, value.count <= 19, value.allSatisfy({ (48...57).contains($0) }) else {
                    return Violation(field: string(field), reason: "must be a whole number")
                }
            } else if Self.is(field, "delivered") {
                guard Self.is(value, "true") || Self.is(value, "false") else { return Violation(field: "delivered", reason: "must be true or false") }
            } else if Self.is(field, "webhook_endpoint") {
                guard value.isEmpty || isHTTPURL(value) else { return Violation(field: "webhook_endpoint", reason: "must be an absolute http(s) URL") }
            }
            return nil
        }
        if let found { return found }
        guard let directory, let name else { return r.hasFields ? Violation(field: "directory", reason: "is missing") : nil }
        for payload in r.values("payload") {
            guard payload.count <= EventRecords.maxPayloadBytes,
                  case .object(let members)? = try? JSONParser.parse(Array(payload), maxDepth: 256) else {
                return Violation(field: "payload", reason: "must be a JSON object of at most \(EventRecords.maxPayloadBytes) bytes")
            }
            func text(_ key: String) -> String? { members.first { $0.0 == key }?.1.stringValue }
            guard text("event") == name, text("directory_id") == directory else {
                return Violation(field: "payload", reason: "must name the record's event and directory")
            }
        }
        return nil
    }

    /// An API key: a name, an optional product, when it was made.
    static let apiKey: @Sendable (borrowing RecordView) -> Violation? = { r in
        r.first { field, value in
            if Self.is(field, "name") {
                return isName(value, emptyAllowed: false) && isTrimmed(value) ? nil
                    : Violation(field: "name", reason: "must be 1 to 256 characters without control characters")
            }
            if Self.is(field, "product") {
                return value.isEmpty || isTenantOrProduct(value) ? nil
                    : Violation(field: "product", reason: "must be empty, or 1 to 256 characters with no ':' and no control characters")
            }
            if Self.is(field, "created") {
                return DateTime.date(string(value)) != nil ? nil : Violation(field: "created", reason: "must be an ISO 8601 time")
            }
            return nil
        }
    }

    static let member: @Sendable (borrowing RecordView) -> Violation? = { r in
        for name in r.fieldNames {
            if name.hasPrefix("intro.") {
                guard isHexString(String(name.dropFirst(6)), 32) else { return Violation(field: name, reason: "must name a replica id") }
            } else if name == "acked" {
                if r.values(named: name).contains(where: { VectorClock(encoded: string($0)) == nil }) { return Violation(field: name, reason: "must be a clock") }
            } else if name == "retired" {
                if r.values(named: name).contains(where: { UInt64(string($0)) == nil }) { return Violation(field: name, reason: "must be a counter") }
            }
        }
        return nil
    }
}

/// A setup-link token that was regenerated or deleted (record kind `retiredToken`):
/// kept for ever, so no copy of it opens a setup page again, whatever peers sent
/// (Contract.md §2: a regenerate or delete kills every copy of the old token).
public enum RetiredToken {
    /// The record id of a retired token: `token:` and the SHA-256 of the lowercased token (the token itself is not stored).
    public static func id(_ token: String) -> String { "token:" + SHA256Hasher.hex(of: token.lowercased()) }

    /// Whether `s` is such an id.
    static func isID(_ s: String) -> Bool { s.hasPrefix("token:") && RecordRules.isHexString(String(s.dropFirst(6)), 64) }
}
