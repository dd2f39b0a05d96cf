import Bytes
import Crypto
import Foundation
import Replica
import Storage

/// How SCIM keys are compared without case: Unicode canonical composition
/// (NFC), then the locale-independent lowercase mapping. Used for `userName`
/// and group `displayName` lookups, index keys and derived user ids, so a
/// key computed on any replica is the same bytes.
public enum ScimKeys {
    /// The folded form of `s`.
    public static func fold(_ s: String) -> String {
        // ASCII is its own NFC form: skip Foundation's normalization (every create and lookup folds).
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.lowercased() }
        return s.precomposedStringWithCanonicalMapping.lowercased()
    }
}

/// The users, groups and memberships of a directory as replicated records
/// (kinds `user`, `group`, `membership`).
///
/// Register layout of a user or group record:
/// - `a:<name>`: one top-level SCIM attribute (core, or unknown, or a whole
///   unknown extension object), its value as compact JSON; `""` means unassigned.
/// - `e:<extension URN>:<name>`: one attribute of a known extension
///   (the enterprise User extension), as compact JSON.
/// - `directory`: the directory id, written at creation (its timestamp is `meta.created`).
/// - `key.userName` / `key.displayName`: the folded name, plain text (index key);
///   `key.externalId`: the externalId, plain text. Written by the same writes as
///   the attribute, so both registers always have the same winner.
///
/// A membership record is one (group, member) pair: `group`, `member` (the member
/// `value`), `directory`, `attrs` (the member object as JSON) and `present`,
/// an add-wins flag (see `isPresent`).
public enum ScimRecords {
    /// The directory id register.
    public static let directoryField = "directory"
    /// A user's folded `userName` (plain text).
    public static let userNameKeyField = "key.userName"
    /// A group's folded `displayName` (plain text).
    public static let displayNameKeyField = "key.displayName"
    /// The `externalId` (plain text, case-exact).
    public static let externalIdField = "key.externalId"
    /// A membership's group id.
    public static let groupField = "group"
    /// A membership's member value.
    public static let memberField = "member"
    /// A membership's member object (`value`, `display`, `type`, `$ref` as sent), JSON.
    public static let memberAttributesField = "attrs"
    /// A membership's add-wins flag: `"1"` added, `"0"` removed.
    public static let presentField = "present"
    /// Prefix of top-level attribute registers.
    public static let attributePrefix = "a:"
    /// Prefix of known-extension attribute registers.
    public static let extensionPrefix = "e:"
    /// The most ids tried for one `userName` (renamed users holding the earlier ones).
    public static let maxUserIDAttempts = 64

    /// The register of a top-level attribute.
    public static func attributeField(_ name: String) -> String { attributePrefix + name }

    /// The register of an attribute of a known extension.
    public static func extensionField(urn: String, attribute: String) -> String {
        extensionPrefix + urn + ":" + attribute
    }

    /// Splits an attribute register name: `(nil, name)` for `a:name`,
    /// `(urn, name)` for `e:<urn>:name` when `urn` is one of `knownExtensions`;
    /// `nil` for internal registers (and for an extension not known here).
    public static func parseAttributeField(_ field: String, knownExtensions: [String]) -> (urn: String?, name: String)? {
        if field.hasPrefix(attributePrefix) { return (nil, String(field.dropFirst(attributePrefix.count))) }
        guard field.hasPrefix(extensionPrefix) else { return nil }
        let rest = field.dropFirst(extensionPrefix.count)
        for urn in knownExtensions.sorted(by: { $0.count > $1.count }) where rest.hasPrefix(urn + ":") {
            return (urn, String(rest.dropFirst(urn.count + 1)))
        }
        return nil
    }

    // MARK: Ids

    /// The id of the user created in `directory` with folded userName `key`,
    /// attempt 0, 1, 2… (see Scim.docc/UsersAndGroups.md, "User ids").
    ///
    /// A name-based UUID (version 8, RFC 9562) over SHA-256 of the framed
    /// inputs, so two replicas that create the same user while apart pick the
    /// same id and their records merge into one.
    public static func userID(directory: String, userNameKey key: String, attempt: Int = 0) -> String {
        nameBasedUUID(["scim-user", directory, key, String(attempt)])
    }

    /// The id of the membership of `member` in `group`: the same on every replica,
    /// so concurrent adds of one member land in one record.
    public static func membershipID(group: String, member: String) -> String {
        nameBasedUUID(["scim-membership", group, member])
    }

    /// A UUID of version 8 from SHA-256 of the parts, each framed by its UTF-8 length (unambiguous).
    static func nameBasedUUID(_ parts: [String]) -> String {
        // The hash of "<utf8 length>:<part>;" for each part, fed piece by piece (SHA-256 streams).
        var h = SHA256Hasher()
        for p in parts {
            h.update(Array("\(p.utf8.count):".utf8))
            var p = p
            p.withUTF8 { h.update(UnsafeRawBufferPointer($0)) }
            h.update([UInt8(ascii: ";")])
        }
        var d = h.finalizeBytes()
        d[6] = d[6] & 0x0F | 0x80  // version 8: the 13th hex digit is 8
        d[8] = d[8] & 0x3F | 0x80  // variant 10xx: the 17th hex digit is 8, 9, a or b
        return Hex.uuid(Array(d.prefix(16)))
    }

    // MARK: Reading records

    /// The directory a user, group or membership belongs to.
    public static func directory(of r: Record) -> String? { r[directoryField] }

    /// Whether a membership is present: **add wins**.
    ///
    /// `present` is a multi-value register: an add writes `"1"` and a remove
    /// writes `"0"`, each replacing the versions its replica has seen. A remove
    /// therefore only removes the adds it has seen; an add concurrent with it
    /// survives the merge beside the `"0"`, and any surviving `"1"` keeps the
    /// member. A deleted membership record (its group was deleted) is absent.
    public static func isPresent(_ membership: Record) -> Bool {
        guard membership.kind == .membership, !membership.isDeleted,
              let reg = membership.register(presentField) else { return false }
        return reg.versions.contains { $0.value == "1" }
    }

    /// The entity tag of a record's state: `W/"<16 hex digits>"` of SHA-256 over its vector clock.
    ///
    /// Replicas holding the same state hold the same clock (and vice versa), so
    /// the tag is the same on every replica and changes with every write.
    public static func etag(_ r: Record) -> String {
        "W/\"" + SHA256Hasher.hex(of: r.clock.encoded).prefix(16) + "\""
    }

    /// Milliseconds since 1970 of the record's creation: the timestamp of its `directory` register.
    public static func createdMilliseconds(_ r: Record) -> UInt64? {
        r.register(directoryField)?.winner?.hlc.milliseconds
    }

    /// Milliseconds since 1970 of the record's last change: its largest timestamp.
    public static func lastModifiedMilliseconds(_ r: Record) -> UInt64 { r.maxHLC.milliseconds }
}

/// The secondary indexes SCIM needs, declared for Storage's index facility.
///
/// Each is an `IndexSpec` over visible field values; a key is
/// `<owner>` NUL `<value>` (`IndexSpec.separator`), so a prefix scan of
/// `prefix(owner)` is one directory or one group. Storage orders entries by
/// (key, row), so a directory's users list in a stable order (creation order
/// on that replica).
///
/// Membership keys cover every live membership record, present or removed:
/// presence is add-wins over the concurrent values of `present`, which a
/// spec over the visible (winning) value cannot compute, so readers check
/// `ScimRecords.isPresent` on what they scan.
public enum ScimIndex: String, CaseIterable, Sendable {
    /// Live users by directory and folded `userName`: `userName eq`, uniqueness.
    case userByName = "scim.user.userName"
    /// Live users by directory and `externalId`: `externalId eq`.
    case userByExternalId = "scim.user.externalId"
    /// Live users by directory: listing, paging, counting.
    case usersOfDirectory = "scim.user.directory"
    /// Live groups by directory and folded `displayName`: `displayName eq`.
    case groupByName = "scim.group.displayName"
    /// Live groups by directory and `externalId`.
    case groupByExternalId = "scim.group.externalId"
    /// Live groups by directory: listing.
    case groupsOfDirectory = "scim.group.directory"
    /// Memberships by group and member value: a group's members, in value order.
    case membersOfGroup = "scim.membership.group"
    /// Memberships by directory and member value: a user's groups, and the
    /// memberships to remove when the user is deleted.
    case groupsOfMember = "scim.membership.member"

    /// Every SCIM index, to install beside the other domain indexes.
    public static var specs: [IndexSpec] { allCases.map(\.spec) }

    /// The declaration of this index.
    public var spec: IndexSpec {
        let d = ScimRecords.directoryField
        switch self {
        case .userByName: return pair(.user, d, ScimRecords.userNameKeyField)
        case .userByExternalId: return pair(.user, d, ScimRecords.externalIdField)
        case .usersOfDirectory: return owner(.user)
        case .groupByName: return pair(.group, d, ScimRecords.displayNameKeyField)
        case .groupByExternalId: return pair(.group, d, ScimRecords.externalIdField)
        case .groupsOfDirectory: return owner(.group)
        case .membersOfGroup: return pair(.membership, ScimRecords.groupField, ScimRecords.memberField)
        case .groupsOfMember: return pair(.membership, d, ScimRecords.memberField)
        }
    }

    /// `<a> NUL <b>` when both fields have a non-empty value.
    private func pair(_ kind: RecordKind, _ a: String, _ b: String) -> IndexSpec {
        IndexSpec(name: rawValue, kind: kind, joining: [a, b], missing: .noKeyIfEmpty)
    }

    /// `<directory> NUL`: every live record of the directory under one prefix.
    private func owner(_ kind: RecordKind) -> IndexSpec {
        IndexSpec(name: rawValue, kind: kind, joining: [ScimRecords.directoryField], missing: .noKeyIfEmpty, trailingSeparator: true)
    }

    /// A key from its owner (directory or group id) and value.
    public static func key(_ owner: String, _ value: String) -> String { owner + IndexSpec.separator + value }

    /// The range-scan prefix of everything under `owner`.
    public static func prefix(_ owner: String) -> String { owner + IndexSpec.separator }

    /// The keys of a record in this index (none unless it is live and of the index's kind).
    public func keys(for r: Record) -> [String] {
        let s = spec
        guard r.isLive, r.kind == s.kind else { return [] }
        return s.keys(s.fields.map { r[$0] })
    }
}
