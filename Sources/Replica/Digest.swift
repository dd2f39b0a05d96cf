import CCrypto
import Foundation

/// An incremental SHA-256 (OpenSSL's libcrypto), for state digests and record ids.
public struct SHA256Hasher: ~Copyable {
    private var context: OpaquePointer

    /// Starts a new hash.
    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    /// Feeds bytes.
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// Feeds a string's UTF-8 followed by a NUL separator.
    public mutating func update(field s: String) {
        var s = s
        s.withUTF8 { update(UnsafeRawBufferPointer($0)) }
        update([0])
    }

    /// Finishes and returns the hash as 64 lowercase hex digits.
    public consuming func finalizeHex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var n: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &out, &n)
        return hexString(out)
    }

    /// SHA-256 of a string, as hex.
    public static func hex(of s: String) -> String {
        var h = SHA256Hasher()
        var s = s
        s.withUTF8 { h.update(UnsafeRawBufferPointer($0)) }
        return h.finalizeHex()
    }
}

/// Lowercase hex of bytes.
public func hexString(_ bytes: [UInt8]) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(hexDigit(b >> 4))
        out.append(hexDigit(b & 0xF))
    }
    return String(decoding: out, as: UTF8.self)
}

/// Computes a state digest: SHA-256 over every record's id and canonical encoding,
/// tombstones included, in id order.
///
/// Two replicas have equal digests exactly when they hold the same records in
/// the same states (up to SHA-256 collisions).
public struct StateDigest: ~Copyable {
    private var hasher = SHA256Hasher()

    /// Starts an empty digest.
    public init() {}

    /// Adds one record, given as id and canonical encoding; ids must come in ascending byte order.
    public mutating func add(id: String, encoded: UnsafeRawBufferPointer) {
        hasher.update(field: id)
        var n: [UInt8] = []
        putVarint(UInt64(encoded.count), &n)
        hasher.update(n)
        hasher.update(encoded)
    }

    /// Finishes: 64 hex digits.
    public consuming func finalize() -> String { hasher.finalizeHex() }

    /// The digest of a set of records.
    public static func of(_ records: some Sequence<Record>) -> String {
        var d = StateDigest()
        for r in records.sorted(by: { Array($0.id.utf8).lexicographicallyPrecedes(Array($1.id.utf8)) }) {
            r.encoded.withUnsafeBytes { d.add(id: r.id, encoded: $0) }
        }
        return d.finalize()
    }
}
