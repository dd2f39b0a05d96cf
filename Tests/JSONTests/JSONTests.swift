import Foundation
import JSON
import Fixtures
import Testing


private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func parse(_ text: String, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
    try JSONParser.parse(bytes(text), maxDepth: maxDepth)
}

private func text(_ value: JSONValue) -> String {
    String(decoding: JSONWriter.write(value), as: UTF8.self)
}

/// Expects `input` to be rejected at `offset` with a message containing `message`.
private func expectRejected(_ input: [UInt8], at offset: Int, _ message: String, maxDepth: Int = 64,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let value = try JSONParser.parse(input, maxDepth: maxDepth)
        Issue.record("accepted \(input) as \(value)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.offset == offset, "\(error) for \(String(decoding: input, as: UTF8.self).debugDescription)",
                sourceLocation: sourceLocation)
        #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
    }
}

private func expectRejected(_ input: String, at offset: Int, _ message: String, maxDepth: Int = 64,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    expectRejected(bytes(input), at: offset, message, maxDepth: maxDepth, sourceLocation: sourceLocation)
}

@Suite struct JSONTests {
    // MARK: Round trips

    @Test func nestedRoundTrip() throws {
        let value: JSONValue = .object([
            ("id", .int(42)),
            ("name", .string("café")),
            ("tags", .array([.string("a"), .array([]), .object([]), .null])),
            ("nested", .object([("deep", .array([.array([.bool(true), .bool(false)])])), ("pi", .double(3.25))])),
            ("neg", .int(-7)),
        ])
        let written = text(value)
        #expect(written == #"{"id":42,"name":"café","tags":["a",[],{},null],"nested":{"deep":[[true,false]],"pi":3.25},"neg":-7}"#)
        #expect(try parse(written) == value)
        // Key order is preserved and significant.
        #expect(try parse(#"{"b":1,"a":2}"#) == .object([("b", .int(1)), ("a", .int(2))]))
        #expect(try parse(#"{"b":1,"a":2}"#) != .object([("a", .int(2)), ("b", .int(1))]))
    }

    @Test func whitespaceAndScalars() throws {
        #expect(try parse(" \t\r\n[ 1 , true,false , null , \"x\" ] \n") ==
            .array([.int(1), .bool(true), .bool(false), .null, .string("x")]))
        #expect(try parse("0") == .int(0))
        #expect(try parse("\"\"") == .string(""))
        #expect(try parse("{ \"a\" : { } }") == .object([("a", .object([]))]))
        // Duplicate keys are kept; the subscript finds the first.
        let dup = try parse(#"{"k":1,"k":2}"#)
        #expect(dup.objectValue?.count == 2)
        #expect(dup["k"] == .int(1))
    }

    @Test func parsesFromRawBufferSlice() throws {
        let storage = bytes("xx[1,2]yy")
        let value = try storage.withUnsafeBytes { raw throws(JSONError) in
            try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[2..<7]))
        }
        #expect(value == .array([.int(1), .int(2)]))
        // Offsets are relative to the buffer passed in.
        let error = storage.withUnsafeBytes { raw -> JSONError? in
            do throws(JSONError) {
                _ = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[2..<8]))
                return nil
            } catch { return error }
        }
        #expect(error == JSONError(offset: 5, message: "unexpected character 'y' after JSON value"))
        #expect(throws: JSONError(offset: 0, message: "unexpected end of input, expected a value")) {
            try JSONParser.parse(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    // MARK: Strings

    @Test func escapesDecode() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u00E9\u20ac\u0000""#) == .string("Aéé€\u{0}"))
        // Astral characters as surrogate pairs, in either hex case.
        #expect(try parse(#""\ud83d\ude00 \uD83C\uDDF3\uD83C\uDDF1""#) == .string("😀 🇳🇱"))
        #expect(try parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        // Escapes mixed with raw multi-byte UTF-8 and long plain runs.
        #expect(try parse(#""日本語\n😀 plain text that is longer than eight bytes\t""#) ==
            .string("日本語\n😀 plain text that is longer than eight bytes\t"))
    }

    @Test func escapesEncode() throws {
        var control = ""
        for c in 0..<0x20 { control.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        let written = text(.string("\"\\/" + control + "\u{7F}é😀"))
        let expected = #""\"\\/\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
            + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#
            + "\u{7F}é😀\""
        #expect(written == expected)
        #expect(try parse(written) == .string("\"\\/" + control + "\u{7F}é😀"))
        #expect(text(.object([("k\"ey\n", .string("v"))])) == #"{"k\"ey\n":"v"}"#)
    }

    @Test func rawUnicodeRoundTrip() throws {
        for s in ["héllo", "日本語テキスト", "emoji 😀👍🏽 and flags 🇯🇵", "\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}"] {
            #expect(try parse(text(.string(s))) == .string(s))
        }
    }

    // MARK: Rejections

    @Test func rejectsTrailingCommas() {
        expectRejected("[1,2,]", at: 5, "trailing comma in array")
        expectRejected("[1, ]", at: 4, "trailing comma in array")
        expectRejected(#"{"a":1,}"#, at: 7, "trailing comma in object")
        expectRejected("[,]", at: 1, "expected a value")
        expectRejected("[1,,2]", at: 3, "expected a value")
    }

    @Test func rejectsLeadingZeros() {
        expectRejected("01", at: 0, "leading zeros")
        expectRejected("-012", at: 0, "leading zeros")
        expectRejected("[1, 00]", at: 4, "leading zeros")
        expectRejected("00.5", at: 0, "leading zeros")
    }

    @Test func rejectsNaNAndInfinity() {
        expectRejected("NaN", at: 0, "NaN and Infinity")
        expectRejected("Infinity", at: 0, "NaN and Infinity")
        expectRejected("[-Infinity]", at: 2, "NaN and Infinity")
        expectRejected("nan", at: 1, "invalid literal, expected 'null'")
        expectRejected("1e400", at: 0, "number out of range")
        expectRejected("-1e400", at: 0, "number out of range")
    }

    @Test func rejectsMalformedNumbers() {
        expectRejected("-", at: 1, "expected digit after '-'")
        expectRejected("1.", at: 2, "expected digit after decimal point")
        expectRejected("1.e5", at: 2, "expected digit after decimal point")
        expectRejected("1e", at: 2, "expected digit in exponent")
        expectRejected("1e+", at: 3, "expected digit in exponent")
        expectRejected(".5", at: 0, "unexpected character '.'")
        expectRejected("+1", at: 0, "unexpected character '+'")
        expectRejected("0x10", at: 1, "after JSON value")
    }

    @Test func rejectsControlCharactersInStrings() {
        expectRejected("\"a\nb\"", at: 2, "unescaped control character 0x0A")
        expectRejected("\"\t\"", at: 1, "unescaped control character 0x09")
        expectRejected([0x22, 0x61, 0x00, 0x22], at: 2, "unescaped control character 0x00")
        expectRejected("\"a\\n plain run\u{1F}\"", at: 14, "unescaped control character 0x1F")
        expectRejected("\"0123456789abcdef\u{1}\"", at: 17, "unescaped control character 0x01")
    }

    @Test func rejectsInvalidEscapes() {
        expectRejected(#""\x""#, at: 1, #"invalid escape sequence '\x'"#)
        expectRejected(#""ab\'""#, at: 3, "invalid escape sequence")
        expectRejected(#""\u12G4""#, at: 1, "expected four hex digits")
        expectRejected(#""\u12""#, at: 1, "expected four hex digits")
        expectRejected(#""\u12"#, at: 1, "unexpected end of input")
        expectRejected(#""\"#, at: 1, "unexpected end of input")
        expectRejected(#""abc"#, at: 4, "unexpected end of input in string")
    }

    @Test func rejectsLoneSurrogates() {
        expectRejected(#""\ud800""#, at: 1, "unpaired high surrogate")
        expectRejected(#""ab\ud83dx""#, at: 3, "unpaired high surrogate")
        expectRejected(#""\ud83d\u0041""#, at: 1, "unpaired high surrogate")
        expectRejected(#""\ud83d\ud83d""#, at: 1, "unpaired high surrogate")
        expectRejected(#""\ud83d\ue000""#, at: 1, "unpaired high surrogate")
        expectRejected(#""\udbff\uffff""#, at: 1, "unpaired high surrogate")
        expectRejected(#""\ud83d\n""#, at: 1, "unpaired high surrogate")
        expectRejected(#""\udc00""#, at: 1, "unpaired low surrogate")
        expectRejected(#""x\ude00\ud83d""#, at: 2, "unpaired low surrogate")
        expectRejected(#""\ud83d\uZZZZ""#, at: 7, "expected four hex digits")
    }

    @Test func rejectsInvalidUTF8() {
        let q: UInt8 = 0x22
        expectRejected([q, 0xFF, q], at: 1, "invalid UTF-8 byte 0xFF")
        expectRejected([q, 0x80, q], at: 1, "invalid UTF-8 byte 0x80")        // stray continuation
        expectRejected([q, 0xC0, 0x80, q], at: 1, "invalid UTF-8 byte 0xC0")  // overlong NUL
        expectRejected([q, 0xE0, 0x80, 0xAF, q], at: 1, "invalid UTF-8 sequence")  // overlong '/'
        expectRejected([q, 0xED, 0xA0, 0x80, q], at: 1, "invalid UTF-8 sequence")  // encoded surrogate
        expectRejected([q, 0xF4, 0x90, 0x80, 0x80, q], at: 1, "invalid UTF-8 sequence")  // > U+10FFFF
        expectRejected([q, 0xF5, 0x80, 0x80, 0x80, q], at: 1, "invalid UTF-8 byte 0xF5")
        expectRejected([q, 0x61, 0xE2, 0x28, 0xA1, q], at: 2, "invalid UTF-8 sequence")
        expectRejected([q, 0x61, 0xE2, 0x82], at: 2, "truncated UTF-8 sequence")
        expectRejected([q, 0xE2, 0x82, 0x28, q], at: 1, "invalid UTF-8 sequence")  // bad third byte
        expectRejected([q, 0xF0, 0x9F, 0x98, 0x41, q], at: 1, "invalid UTF-8 sequence")  // bad fourth byte
        // In the escaped-string path too, and after a long ASCII run.
        expectRejected([q, 0x5C, 0x6E, 0xC3, 0x28, q], at: 3, "invalid UTF-8 sequence")
        expectRejected(bytes("\"0123456789abcdef") + [0xFE, q], at: 17, "invalid UTF-8 byte 0xFE")
        // Outside strings, and a byte-order mark.
        expectRejected([0xC3, 0xA9], at: 0, "unexpected byte 0xC3")
        expectRejected([0xEF, 0xBB, 0xBF, 0x31], at: 0, "unexpected byte 0xEF")
    }

    @Test func rejectsTrailingGarbage() {
        expectRejected("{} x", at: 3, "unexpected character 'x' after JSON value")
        expectRejected("1 2", at: 2, "after JSON value")
        expectRejected(#""a""b""#, at: 3, "after JSON value")
        expectRejected("[1]]", at: 3, "after JSON value")
        expectRejected("null\u{0}", at: 4, "unexpected byte 0x00 after JSON value")
        expectRejected("truex", at: 4, "after JSON value")
    }

    @Test func rejectsStructuralErrors() throws {
        expectRejected("", at: 0, "unexpected end of input")
        expectRejected("   ", at: 3, "unexpected end of input")
        expectRejected(#"{"a" 1}"#, at: 5, "expected ':' after object key")
        expectRejected(#"{"a""#, at: 4, "expected ':' after object key")
        expectRejected("{1:2}", at: 1, "expected string as object key")
        expectRejected("{'a':1}", at: 1, "expected string as object key")
        expectRejected(#"{"a":1 "b":2}"#, at: 7, "expected ',' or '}'")
        expectRejected("[1 2]", at: 3, "expected ',' or ']'")
        expectRejected("[1", at: 2, "unexpected end of input")
        expectRejected(#"{"a":"#, at: 5, "unexpected end of input")
        expectRejected("tru", at: 3, "invalid literal, expected 'true'")
        expectRejected("fals3", at: 4, "invalid literal, expected 'false'")
        expectRejected("]", at: 0, "unexpected character ']'")
        let error = JSONError(offset: 5, message: "expected ':' after object key")
        #expect(throws: error) { try parse(#"{"a" 1}"#) }
        #expect(error.description == "invalid JSON at byte 5: expected ':' after object key")
    }

    @Test func maxDepth() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try parse(ok) != .null)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        expectRejected(tooDeep, at: 64, "nesting deeper than 64 levels")
        expectRejected(#"{"a":{"b":[1]}}"#, at: 10, "nesting deeper than 2 levels", maxDepth: 2)
        #expect(try parse(#"{"a":{"b":1}}"#, maxDepth: 2)["a"]?["b"] == .int(1))
        // Depth counts nesting, not the total number of containers.
        #expect(try parse("[[],[],{},[[]]]", maxDepth: 3).arrayValue?.count == 4)
        expectRejected("[]", at: 0, "nesting deeper than 0 levels", maxDepth: 0)
        #expect(try parse("7", maxDepth: 0) == .int(7))
        // A deep but valid document within a large limit.
        let deep = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        #expect(try parse(deep, maxDepth: 2000) != .null)
    }

    // MARK: Numbers

    @Test func integersAndDoubles() throws {
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808.0))
        #expect(try parse("-9223372036854775809") == .double(-9_223_372_036_854_775_809.0))
        #expect(try parse("18446744073709551615") == .double(18_446_744_073_709_551_615.0))
        #expect(try parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("-0.0") == .double(-0.0))
        #expect(try parse("1.0") == .double(1.0))
        #expect(try parse("1E2") == .double(100))
        #expect(try parse("1e-2") == .double(0.01))
        #expect(try parse("0.1") == .double(0.1))
        #expect(try parse("-123.456e+7") == .double(-123.456e7))
        #expect(try parse("2.2250738585072014e-308") == .double(2.2250738585072014e-308))
        #expect(try parse("5e-324") == .double(.leastNonzeroMagnitude))
        #expect(try parse("1e-400") == .double(0))
        #expect(try parse("1.7976931348623157e308") == .double(.greatestFiniteMagnitude))
        #expect(try parse("0.30000000000000004") == .double(0.30000000000000004))
        #expect(try parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try parse("9007199254740993.0") == .double(9_007_199_254_740_992))

        #expect(text(.int(.min)) == "-9223372036854775808")
        #expect(text(.int(.max)) == "9223372036854775807")
        #expect(text(.array([.int(0), .int(-1), .int(10), .int(1_000_000)])) == "[0,-1,10,1000000]")
        var writer = JSONWriter(capacity: 32)
        writer.uint(.max)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "18446744073709551615")
        #expect(text(.double(1)) == "1.0")
        #expect(text(.double(.infinity)) == "null")
        #expect(text(.double(.nan)) == "null")
        for d in [0.1, -2.5e-300, 1e300, 6.02214076e23, 1.0 / 3.0, .leastNonzeroMagnitude] {
            #expect(try parse(text(.double(d))) == .double(d))
        }

        #expect(JSONValue.int(5).uint64Value == 5)
        #expect(JSONValue.int(-5).uint64Value == nil)
        #expect(JSONValue.int(-5).int64Value == -5)
        #expect(JSONValue.double(5).int64Value == nil)
        #expect(JSONValue.int(5) != .double(5))
    }

    @Test func accessors() throws {
        let v = try parse(#"{"s":"x","i":-3,"u":3,"b":true,"a":[1],"o":{"k":null},"d":1.5}"#)
        #expect(v["s"]?.stringValue == "x")
        #expect(v["i"]?.int64Value == -3)
        #expect(v["u"]?.uint64Value == 3)
        #expect(v["b"]?.boolValue == true)
        #expect(v["a"]?.arrayValue == [.int(1)])
        #expect(v["o"]?.objectValue?.first?.0 == "k")
        #expect(v["o"]?["k"] == .null)
        #expect(v["d"]?.doubleValue == 1.5)
        #expect(v["missing"] == nil)
        #expect(v["s"]?["x"] == nil)
        #expect(v["s"]?.int64Value == nil)
        #expect(JSONValue.null.stringValue == nil)
        #expect(JSONValue.array([]).objectValue == nil)
        #expect(v.description == #"{"s":"x","i":-3,"u":3,"b":true,"a":[1],"o":{"k":null},"d":1.5}"#)
    }

    // MARK: Writer

    @Test func writerInsertsCommas() throws {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("a"); w.int(1)
        w.key("b"); w.beginArray()
        w.string("x"); w.null(); w.bool(false)
        w.beginObject(); w.endObject()
        w.beginArray(); w.endArray()
        w.raw(Array(#"{"pre":"encoded"}"#.utf8))
        w.uint(7)
        w.endArray()
        w.key("c"); w.beginObject(); w.key("d"); w.bool(true); w.endObject()
        w.key("e"); w.raw(Array("[1,2]".utf8))
        w.endObject()
        let out = String(decoding: w.bytes, as: UTF8.self)
        #expect(out == #"{"a":1,"b":["x",null,false,{},[],{"pre":"encoded"},7],"c":{"d":true},"e":[1,2]}"#)
        #expect(try JSONParser.parse(w.bytes)["c"]?["d"] == .bool(true))
    }

    // MARK: Property test

    @Test func randomizedRoundTrip() throws {
        let seed = ProcessInfo.processInfo.environment["JSON_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: .min ... .max)
        print("seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        for iteration in 0..<1500 {
            let value = randomValue(&rng, depth: 0)
            let written = JSONWriter.write(value)
            let parsed = try JSONParser.parse(written)
            #expect(parsed == value, "seed \(seed), iteration \(iteration): \(value)")
            #expect(JSONWriter.write(parsed) == written, "seed \(seed), iteration \(iteration)")
            // The same value with random whitespace and random \u escapes.
            var loose = ""
            looseSerialize(value, into: &loose, &rng)
            let reparsed = try JSONParser.parse(Array(loose.utf8))
            #expect(reparsed == value, "seed \(seed), iteration \(iteration): \(loose)")
            if parsed != value || reparsed != value { break }
        }
        // Decimal text in, compared with the standard library's correctly rounded parse.
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...20, using: &rng)
            var number = Int.random(in: 0...1, using: &rng) == 0 ? "" : "-"
            number += String(Int.random(in: 1...9, using: &rng))
            for _ in 1..<digits { number += String(Int.random(in: 0...9, using: &rng)) }
            if Bool.random(using: &rng) {
                let point = Int.random(in: 0...digits, using: &rng)
                if point < digits { number = number + "." + String(Int.random(in: 0...99_999, using: &rng)) }
            }
            number += "e" + String(Int.random(in: -330...310, using: &rng))
            let expected = Double(number)!
            if !expected.isFinite { continue }
            #expect(try JSONParser.parse(Array(number.utf8)) == .double(expected), "seed \(seed): \(number)")
        }
    }

    // MARK: Foundation cross-check

    @Test func agreesWithFoundation() throws {
        let documents = [
            #"{"id":1,"name":"Zoë","tags":["a","b"],"ok":true,"none":null,"ratio":0.125}"#,
            #"[0.1, 1e-7, 123.456e10, -0.000001, 1.7976931348623157e308, 4.9e-324, 12345678901234567]"#,
            #"{"escapes":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","nested":{"a":[{"b":[[]]}]}}"#,
            #"[-9223372036854775808, 9223372036854775807, 0, -1, 2.5E+3]"#,
            #" "just a string \u2028" "#,
            #"{"日本":"語","emoji":"👍🏽","empty":{},"list":[]}"#,
        ]
        for document in documents {
            let ours = try parse(document)
            let theirs = try JSONSerialization.jsonObject(with: Data(document.utf8), options: [.fragmentsAllowed])
            #expect(matches(ours, theirs), "\(document)")
            // Foundation also reads what we write.
            let rewritten = try JSONSerialization.jsonObject(with: Data(JSONWriter.write(ours)),
                                                             options: [.fragmentsAllowed])
            #expect(matches(ours, rewritten), "\(document)")
        }
        // Both reject these. (Foundation on Linux accepts trailing commas, which we reject.)
        for invalid in ["01", "NaN", #""\x""#, "[1] x", #"{"a" 1}"#, "[1 2]", #""\ud800""#] {
            #expect(throws: JSONError.self) { try parse(invalid) }
            #expect(throws: (any Error).self) {
                try JSONSerialization.jsonObject(with: Data(invalid.utf8), options: [.fragmentsAllowed])
            }
        }
    }

    // MARK: Throughput (run by hand; never asserts on time)

    /// `JSON_BENCH=1 swift test -c release --filter JSONTests/throughput`
    @Test(.enabled(if: ProcessInfo.processInfo.environment["JSON_BENCH"] != nil))
    func throughput() throws {
        let clock = ContinuousClock()
        var writer = JSONWriter(capacity: 11_000_000)
        var records = 0
        let writeTime = clock.measure {
            writer.beginArray()
            while writer.bytes.count < 10_000_000 {
                let n = Int64(records)
                writer.beginObject()
                writer.key("id"); writer.int(n)
                writer.key("replica"); writer.string("r-\(n % 7)")
                writer.key("name"); writer.string("user \(n)")
                writer.key("email"); writer.string("user\(n)@example.com")
                writer.key("active"); writer.bool(n % 3 != 0)
                writer.key("score"); writer.int(-n * 37 % 10_007)
                writer.key("hlc"); writer.uint(1_700_000_000_000 &+ UInt64(n) &* 13)
                writer.key("city"); writer.string(n % 10 == 0 ? "Zürich" : "Amsterdam")
                writer.key("note"); writer.string(n % 50 == 0 ? "line one\nline \"two\"" : "ok")
                writer.key("deleted"); writer.null()
                writer.endObject()
                records += 1
            }
            writer.endArray()
        }
        let document = writer.bytes
        let megabytes = Double(document.count) / 1_000_000
        var best = Duration.seconds(1_000)
        var count = 0
        for _ in 0..<5 {
            let elapsed = try clock.measure {
                count = try JSONParser.parse(document).arrayValue?.count ?? 0
            }
            best = min(best, elapsed)
        }
        #expect(count == records)
        let foundationTime = try clock.measure {
            _ = try JSONSerialization.jsonObject(with: Data(document))
        }
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        print(String(format: "document: %.1f MB, %d records of 10 fields", megabytes, records))
        print(String(format: "JSONParser.parse: %.0f MB/s, %.0f records/s (best of 5)",
                     megabytes / seconds(best), Double(records) / seconds(best)))
        print(String(format: "JSONWriter:       %.0f MB/s (including string interpolation)",
                     megabytes / seconds(writeTime)))
        print(String(format: "JSONSerialization: %.0f MB/s (for comparison)", megabytes / seconds(foundationTime)))
    }
}

// MARK: - Helpers

/// A random value tree: scalars of every kind, strings across all UTF-8 lengths
/// and escape classes, and nested containers up to depth 5.
private func randomValue(_ rng: inout SeededGenerator, depth: Int) -> JSONValue {
    let kind = Int.random(in: 0..<(depth < 5 ? 9 : 6), using: &rng)
    switch kind {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2:
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return .int(Int64.random(in: -1000...1000, using: &rng))
        case 1: return .int(Int64.random(in: .min ... .max, using: &rng))
        default: return .int([Int64.min, .max, 0, -1].randomElement(using: &rng)!)
        }
    case 3:
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            var d: Double
            repeat { d = Double(bitPattern: rng.next()) } while !d.isFinite
            return .double(d)
        case 1: return .double(Double(Int.random(in: -100_000...100_000, using: &rng)) / 1000)
        default: return .double(Double(Int64.random(in: -1_000_000...1_000_000, using: &rng)))
        }
    case 4, 5: return .string(randomString(&rng))
    case 6, 7:
        let count = Int.random(in: 0...5, using: &rng)
        return .array((0..<count).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        let count = Int.random(in: 0...5, using: &rng)
        return .object((0..<count).map { _ in (randomString(&rng), randomValue(&rng, depth: depth + 1)) })
    }
}

private func randomString(_ rng: inout SeededGenerator) -> String {
    var s = String.UnicodeScalarView()
    let length = Int.random(in: 0...24, using: &rng)
    for _ in 0..<length {
        let range: ClosedRange<UInt32>
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: range = 0...0x1F
        case 1: range = 0x22...0x22
        case 2: range = 0x5C...0x5C
        case 3: range = 0x80...0x7FF
        case 4: range = 0x800...0xFFFF
        case 5: range = 0x10000...0x10FFFF
        default: range = 0x20...0x7F
        }
        var scalar: Unicode.Scalar?
        repeat { scalar = Unicode.Scalar(UInt32.random(in: range, using: &rng)) } while scalar == nil
        s.append(scalar!)
    }
    return String(s)
}

/// Serializes with random whitespace and random `\u` escapes (surrogate pairs
/// for astral characters) to exercise the parser's slower paths.
private func looseSerialize(_ value: JSONValue, into out: inout String, _ rng: inout SeededGenerator) {
    func space() {
        for _ in 0..<Int.random(in: 0...2, using: &rng) { out += [" ", "\t", "\n", "\r"].randomElement(using: &rng)! }
    }
    func quoted(_ s: String) {
        out += "\""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || v == 0x22 || v == 0x5C || Int.random(in: 0..<4, using: &rng) == 0 {
                func hex(_ unit: UInt32) -> String {
                    let h = String(unit, radix: 16, uppercase: Bool.random(using: &rng))
                    return "\\u" + String(repeating: "0", count: 4 - h.count) + h
                }
                if v >= 0x10000 {
                    let u = v - 0x10000
                    out += hex(0xD800 + (u >> 10)) + hex(0xDC00 + (u & 0x3FF))
                } else {
                    out += hex(v)
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
    space()
    switch value {
    case .string(let s):
        quoted(s)
    case .array(let elements):
        out += "["
        space()
        for (i, element) in elements.enumerated() {
            if i > 0 { out += "," }
            looseSerialize(element, into: &out, &rng)
        }
        out += "]"
    case .object(let members):
        out += "{"
        space()
        for (i, (key, member)) in members.enumerated() {
            if i > 0 { out += "," }
            space()
            quoted(key)
            space()
            out += ":"
            looseSerialize(member, into: &out, &rng)
        }
        out += "}"
    default:
        out += String(decoding: JSONWriter.write(value), as: UTF8.self)
    }
    space()
}

/// Whether our value matches what `JSONSerialization` produced.
private func matches(_ ours: JSONValue, _ theirs: Any) -> Bool {
    switch ours {
    case .null:
        return theirs is NSNull
    case .bool(let b):
        return (theirs as? NSNumber)?.boolValue == b
    case .int(let i):
        return (theirs as? NSNumber)?.int64Value == i
    case .double(let d):
        return (theirs as? NSNumber)?.doubleValue == d
    case .string(let s):
        return (theirs as? String) == s
    case .array(let elements):
        guard let array = theirs as? [Any], array.count == elements.count else { return false }
        return zip(elements, array).allSatisfy { matches($0, $1) }
    case .object(let members):
        guard let dictionary = theirs as? [String: Any], dictionary.count == members.count else { return false }
        return members.allSatisfy { key, value in dictionary[key].map { matches(value, $0) } ?? false }
    }
}
