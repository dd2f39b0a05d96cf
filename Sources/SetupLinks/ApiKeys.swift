import Bytes
import Crypto
import Dates
import Foundation
import Replica
import Storage

/// An app API key as the replica holds it (record kind `apiKey`): a name, an optional
/// product it is limited to, when it was made. The key itself is never stored: the
/// record's id is `apikey:` and the SHA-256 of the key, so a presented key is found by
/// its hash and nothing on disk or on the wire can be used as a key.
public struct ApiKey: Sendable, Equatable {
    /// `apikey:<64 hex digits>`.
    public var id: String
    /// The name given at creation (how `api-key revoke` names it).
    public var name: String
    /// The product it is limited to, or `nil` for every product.
    public var product: String?
    /// When it was made.
    public var created: Date?

    /// The first 8 hex digits of the key's hash: what `api-key list` shows to tell keys apart.
    public var fingerprint: String { String(id.dropFirst(ApiKeys.idPrefix.count).prefix(8)) }

    /// Whether the key may see and change `product`'s links, directories and data.
    public func allows(product p: String) -> Bool { product == nil || product == p }

    /// The live key a record holds, if it is one.
    public init?(_ r: Record) {
        guard r.kind == .apiKey, r.isLive, let name = r[ApiKeys.nameField] else { return nil }
        id = r.id
        self.name = name
        product = r[ApiKeys.productField].flatMap { $0.isEmpty ? nil : $0 }
        created = r[ApiKeys.createdField].flatMap(DateTime.date)
    }
}

/// The layout of API key records, their index, and making keys.
public enum ApiKeys {
    static let idPrefix = "apikey:"
    static let nameField = "name"
    static let productField = "product"
    static let createdField = "created"
    /// What every key starts with (so a leaked one is easy to recognise and search for).
    public static let keyPrefix = "slk_"

    /// Live keys by name.
    public static let index = IndexSpec(name: "apikey.name", kind: .apiKey, joining: [nameField], missing: .noKeyIfEmpty)

    /// The record id of `key`.
    public static func id(of key: String) -> String { idPrefix + SHA256Hasher.hex(of: key) }

    /// Whether `s` is the shape of a key record's id.
    static func isID(_ s: String) -> Bool { s.hasPrefix(idPrefix) && RecordRules.isHexString(String(s.dropFirst(idPrefix.count)), 64) }

    /// A new key: `slk_` and 32 CSPRNG bytes in base64url (43 characters).
    static func newKey() -> String { keyPrefix + Base64URL.encode(SecureRandom.bytes(32)) }
}

extension SetupLinkService {
    /// Makes an API key named `name` (trimmed, 1–256 characters, not the name of a live key),
    /// limited to `product` if given; returns it and the key, which is shown this once.
    public func createApiKey(name rawName: String, product rawProduct: String? = nil) throws -> (ApiKey, key: String) {
        let name = try Validation.name(rawName)
        let product = try rawProduct.map { try Validation.tenantOrProduct($0, what: "product") }
        let key = ApiKeys.newKey()
        let created = DateTime.format(now(), .seconds)
        return try store.write { tx in
            guard try tx.lookup(ApiKeys.index.name, key: name).isEmpty else {
                throw SetupLinkError.invalid("an API key named \"\(name)\" exists already (see: api-key list); revoke it or choose another name")
            }
            let r = try tx.write(id: ApiKeys.id(of: key), kind: .apiKey, [
                ApiKeys.nameField: name, ApiKeys.productField: product ?? "", ApiKeys.createdField: created,
            ])
            return (ApiKey(r)!, key)
        }
    }

    /// Every live API key, by name.
    public func apiKeys() throws -> [ApiKey] {
        try store.records(kind: .apiKey).compactMap(ApiKey.init).sorted { ($0.name, $0.id) < ($1.name, $1.id) }
    }

    /// Revokes the keys named `name` (two replicas may each have made one while apart):
    /// their records are deleted, and the delete replicates like any other.
    /// - Returns: The keys revoked.
    @discardableResult
    public func revokeApiKey(name rawName: String) throws -> [ApiKey] {
        let name = Validation.trimmed(rawName)
        return try store.write { tx in
            let keys = try tx.lookup(ApiKeys.index.name, key: name).compactMap(ApiKey.init)
            guard !keys.isEmpty else { throw SetupLinkError.invalid("no API key named \"\(name)\" (see: api-key list)") }
            for k in keys { try tx.delete(id: k.id) }
            return keys
        }
    }

    /// The live key that `presented` is, or `nil`. The key's hash is looked up, then compared
    /// with the record's in constant time (the lookup never compares the key itself).
    public func authenticateApiKey(_ presented: String) throws -> ApiKey? {
        guard !presented.isEmpty, presented.utf8.count <= 256 else { return nil }
        let id = ApiKeys.id(of: presented)
        let found = try store.record(id: id).flatMap(ApiKey.init)
        let stored = Array((found?.id ?? ApiKeys.idPrefix + String(repeating: "0", count: 64)).utf8)
        return constantTimeEquals(stored, Array(id.utf8)) ? found : nil
    }
}
