import Bytes
import CCrypto

/// An incremental SHA-256 (OpenSSL's libcrypto), for state digests, record ids and entity tags.
public struct SHA256Hasher: ~Copyable {
    private let context: OpaquePointer

    /// Starts a new hash.
    public init() {
        guard let context = EVP_MD_CTX_new() else { libcryptoFailed("EVP_MD_CTX_new") }
        self.context = context
        expectLibcrypto(EVP_DigestInit_ex(context, EVP_sha256(), nil), "EVP_DigestInit_ex")
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        expectLibcrypto(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count), "EVP_DigestUpdate")
    }

    /// Feeds bytes.
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// Finishes and returns the hash as 64 lowercase hex digits.
    public consuming func finalizeHex() -> String { Hex.encode(finalizeBytes()) }

    /// Finishes and returns the hash's 32 bytes.
    public consuming func finalizeBytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var n: UInt32 = 0
        expectLibcrypto(EVP_DigestFinal_ex(context, &out, &n), "EVP_DigestFinal_ex")
        if n != 32 { libcryptoFailed("EVP_DigestFinal_ex (length)") }
        return out
    }

    /// SHA-256 of a string, as hex.
    public static func hex(of s: String) -> String {
        var h = SHA256Hasher()
        var s = s
        s.withUTF8 { h.update(UnsafeRawBufferPointer($0)) }
        return h.finalizeHex()
    }
}
