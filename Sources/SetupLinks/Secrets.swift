import Bytes
import CCrypto

/// Random tokens and ids from the system CSPRNG (OpenSSL's `RAND_bytes`, seeded by the kernel).
public enum Secrets {
    /// `count` random bytes; traps if the CSPRNG fails, which never happens on a working system.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "the system CSPRNG failed")
        return out
    }

    /// A setup link token: 24 random bytes as 48 lowercase hex characters.
    public static func linkToken() -> String { Hex.encode(randomBytes(24)) }

    /// A SCIM bearer token: 16 random bytes, base64url without padding (22 characters).
    public static func scimToken() -> String { Base64URL.encode(randomBytes(16)) }

    /// A random (version 4) UUID in lowercase.
    public static func uuid() -> String {
        var b = randomBytes(16)
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        return Hex.uuid(b)
    }
}
