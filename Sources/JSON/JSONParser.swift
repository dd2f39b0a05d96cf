import Bytes

/// Why a document is not valid JSON, and where.
public struct JSONError: Error, CustomStringConvertible, Equatable {
    /// Zero-based byte offset of the problem in the input.
    public var offset: Int
    /// What was wrong, e.g. `expected ':' after object key`.
    public var message: String

    /// Creates an error at `offset` with `message`.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `invalid JSON at byte <offset>: <message>`.
    public var description: String {
        "invalid JSON at byte \(offset): \(message)"
    }
}

/// A strict RFC 8259 JSON parser working directly on UTF-8 bytes.
///
/// Rejects trailing commas, leading zeros, `NaN`/`Infinity`, unescaped control
/// characters, invalid escapes, unpaired surrogates in `\u` escapes, invalid
/// UTF-8, numbers that overflow `Double`, a byte-order mark, anything but
/// whitespace after the value, and nesting deeper than `maxDepth`. Integers
/// without fraction or exponent that fit `Int64` become `.int` (`-0` is
/// `.int(0)`); all other numbers become `.double`. Duplicate object keys are kept.
public struct JSONParser {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private let maxDepth: Int
    private var index = 0
    private var depth = 0
    /// Reused buffer for strings that contain escapes.
    private var scratch: [UInt8] = []

    private init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        self.base = base
        self.end = count
        self.maxDepth = maxDepth
    }

    /// Parses one JSON value filling all of `bytes` (surrounding whitespace allowed).
    ///
    /// `maxDepth` is the most arrays and objects that may be nested inside
    /// one another; 0 allows only a scalar.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        guard let address = bytes.baseAddress, bytes.count > 0 else {
            throw JSONError(offset: 0, message: "unexpected end of input, expected a value")
        }
        var parser = JSONParser(base: address.assumingMemoryBound(to: UInt8.self),
                                count: bytes.count, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses one JSON value filling all of `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError> = bytes.withUnsafeBytes { raw in
            do throws(JSONError) {
                return .success(try parse(raw, maxDepth: maxDepth))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: Structure

    private mutating func parseDocument() throws(JSONError) -> JSONValue {
        let value = try parseValue()
        skipWhitespace()
        if index < end {
            throw JSONError(offset: index, message: "unexpected \(describe(base[index])) after JSON value")
        }
        return value
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < end {
            let c = base[index]
            guard c <= 0x20, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            index &+= 1
        }
    }

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        skipWhitespace()
        guard index < end else {
            throw JSONError(offset: index, message: "unexpected end of input, expected a value")
        }
        switch base[index] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw JSONError(offset: index, message: "NaN and Infinity are not valid JSON")
        case let c:
            throw JSONError(offset: index, message: "unexpected \(describe(c)), expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let length = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for k in 0..<length where index + k >= end || base[index + k] != text[k] {
            throw JSONError(offset: index + k, message: "invalid literal, expected '\(literal)'")
        }
        index &+= length
    }

    private mutating func enter() throws(JSONError) {
        depth &+= 1
        if depth > maxDepth {
            throw JSONError(offset: index, message: "nesting deeper than \(maxDepth) levels")
        }
        index &+= 1
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        try enter()
        skipWhitespace()
        var elements: [JSONValue] = []
        if index < end && base[index] == UInt8(ascii: "]") {
            index &+= 1
            depth &-= 1
            return .array(elements)
        }
        repeat {
            elements.append(try parseValue())
        } while try !endOfElement(UInt8(ascii: "]"), in: "array", after: "array element")
        depth &-= 1
        return .array(elements)
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        try enter()
        skipWhitespace()
        var members: [(String, JSONValue)] = []
        if index < end && base[index] == UInt8(ascii: "}") {
            index &+= 1
            depth &-= 1
            return .object(members)
        }
        while true {
            guard index < end else {
                throw JSONError(offset: index, message: "unexpected end of input, expected object key")
            }
            guard base[index] == UInt8(ascii: "\"") else {
                throw JSONError(offset: index, message: "expected string as object key, found \(describe(base[index]))")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < end, base[index] == UInt8(ascii: ":") else {
                throw JSONError(offset: index, message: "expected ':' after object key")
            }
            index &+= 1
            let value = try parseValue()
            members.append((key, value))
            if try endOfElement(UInt8(ascii: "}"), in: "object", after: "object member") { break }
        }
        depth &-= 1
        return .object(members)
    }

    /// After an array element or object member: consumes the `,` before the next one
    /// (refusing a trailing comma) or the closing bracket; true at the closing bracket.
    private mutating func endOfElement(_ close: UInt8, in container: String, after element: String) throws(JSONError) -> Bool {
        skipWhitespace()
        guard index < end else {
            throw JSONError(offset: index, message: "unexpected end of input, expected ',' or '\(Character(Unicode.Scalar(close)))' in \(container)")
        }
        let c = base[index]
        if c == close {
            index &+= 1
            return true
        }
        guard c == UInt8(ascii: ",") else {
            throw JSONError(offset: index, message: "expected ',' or '\(Character(Unicode.Scalar(close)))' after \(element), found \(describe(c))")
        }
        index &+= 1
        skipWhitespace()
        if index < end && base[index] == close {
            throw JSONError(offset: index, message: "trailing comma in \(container)")
        }
        return false
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote.
    private mutating func parseString() throws(JSONError) -> String {
        index &+= 1
        let start = index
        while true {
            // Skip 8 plain ASCII bytes at a time: none of `"`, `\`, < 0x20, >= 0x80.
            while index &+ 8 <= end {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101
                let highs: UInt64 = 0x8080_8080_8080_8080
                let quote = word ^ (ones &* 0x22)
                let slash = word ^ (ones &* 0x5C)
                // SWAR "has a byte less than n" / "has a zero byte": some high bit
                // of `special` is set iff some byte is < 0x20, `"`, `\` or >= 0x80.
                // (`~word` stands in for `~quote` and `~slash`: their high bits agree
                // whenever no byte of `word` has its high bit set.)
                let special = ((word &- ones &* 0x20) | (quote &- ones) | (slash &- ones)) & ~word | word
                if special & highs != 0 { break }
                index &+= 8
            }
            guard index < end else {
                throw JSONError(offset: index, message: "unexpected end of input in string")
            }
            let c = base[index]
            if c == UInt8(ascii: "\"") {
                let string = String(decoding: UnsafeBufferPointer(start: base + start, count: index &- start),
                                    as: UTF8.self)
                index &+= 1
                return string
            } else if c == UInt8(ascii: "\\") {
                return try parseEscapedString(from: start)
            } else if c < 0x20 {
                throw controlCharacter(c)
            } else if c < 0x80 {
                index &+= 1
            } else {
                try skipUTF8Sequence()
            }
        }
    }

    /// Finishes a string whose raw bytes began at `start` and which has an
    /// escape at `index`, decoding into `scratch`.
    private mutating func parseEscapedString(from start: Int) throws(JSONError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: index &- start))
        var runStart = index
        while index < end {
            let c = base[index]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                if index > runStart {
                    scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index &- runStart))
                }
                if c == UInt8(ascii: "\"") {
                    index &+= 1
                    return String(decoding: scratch, as: UTF8.self)
                }
                try decodeEscape()
                runStart = index
            } else if c < 0x20 {
                throw controlCharacter(c)
            } else if c < 0x80 {
                index &+= 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw JSONError(offset: index, message: "unexpected end of input in string")
    }

    /// Decodes the escape at `index` (a backslash) into `scratch`.
    private mutating func decodeEscape() throws(JSONError) {
        guard index &+ 1 < end else {
            throw JSONError(offset: index, message: "unexpected end of input in escape sequence")
        }
        let escaped: UInt8
        switch base[index &+ 1] {
        case UInt8(ascii: "\""): escaped = 0x22
        case UInt8(ascii: "\\"): escaped = 0x5C
        case UInt8(ascii: "/"): escaped = 0x2F
        case UInt8(ascii: "b"): escaped = 0x08
        case UInt8(ascii: "f"): escaped = 0x0C
        case UInt8(ascii: "n"): escaped = 0x0A
        case UInt8(ascii: "r"): escaped = 0x0D
        case UInt8(ascii: "t"): escaped = 0x09
        case UInt8(ascii: "u"):
            try decodeUnicodeEscape()
            return
        case let other:
            throw JSONError(offset: index, message: "invalid escape sequence '\\\(describeRaw(other))'")
        }
        scratch.append(escaped)
        index &+= 2
    }

    /// Decodes `\uXXXX` (or a surrogate pair `\uXXXX\uXXXX`) at `index` into `scratch`.
    private mutating func decodeUnicodeEscape() throws(JSONError) {
        let escapeStart = index
        var scalar = try hex4(at: index &+ 2, escapeAt: index)
        index &+= 6
        if scalar >= 0xD800 && scalar <= 0xDBFF {
            guard index &+ 1 < end, base[index] == UInt8(ascii: "\\"), base[index &+ 1] == UInt8(ascii: "u") else {
                throw JSONError(offset: escapeStart, message: "unpaired high surrogate in \\u escape")
            }
            let low = try hex4(at: index &+ 2, escapeAt: index)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw JSONError(offset: escapeStart, message: "unpaired high surrogate in \\u escape")
            }
            scalar = 0x10000 &+ ((scalar &- 0xD800) << 10) &+ (low &- 0xDC00)
            index &+= 6
        } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
            throw JSONError(offset: escapeStart, message: "unpaired low surrogate in \\u escape")
        }
        appendUTF8(scalar)
    }

    /// Reads four hex digits at `position`, for the escape starting at `escapeAt`.
    private func hex4(at position: Int, escapeAt: Int) throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 {
            let p = position &+ k
            guard p < end else {
                throw JSONError(offset: escapeAt, message: "unexpected end of input in \\u escape")
            }
            guard let digit = Hex.value(base[p]) else {
                throw JSONError(offset: escapeAt, message: "invalid \\u escape, expected four hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        if scalar < 0x80 {
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        } else if scalar < 0x800 {
            scratch.append(UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        } else if scalar < 0x10000 {
            scratch.append(UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        } else {
            scratch.append(UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        }
    }

    /// Validates the multi-byte UTF-8 sequence whose lead byte is at `index`
    /// (Unicode Table 3-7, as `UTF8Validation` checks it) and moves past it.
    private mutating func skipUTF8Sequence() throws(JSONError) {
        switch UTF8Validation.sequence(base, at: index, end: end) {
        case .valid(let length):
            index &+= length
        case .invalidLead:
            throw JSONError(offset: index, message: "invalid UTF-8 byte 0x\(hex(base[index]))")
        case .truncated:
            throw JSONError(offset: index, message: "truncated UTF-8 sequence")
        case .invalid:
            throw JSONError(offset: index, message: "invalid UTF-8 sequence")
        }
    }

    private func controlCharacter(_ c: UInt8) -> JSONError {
        JSONError(offset: index, message: "unescaped control character 0x\(hex(c)) in string")
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = index
        var negative = false
        if base[index] == UInt8(ascii: "-") {
            negative = true
            index &+= 1
            guard index < end, isDigit(base[index]) else {
                if index < end && base[index] == UInt8(ascii: "I") {
                    throw JSONError(offset: index, message: "NaN and Infinity are not valid JSON")
                }
                throw JSONError(offset: index, message: "expected digit after '-'")
            }
        }
        var mantissa: UInt64 = 0
        var overflow = false
        if base[index] == UInt8(ascii: "0") {
            index &+= 1
            if index < end && isDigit(base[index]) {
                throw JSONError(offset: start, message: "leading zeros are not allowed")
            }
        } else {
            while index < end, isDigit(base[index]) {
                accumulate(&mantissa, base[index], &overflow)
                index &+= 1
            }
        }
        var integral = true
        var exponent = 0
        if index < end && base[index] == UInt8(ascii: ".") {
            integral = false
            index &+= 1
            guard index < end, isDigit(base[index]) else {
                throw JSONError(offset: index, message: "expected digit after decimal point")
            }
            while index < end, isDigit(base[index]) {
                accumulate(&mantissa, base[index], &overflow)
                if !overflow { exponent &-= 1 }
                index &+= 1
            }
        }
        if index < end && (base[index] | 0x20) == UInt8(ascii: "e") {
            integral = false
            index &+= 1
            var exponentNegative = false
            if index < end && (base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-")) {
                exponentNegative = base[index] == UInt8(ascii: "-")
                index &+= 1
            }
            guard index < end, isDigit(base[index]) else {
                throw JSONError(offset: index, message: "expected digit in exponent")
            }
            var written = 0
            while index < end, isDigit(base[index]) {
                if written < 100_000 { written = written &* 10 &+ Int(base[index] &- 0x30) }
                index &+= 1
            }
            exponent &+= exponentNegative ? -written : written
        }
        if integral && !overflow {
            if negative {
                if mantissa <= UInt64(Int64.max) { return .int(-Int64(mantissa)) }
                if mantissa == UInt64(Int64.max) + 1 { return .int(.min) }
            } else if mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
        }
        // Exact fast path (Clinger): the mantissa and the power of ten are both
        // exactly representable, so one correctly rounded operation suffices.
        if !overflow && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / powerOf10(-exponent) : value * powerOf10(exponent)
            return .double(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index &- start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONError(offset: start, message: "number out of range")
        }
        return .double(value)
    }

    /// Adds a digit to `mantissa`; past 19 significant digits sets `overflow`
    /// (the slow path then parses the text).
    @inline(__always)
    private func accumulate(_ mantissa: inout UInt64, _ digit: UInt8, _ overflow: inout Bool) {
        let (times10, o1) = mantissa.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(digit &- 0x30))
        if o1 || o2 { overflow = true } else { mantissa = sum }
    }

    @inline(__always)
    private func isDigit(_ c: UInt8) -> Bool {
        c &- UInt8(ascii: "0") < 10
    }

    private func powerOf10(_ n: Int) -> Double {
        var result = 1.0
        var base = 10.0
        var n = n
        // n <= 22: every intermediate power 10^(2^k) and product is exact.
        while n > 0 {
            if n & 1 != 0 { result *= base }
            base *= base
            n >>= 1
        }
        return result
    }

    // MARK: Diagnostics

    private func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "character '\(describeRaw(c))'" }
        return "byte 0x\(hex(c))"
    }

    private func describeRaw(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return String(UnicodeScalar(c)) }
        return "0x" + hex(c)
    }

    private func hex(_ c: UInt8) -> String {
        withUnsafeBytes(of: c) { Hex.encode($0, uppercase: true) }
    }
}
