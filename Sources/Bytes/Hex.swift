/// Hexadecimal text for bytes: the one encoder and decoder of the package.
///
/// Output is lowercase unless asked otherwise (tokens, digests, keys and
/// signatures are compared as text, so one case everywhere); input is read in
/// either case.
public enum Hex {
    /// The ASCII digit for `value` (0–15).
    @inlinable @inline(__always)
    public static func digit(_ value: UInt8, uppercase: Bool = false) -> UInt8 {
        value < 10 ? 0x30 &+ value : (uppercase ? 0x37 : 0x57) &+ value
    }

    /// The value (0–15) of an ASCII hex digit in either case, or `nil` for any other byte.
    @inlinable @inline(__always)
    public static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit &- 0x30
        case 0x61...0x66: digit &- 0x57
        case 0x41...0x46: digit &- 0x37
        default: nil
        }
    }

    /// Two hex digits per byte.
    public static func encode(_ bytes: UnsafeRawBufferPointer, uppercase: Bool = false) -> String {
        // Written straight into the string's storage: digests and entity tags are encoded per resource served.
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for b in bytes {
                out[i] = digit(b >> 4, uppercase: uppercase)
                out[i &+ 1] = digit(b & 0xF, uppercase: uppercase)
                i &+= 2
            }
            return i
        }
    }

    /// Two hex digits per byte.
    public static func encode(_ bytes: [UInt8], uppercase: Bool = false) -> String {
        bytes.withUnsafeBytes { encode($0, uppercase: uppercase) }
    }

    /// The bytes of `text`, two digits each (either case); `nil` for an odd
    /// length or any character that is not a hex digit.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8?
        for c in utf8 {
            guard let v = value(c) else { return nil }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }

    /// Sixteen bytes in the textual form of a UUID (RFC 9562): 32 lowercase
    /// hex digits in groups of 8-4-4-4-12. The version and variant bits are
    /// the caller's (they are written as given).
    public static func uuid(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16, "a UUID is 16 bytes")
        return String(unsafeUninitializedCapacity: 36) { out in
            var i = 0
            for (k, b) in bytes.enumerated() {
                if k == 4 || k == 6 || k == 8 || k == 10 {
                    out[i] = UInt8(ascii: "-")
                    i &+= 1
                }
                out[i] = digit(b >> 4)
                out[i &+ 1] = digit(b & 0xF)
                i &+= 2
            }
            return i
        }
    }
}
