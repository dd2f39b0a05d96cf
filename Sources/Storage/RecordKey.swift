import Bytes
import CCrypto
import CSQLite
import Crypto
import Foundation

/// The integer key of the record-id index (`records.idk`).
///
/// A text index on ids (32 hex digits, UUIDs) has ~45-byte entries; at a
/// million records it outgrows the page cache and every insert, which lands
/// at a random place, reads and dirties a page that is not cached. An integer
/// key makes entries about three times smaller (measured: a million inserts
/// in 8,000-record transactions went from 30k/s to 57k/s).
///
/// The key keeps what the text index gave for free: its top 32 bits (after the
/// sign bit) are the id's first four UTF-8 bytes, so ids sharing a prefix of
/// four or more bytes are one key range (abbreviated ids, TAB completion); the
/// low 31 bits are SHA-256 of the id under a random per-file key, so a peer
/// cannot pick ids that share a key. Keys are not unique: an exact lookup is
/// `idk = ? AND id = ?`, and a collision costs one more row read.
package final class RecordKeyHasher {
    /// SHA-256 with the salt absorbed: each key starts from a copy of it.
    private let salted: OpaquePointer
    private let context: OpaquePointer

    // Raw EVP calls rather than `SHA256Hasher`: a key is computed for every record merged, and
    // restarting from a copy of the salted state saves hashing the salt each time.

    /// A hasher for the per-file key `salt` (bytes from `meta.id_key`).
    package init(salt: [UInt8]) {
        salted = Self.newContext()
        context = Self.newContext()
        expectLibcrypto(EVP_DigestInit_ex(salted, EVP_sha256(), nil), "EVP_DigestInit_ex")
        salt.withUnsafeBytes { expectLibcrypto(EVP_DigestUpdate(salted, $0.baseAddress, $0.count), "EVP_DigestUpdate") }
    }

    /// A hasher of the same key with contexts of its own, for another thread.
    private init(copying other: RecordKeyHasher) {
        salted = Self.newContext()
        context = Self.newContext()
        expectLibcrypto(EVP_MD_CTX_copy_ex(salted, other.salted), "EVP_MD_CTX_copy_ex")
    }

    /// A fresh digest context.
    private static func newContext() -> OpaquePointer {
        guard let c = EVP_MD_CTX_new() else { libcryptoFailed("EVP_MD_CTX_new") }
        return c
    }

    /// A hasher of the same key with contexts of its own, for another thread.
    func copy() -> RecordKeyHasher { RecordKeyHasher(copying: self) }

    deinit {
        EVP_MD_CTX_free(salted)
        EVP_MD_CTX_free(context)
    }

    /// The key of an id.
    package func key(_ id: String) -> Int64 {
        var id = id
        return id.withUTF8 { key(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The key of an id given as UTF-8.
    func key(utf8 id: UnsafeRawBufferPointer) -> Int64 {
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var n: UInt32 = 0
        expectLibcrypto(EVP_MD_CTX_copy_ex(context, salted), "EVP_MD_CTX_copy_ex")
        expectLibcrypto(EVP_DigestUpdate(context, id.baseAddress, id.count), "EVP_DigestUpdate")
        withUnsafeMutableBytes(of: &digest) {
            expectLibcrypto(EVP_DigestFinal_ex(context, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &n), "EVP_DigestFinal_ex")
        }
        let low = UInt64(UInt32(bigEndian: UInt32(truncatingIfNeeded: digest.0))) & 0x7FFF_FFFF
        return Int64(bitPattern: RecordKeyHasher.prefix(id) << 31 | low)
    }

    /// The first four bytes of an id, zero-padded, as a number.
    static func prefix(_ id: UnsafeRawBufferPointer) -> UInt64 {
        var p: UInt64 = 0
        for k in 0..<4 { p = p << 8 | UInt64(k < id.count ? id[k] : 0) }
        return p
    }

    /// The key range `[low, high)` holding every id that starts with `prefix`.
    static func range(prefix: String) -> (Int64, Int64) {
        let bytes = Array(prefix.utf8.prefix(4))
        var low: UInt64 = 0, high: UInt64 = 0
        for k in 0..<4 {
            low = low << 8 | UInt64(k < bytes.count ? bytes[k] : 0)
            high = high << 8 | UInt64(k < bytes.count ? bytes[k] : 0xFF)
        }
        // An empty prefix (or one of 0xFF bytes, which UTF-8 never has) reaches the top of the
        // key space: (0xFFFF_FFFF + 1) << 31 is 2^63, past Int64 (it trapped: TAB on an empty word).
        return (Int64(low << 31), high == 0xFFFF_FFFF ? Int64.max : Int64((high + 1) << 31))
    }

    /// Registers `setuplink_idkey(salt_hex, id)` on a connection, for the migration that adds the key.
    static func register(on db: SQLiteConnection) {
        sqlite3_create_function_v2(db.handle, "setuplink_idkey", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, { ctx, _, argv in
            guard let argv, let saltText = sqlite3_value_text(argv[0]), let idText = sqlite3_value_text(argv[1]) else {
                sqlite3_result_null(ctx)
                return
            }
            // The migration passes `meta.id_key`, which this code wrote as 32 hex digits.
            let salt = Hex.decode(String(cString: saltText)) ?? []
            let n = Int(sqlite3_value_bytes(argv[1]))
            let hasher = RecordKeyHasher(salt: salt)
            sqlite3_result_int64(ctx, hasher.key(utf8: UnsafeRawBufferPointer(start: idText, count: n)))
        }, nil, nil, nil)
    }
}
