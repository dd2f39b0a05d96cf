import Dates
import JSON

/// A recursive-descent parser for SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2).
///
/// Precedence: `not` binds tighter than `and`, which binds tighter than `or`;
/// parentheses group. Keywords, operators and literals (`true`, `false`,
/// `null`) are case-insensitive, as ABNF strings are. Depth, length and the
/// number of comparisons are bounded, so hostile input fails with a clean
/// error and never exhausts the stack.
struct FilterParser {
    private let bytes: [UInt8]
    private let text: String
    private let schema: ResourceSchema
    private let errorKind: ScimError.Kind
    private var i = 0
    private var depth = 0
    private var terms = 0

    /// A parser over `text` for `schema`; every error it raises is of `errorKind`.
    init(_ text: String, schema: ResourceSchema, errorKind: ScimError.Kind) throws(ScimError) {
        guard text.utf8.count <= ScimFilter.maxLength else {
            throw ScimError.bad(errorKind, "the filter is longer than \(ScimFilter.maxLength) bytes")
        }
        self.text = text
        self.bytes = Array(text.utf8)
        self.schema = schema
        self.errorKind = errorKind
    }

    private func fail(_ message: String) -> ScimError {
        ScimError.bad(errorKind, "\(message) at offset \(i) of \"\(excerpt)\"")
    }

    private var excerpt: String {
        text.utf8.count <= 120 ? text : String(decoding: bytes.prefix(117), as: UTF8.self) + "..."
    }

    // MARK: Filters

    /// The whole text as one filter.
    mutating func parseWholeFilter() throws(ScimError) -> ScimFilter {
        skipSpaces()
        guard i < bytes.count else { throw ScimError.bad(errorKind, "the filter is empty") }
        let f = try parseOr(element: nil)
        skipSpaces()
        guard i == bytes.count else { throw fail("unexpected \(describeNext())") }
        return f
    }

    /// `element` is the attribute whose sub-attributes the paths name (inside `[...]`), or `nil`.
    private mutating func parseOr(element: AttributeDefinition?) throws(ScimError) -> ScimFilter {
        var terms = [try parseAnd(element: element)]
        while consumeKeyword("or") { terms.append(try parseAnd(element: element)) }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseAnd(element: AttributeDefinition?) throws(ScimError) -> ScimFilter {
        var terms = [try parseUnary(element: element)]
        while consumeKeyword("and") { terms.append(try parseUnary(element: element)) }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func parseUnary(element: AttributeDefinition?) throws(ScimError) -> ScimFilter {
        skipSpaces()
        guard i < bytes.count else { throw fail("expected an expression") }
        if bytes[i] == UInt8(ascii: "(") {
            try enter()
            i += 1
            let inner = try parseOr(element: element)
            try expect(UInt8(ascii: ")"))
            depth -= 1
            return inner
        }
        let save = i
        if let word = readWord(), word.lowercased() == "not" {
            skipSpaces()
            if i < bytes.count, bytes[i] == UInt8(ascii: "(") {
                try enter()
                i += 1
                let inner = try parseOr(element: element)
                try expect(UInt8(ascii: ")"))
                depth -= 1
                return .not(inner)
            }
            throw fail("\"not\" must be followed by a parenthesized filter")
        }
        i = save
        return try parseAttributeExpression(element: element)
    }

    private mutating func parseAttributeExpression(element: AttributeDefinition?) throws(ScimError) -> ScimFilter {
        terms += 1
        guard terms <= ScimFilter.maxTerms else {
            throw ScimError.bad(errorKind, "the filter has more than \(ScimFilter.maxTerms) comparisons")
        }
        let start = i
        guard let word = readWord() else { throw fail("expected an attribute name, found \(describeNext())") }
        var path = try resolve(word, element: element, at: start)
        if i < bytes.count, bytes[i] == UInt8(ascii: "[") {
            guard element == nil else { throw fail("value filters cannot be nested") }
            let parent = try valuePathParent(path, word)
            try enter()
            i += 1
            let inner = try parseOr(element: parent)
            try expect(UInt8(ascii: "]"))
            depth -= 1
            // `emails[type eq "work"].value eq "x"` (sent by some clients) means
            // `emails[type eq "work" and value eq "x"]`.
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                let subStart = i
                guard let sub = readWord(), !sub.contains("."), !sub.contains(":") else {
                    throw fail("expected a sub-attribute name after \"]\"")
                }
                let subPath = try resolve(sub, element: parent, at: subStart)
                let comparison = try parseComparison(subPath)
                return .valuePath(path, .and([inner, comparison]))
            }
            return .valuePath(path, inner)
        }
        // A complex attribute compared as a whole means its `value` sub-attribute (RFC 7644 §3.4.2.2).
        if let def = path.leaf, def.type == .complex, path.subAttribute == nil, let v = def.subAttribute("value") {
            path.subAttribute = v.name
            path.subDefinition = v
        }
        return try parseComparison(path)
    }

    private mutating func parseComparison(_ path: AttributePath) throws(ScimError) -> ScimFilter {
        guard skipSpaces() > 0 else { throw fail("expected a space and an operator after \"\(path)\"") }
        let opStart = i
        guard let opWord = readWord()?.lowercased() else { throw fail("expected an operator after \"\(path)\"") }
        if opWord == "pr" { return .present(path) }
        guard let op = ScimFilterOperator(rawValue: opWord) else {
            i = opStart
            throw fail("unknown operator \"\(opWord)\" (expected eq, ne, co, sw, ew, gt, ge, lt, le or pr)")
        }
        guard skipSpaces() > 0 else { throw fail("expected a space and a value after \"\(opWord)\"") }
        let valueStart = i
        let literal = try readLiteral()
        return .compare(path, op, try typed(literal, op, path, at: valueStart))
    }

    /// Checks a comparison against the attribute's type and converts the literal.
    private func typed(_ literal: JSONValue, _ op: ScimFilterOperator, _ path: AttributePath,
                       at offset: Int) throws(ScimError) -> JSONValue {
        guard let def = path.leaf else { throw ScimError.bad(errorKind, "unknown attribute \"\(path)\"") }
        func reject(_ why: String) -> ScimError {
            ScimError.bad(errorKind, "\(path) \(op.rawValue) \(literal): \(why)")
        }
        if case .null = literal {
            guard op == .eq || op == .ne else { throw reject("null can only be compared with eq or ne") }
            return literal
        }
        switch def.type {
        case .complex:
            throw reject("\(path) is complex; compare one of its sub-attributes")
        case .boolean:
            guard op == .eq || op == .ne else { throw reject("a boolean can only be compared with eq or ne") }
            if case .bool = literal { return literal }
            if case .string(let s) = literal, let b = Normalizer.booleanString(s) { return .bool(b) }
            throw reject("\(path) is a boolean")
        case .integer, .decimal:
            guard ![.co, .sw, .ew].contains(op) else { throw reject("co, sw and ew compare strings") }
            guard literal.doubleValue != nil else { throw reject("\(path) is a number") }
            return literal
        case .dateTime:
            guard ![.co, .sw, .ew].contains(op) else { throw reject("co, sw and ew compare strings") }
            guard case .string(let s) = literal, DateTime.milliseconds(s) != nil else {
                throw reject("\(path) is a date; compare it with a quoted xsd:dateTime")
            }
            return literal
        case .binary:
            guard op == .eq || op == .ne || [.co, .sw, .ew].contains(op) else {
                throw reject("binary values cannot be ordered")
            }
            guard case .string = literal else { throw reject("\(path) is a string") }
            return literal
        case .string, .reference:
            guard case .string = literal else { throw reject("\(path) is a string; quote the value") }
            return literal
        }
    }

    private func valuePathParent(_ path: AttributePath, _ word: String) throws(ScimError) -> AttributeDefinition {
        guard let def = path.definition, path.isKnown else {
            throw ScimError.bad(errorKind, "unknown attribute \"\(word)\"")
        }
        guard path.subAttribute == nil, def.type == .complex, def.multiValued else {
            throw ScimError.bad(errorKind, "\"\(word)\" is not a multi-valued complex attribute; it takes no [filter]")
        }
        return def
    }

    private func resolve(_ word: String, element: AttributeDefinition?, at offset: Int) throws(ScimError) -> AttributePath {
        if let element {
            guard AttributePath.isAttributeName(Substring(word)) else {
                throw ScimError.bad(errorKind, "\"\(word)\" inside \(element.name)[...] must be a sub-attribute name")
            }
            guard let sub = element.subAttribute(word) else {
                throw ScimError.bad(errorKind, "\(element.name) has no sub-attribute \"\(word)\"")
            }
            return AttributePath(scope: .core, attribute: sub.name, subAttribute: nil, definition: sub, subDefinition: nil)
        }
        let path = try AttributePath.resolve(word, in: schema, kind: errorKind)
        guard path.attribute != nil else {
            throw ScimError.bad(errorKind, "\"\(word)\" names an extension, not an attribute")
        }
        guard path.isKnown else { throw ScimError.bad(errorKind, "unknown attribute \"\(word)\"") }
        return path
    }

    // MARK: PATCH paths

    /// `attrPath` or `attrPath[valFilter]` or `attrPath[valFilter].subAttr` (RFC 7644 §3.5.2).
    mutating func parseWholePatchPath() throws(ScimError) -> PatchPath {
        skipSpaces()
        guard let word = readWord() else { throw fail("expected an attribute path") }
        let path = try AttributePath.resolve(word, in: schema, kind: errorKind)
        var result = PatchPath(attribute: path, filter: nil, subAttribute: nil, subDefinition: nil)
        if i < bytes.count, bytes[i] == UInt8(ascii: "[") {
            guard path.attribute != nil else { throw fail("an extension takes no [filter]") }
            let parent = try valuePathParent(path, word)
            try enter()
            i += 1
            result.filter = try parseOr(element: parent)
            try expect(UInt8(ascii: "]"))
            depth -= 1
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                let subStart = i
                guard let sub = readWord(), let sd = parent.subAttribute(sub) else {
                    i = subStart
                    throw fail("expected a sub-attribute of \(parent.name) after \"]\"")
                }
                result.subAttribute = sd.name
                result.subDefinition = sd
            }
        }
        skipSpaces()
        guard i == bytes.count else { throw fail("unexpected \(describeNext())") }
        return result
    }

    // MARK: Lexing

    private mutating func enter() throws(ScimError) {
        depth += 1
        guard depth <= ScimFilter.maxDepth else {
            throw ScimError.bad(errorKind, "the filter nests deeper than \(ScimFilter.maxDepth) levels")
        }
    }

    private mutating func expect(_ c: UInt8) throws(ScimError) {
        skipSpaces()
        guard i < bytes.count, bytes[i] == c else {
            throw fail("expected \"\(Character(Unicode.Scalar(c)))\", found \(describeNext())")
        }
        i += 1
    }

    @discardableResult
    private mutating func skipSpaces() -> Int {
        let start = i
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        return i - start
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x3A || b == 0x2E || b == 0x5F || b == 0x2D || b == 0x24
    }

    /// A run of attribute-path characters (`A–Z a–z 0–9 : . _ - $`), or `nil` if none.
    private mutating func readWord() -> String? {
        let start = i
        while i < bytes.count, Self.isWordByte(bytes[i]) { i += 1 }
        guard i > start else { return nil }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// Consumes ` and ` / ` or ` (case-insensitive) if it comes next; otherwise consumes nothing.
    private mutating func consumeKeyword(_ keyword: String) -> Bool {
        let save = i
        guard skipSpaces() > 0, let w = readWord(), w.lowercased() == keyword else {
            i = save
            return false
        }
        // The keyword must stand alone: followed by a space or a parenthesis.
        guard i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == UInt8(ascii: "(") else {
            i = save
            return false
        }
        return true
    }

    /// `compValue = false / null / true / number / string` (case-insensitive keywords).
    private mutating func readLiteral() throws(ScimError) -> JSONValue {
        guard i < bytes.count else { throw fail("expected a value") }
        if bytes[i] == UInt8(ascii: "\"") {
            let start = i
            i += 1
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard i < bytes.count else {
                i = start
                throw fail("unterminated string")
            }
            i += 1
            do {
                return try JSONParser.parse(Array(bytes[start..<i]), maxDepth: 0)
            } catch {
                i = start
                throw fail("invalid string (\(error.message))")
            }
        }
        let start = i
        while i < bytes.count, !(bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D
            || bytes[i] == UInt8(ascii: ")") || bytes[i] == UInt8(ascii: "]")) { i += 1 }
        let token = String(decoding: bytes[start..<i], as: UTF8.self)
        switch token.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if let first = token.utf8.first, first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39),
           token.utf8.count <= 64, let n = try? JSONParser.parse(Array(token.utf8), maxDepth: 0) {
            switch n {
            case .int, .double: return n
            default: break
            }
        }
        i = start
        throw fail("expected a value (a quoted string, a number, true, false or null), found \(describeNext())")
    }

    private func describeNext() -> String {
        guard i < bytes.count else { return "the end" }
        let end = min(bytes.count, i + 20)
        return "\"" + String(decoding: bytes[i..<end], as: UTF8.self) + (end < bytes.count ? "..." : "") + "\""
    }
}

/// A parsed PATCH `path`: an attribute, an optional value filter and an optional
/// sub-attribute after the filter (`emails[type eq "work"].value`).
public struct PatchPath: Sendable, Equatable, CustomStringConvertible {
    /// The attribute (with a sub-attribute when there is no filter: `name.givenName`).
    public var attribute: AttributePath
    /// The value selection filter over the attribute's elements.
    public var filter: ScimFilter?
    /// The sub-attribute of the matching elements.
    public var subAttribute: String?
    /// Its definition.
    public var subDefinition: AttributeDefinition?

    /// Parses a PATCH path; problems are 400 `invalidPath`.
    public static func parse(_ text: String, for schema: ResourceSchema) throws(ScimError) -> PatchPath {
        var p = try FilterParser(text, schema: schema, errorKind: .invalidPath)
        return try p.parseWholePatchPath()
    }

    /// The path, canonical.
    public var description: String {
        attribute.description + (filter == nil ? "" : "[…]") + (subAttribute.map { "." + $0 } ?? "")
    }
}
