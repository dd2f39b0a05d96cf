import Bytes

/// A streaming writer of compact JSON into a byte buffer.
///
/// Commas are inserted automatically: call `beginObject()`, then `key(_:)`
/// followed by one value (a scalar, a nested container, or `raw(_:)`) per
/// member, then `endObject()`; arrays likewise without keys. Strings are
/// escaped per RFC 8259. Misuse (a value in an object without a key, an
/// unbalanced end) is not diagnosed and produces invalid JSON, except that
/// ending a container that was never begun traps.
public struct JSONWriter {
    /// The JSON written so far.
    public var bytes: [UInt8]
    /// Whether the next member or element in the current container needs a comma.
    private var needsComma = false
    /// Whether a key was just written, so the next value follows its colon.
    private var afterKey = false
    /// `needsComma` of each enclosing container, innermost last.
    private var stack: [Bool] = []

    /// Creates a writer whose buffer reserves `capacity` bytes.
    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
        stack.reserveCapacity(16)
    }

    /// Writes `value` as compact JSON (non-finite doubles as `null`).
    public static func write(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.value(value)
        return writer.bytes
    }

    // MARK: Structure

    /// Opens an object: `{`.
    public mutating func beginObject() {
        separate()
        stack.append(needsComma)
        needsComma = false
        bytes.append(UInt8(ascii: "{"))
    }

    /// Closes the innermost object: `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = stack.removeLast()
    }

    /// Opens an array: `[`.
    public mutating func beginArray() {
        separate()
        stack.append(needsComma)
        needsComma = false
        bytes.append(UInt8(ascii: "["))
    }

    /// Closes the innermost array: `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = stack.removeLast()
    }

    /// Writes an object member's key and colon; the next call writes its value.
    public mutating func key(_ key: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        appendQuoted(key)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    // MARK: Scalars

    /// Writes a string, escaping `"`, `\` and control characters.
    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    /// Writes a string given as UTF-8 bytes (which must be valid UTF-8), escaping as `string(_:)` does.
    public mutating func string(utf8: UnsafeRawBufferPointer) {
        separate()
        appendQuoted(utf8: UnsafeBufferPointer(start: utf8.baseAddress?.assumingMemoryBound(to: UInt8.self), count: utf8.count))
    }

    /// Writes an object member's key given as UTF-8 bytes; the next call writes its value.
    public mutating func key(utf8: UnsafeRawBufferPointer) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        appendQuoted(utf8: UnsafeBufferPointer(start: utf8.baseAddress?.assumingMemoryBound(to: UInt8.self), count: utf8.count))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Writes a signed integer.
    public mutating func int(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    /// Writes an unsigned integer. Values above `Int64.max` parse back as `.double`.
    public mutating func uint(_ value: UInt64) {
        separate()
        appendDigits(value)
    }

    /// Writes a floating-point number in its shortest round-tripping form
    /// (always with a `.` or exponent); infinities and NaN, which JSON cannot
    /// represent, are written as `null`.
    public mutating func double(_ value: Double) {
        separate()
        guard value.isFinite else {
            appendLiteral("null")
            return
        }
        appendLiteral(value.description)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        appendLiteral(value ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        appendLiteral("null")
    }

    /// Writes already-encoded JSON verbatim as one value; it is not checked.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
    }

    /// Writes the members of an already-encoded JSON object (`{…}`, not checked) into the
    /// object being written, as if each had been written with `key` and a value.
    public mutating func rawMembers(of object: [UInt8]) {
        guard object.count > 2, object.first == UInt8(ascii: "{"), object.last == UInt8(ascii: "}") else { return }
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        bytes.append(contentsOf: object[1..<(object.count - 1)])
    }

    /// Writes a whole `JSONValue` (non-finite doubles as `null`).
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null:
            null()
        case .bool(let b):
            bool(b)
        case .int(let i):
            int(i)
        case .double(let d):
            double(d)
        case .string(let s):
            string(s)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members {
                key(name)
                self.value(member)
            }
            endObject()
        }
    }

    // MARK: Internals

    /// Emits the comma before a value, unless it follows a key.
    @inline(__always)
    private mutating func separate() {
        if afterKey {
            afterKey = false
        } else {
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            needsComma = true
        }
    }

    /// Appends an ASCII literal.
    @inline(__always)
    private mutating func appendLiteral(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Appends the decimal digits of `value`.
    @inline(__always)
    private mutating func appendDigits(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        // 20 digits is the most a UInt64 needs.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var v = value
            var position = 20
            while v >= 10 {
                let q = v / 10
                position &-= 1
                buffer[position] = UInt8(truncatingIfNeeded: v &- q &* 10) &+ 0x30
                v = q
            }
            position &-= 1
            buffer[position] = UInt8(truncatingIfNeeded: v) &+ 0x30
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position..<20]))
        }
    }

    /// Appends `text` as a quoted, escaped JSON string.
    private mutating func appendQuoted(_ text: String) {
        // Native strings are contiguous: no copy (withUTF8 needs a mutable copy of the string).
        if text.utf8.withContiguousStorageIfAvailable({ appendQuoted(utf8: $0) }) != nil { return }
        var text = text
        text.withUTF8 { appendQuoted(utf8: $0) }
    }

    /// Appends UTF-8 bytes as a quoted, escaped JSON string.
    private mutating func appendQuoted(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        do {
            var runStart = 0
            var index = 0
            let count = utf8.count
            while index < count {
                let c = utf8[index]
                if c >= 0x20 && c != 0x22 && c != 0x5C {
                    index &+= 1
                    continue
                }
                if index > runStart {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                }
                appendEscape(c)
                index &+= 1
                runStart = index
            }
            if runStart < count {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the escape sequence for `"`, `\` or a control character.
    private mutating func appendEscape(_ c: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch c {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(UInt8(ascii: "u"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(Hex.digit(c >> 4))
            bytes.append(Hex.digit(c & 0xF))
        }
    }
}
