/// Checks of UTF-8 as Unicode Table 3-7 defines it: no overlong forms, no
/// surrogates, nothing above U+10FFFF. The record codec, the page codec and
/// the JSON parser all check input with this one table.
public enum UTF8Validation {
    /// What the multi-byte sequence at a lead byte (≥ 0x80) is.
    public enum Sequence: Equatable, Sendable {
        /// A well-formed sequence of `length` bytes (2–4).
        case valid(length: Int)
        /// The lead byte starts no sequence (a continuation byte, 0xC0, 0xC1, or 0xF5 and above).
        case invalidLead
        /// The input ends inside the sequence.
        case truncated
        /// A continuation byte is out of range for the lead byte.
        case invalid
    }

    /// The sequence whose lead byte is at `offset` in `base`, where `end` is
    /// the length of the input; the lead byte must be 0x80 or above.
    @inlinable @inline(__always)
    public static func sequence(_ base: UnsafeRawPointer, at offset: Int, end: Int) -> Sequence {
        let lead = base.load(fromByteOffset: offset, as: UInt8.self)
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return .invalidLead
        }
        guard offset &+ length <= end else { return .truncated }
        let second = base.load(fromByteOffset: offset &+ 1, as: UInt8.self)
        guard second >= low && second <= high else { return .invalid }
        var k = 2
        while k < length {
            guard base.load(fromByteOffset: offset &+ k, as: UInt8.self) & 0xC0 == 0x80 else { return .invalid }
            k &+= 1
        }
        return .valid(length: length)
    }

    /// Whether `bytes` are valid UTF-8. ASCII runs are checked eight bytes at a time.
    @inlinable
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let end = bytes.count
        var i = 0
        while i < end {
            while i &+ 8 <= end, (base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i &+= 8 }
            guard i < end else { return true }
            if base.load(fromByteOffset: i, as: UInt8.self) < 0x80 {
                i &+= 1
                continue
            }
            guard case .valid(let length) = sequence(base, at: i, end: end) else { return false }
            i &+= length
        }
        return true
    }
}
