import CCrypto

/// Bytes from the system CSPRNG (OpenSSL's `RAND_bytes`, seeded by the
/// kernel): tokens, keys, replica ids and error ids.
public enum SecureRandom {
    /// `count` random bytes; traps if the CSPRNG fails, which never happens on a working system.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        expectLibcrypto(RAND_bytes(&out, Int32(count)), "RAND_bytes")
        return out
    }
}
