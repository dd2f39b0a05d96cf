/// Base64url without padding (RFC 4648 §5): bytes as text that is safe in a
/// URL, a form field and a header, with no `=` to escape.
public enum Base64URL {
    /// The alphabet: `A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_`.
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// `bytes` encoded, four characters per three bytes and no padding
    /// (16 bytes make 22 characters, 32 make 43).
    public static func encode(_ bytes: [UInt8]) -> String {
        let length = (bytes.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: length) { out in
            var i = 0, k = 0
            func put(_ sextet: UInt32) {
                out[k] = alphabet[Int(sextet & 0x3F)]
                k &+= 1
            }
            while i + 3 <= bytes.count {
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                put(n >> 18); put(n >> 12); put(n >> 6); put(n)
                i += 3
            }
            switch bytes.count - i {
            case 1:
                let n = UInt32(bytes[i]) << 16
                put(n >> 18); put(n >> 12)
            case 2:
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
                put(n >> 18); put(n >> 12); put(n >> 6)
            default:
                break
            }
            return k
        }
    }
}
