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

    /// The bytes of base64url text without padding, or `nil` when it is not that (a
    /// character outside the alphabet, padding, a length no encoding has, stray bits).
    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i + 4 <= values.count {
            let n = UInt32(values[i]) << 18 | UInt32(values[i + 1]) << 12 | UInt32(values[i + 2]) << 6 | UInt32(values[i + 3])
            out += [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            i += 4
        }
        switch values.count - i {
        case 2:
            let n = UInt32(values[i]) << 18 | UInt32(values[i + 1]) << 12
            guard n & 0xFFFF == 0 else { return nil }
            out.append(UInt8(n >> 16 & 0xFF))
        case 3:
            let n = UInt32(values[i]) << 18 | UInt32(values[i + 1]) << 12 | UInt32(values[i + 2]) << 6
            guard n & 0xFF == 0 else { return nil }
            out += [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF)]
        default:
            break
        }
        return out
    }
}
