import Bytes
import Crypto

/// Random tokens and ids from the system CSPRNG (`SecureRandom`).
public enum Secrets {
    /// A setup link token: 24 random bytes as 48 lowercase hex characters.
    public static func linkToken() -> String { Hex.encode(SecureRandom.bytes(24)) }

    /// A SCIM bearer token: 16 random bytes, base64url without padding (22 characters).
    public static func scimToken() -> String { Base64URL.encode(SecureRandom.bytes(16)) }

    /// A random (version 4) UUID in lowercase.
    public static func uuid() -> String {
        var b = SecureRandom.bytes(16)
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        return Hex.uuid(b)
    }
}
