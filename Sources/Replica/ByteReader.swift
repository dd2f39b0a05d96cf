import Foundation

/// Appends `value` as a little-endian base-128 varint (the shortest form).
@inline(__always) public func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

/// Appends `value` as 8 big-endian bytes.
@inline(__always) public func putUInt64(_ value: UInt64, _ out: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
}

/// Appends a string as a varint length and its UTF-8.
@inline(__always) public func putString(_ s: String, _ out: inout [UInt8]) {
    var s = s
    s.withUTF8 { u in
        putVarint(UInt64(u.count), &out)
        out.append(contentsOf: u)
    }
}

/// A bounds-checked cursor over bytes, shared by the record and page codecs:
/// every length and count is checked against the bytes that remain.
///
/// It borrows the bytes it reads (and the slices it returns point into them),
/// so it is valid only inside the `withUnsafeBytes` that lent them. That is
/// why it is `package`, not public: the codecs of this package use it that
/// way; nothing outside can keep one past its buffer.
package struct ByteReader {
    /// The bytes read.
    package let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte.
    package private(set) var at = 0

    /// A reader at the start of `bytes`.
    package init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Whether every byte has been read.
    package var isAtEnd: Bool { at == bytes.count }

    /// Bytes not yet read.
    package var remaining: Int { bytes.count - at }

    /// One byte.
    @inline(__always)
    package mutating func byte() throws(RecordDecodingError) -> UInt8 {
        guard at < bytes.count else { throw RecordDecodingError("truncated") }
        defer { at += 1 }
        return bytes[at]
    }

    /// A varint in its shortest form (a longer one would give two encodings of one value).
    @inline(__always)
    package mutating func varint() throws(RecordDecodingError) -> UInt64 {
        let first = try byte()
        if first < 0x80 { return UInt64(first) }
        var v = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw RecordDecodingError("varint too long") }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 {
                guard b != 0 else { throw RecordDecodingError("varint not in its shortest form") }
                return v
            }
            shift += 7
        }
    }

    /// A count of items each at least `minimumSize` bytes long, checked against what remains.
    @inline(__always)
    package mutating func count(minimumSize: Int) throws(RecordDecodingError) -> Int {
        let v = try varint()
        guard v <= UInt64(remaining / max(1, minimumSize)) else { throw RecordDecodingError("count beyond the end") }
        return Int(v)
    }

    /// 8 big-endian bytes.
    @inline(__always)
    package mutating func uint64() throws(RecordDecodingError) -> UInt64 {
        guard remaining >= 8 else { throw RecordDecodingError("truncated") }
        let v = UInt64(bigEndian: (bytes.baseAddress! + at).loadUnaligned(as: UInt64.self))
        at += 8
        return v
    }

    /// A varint length and that many bytes, as a slice of the input.
    @inline(__always)
    package mutating func slice() throws(RecordDecodingError) -> UnsafeRawBufferPointer {
        let n = try count(minimumSize: 1)
        defer { at += n }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
    }

    /// Exactly `n` bytes, as a slice of the input.
    package mutating func bytes(_ n: Int) throws(RecordDecodingError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else { throw RecordDecodingError("truncated") }
        defer { at += n }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
    }
}
