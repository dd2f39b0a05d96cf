import JSON

/// An attribute path (`attrPath` of RFC 7644 §3.10) resolved against a resource type:
/// `userName`, `name.familyName`, `emails.value`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// Names are kept in their canonical case when the schema knows them, and as
/// written otherwise (unknown attributes are free-form and round-trip).
public struct AttributePath: Sendable, Equatable, CustomStringConvertible {
    /// Where the attribute lives in a resource.
    public enum Scope: Sendable, Equatable {
        /// A core or common attribute: a top-level member of the resource.
        case core
        /// An attribute of a known extension: a member of the object under the extension URN.
        case `extension`(String)
        /// An attribute of an extension this service does not know: free-form, under that URN.
        case unknownExtension(String)
    }

    /// Where the attribute lives.
    public var scope: Scope
    /// The attribute name, or `nil` for a whole extension (`urn:…:enterprise:2.0:User`).
    public var attribute: String?
    /// The sub-attribute name, if any.
    public var subAttribute: String?
    /// The attribute's definition, `nil` when the schema does not know it.
    public var definition: AttributeDefinition?
    /// The sub-attribute's definition, `nil` when there is none or it is unknown.
    public var subDefinition: AttributeDefinition?

    /// The definition of what the path designates (the sub-attribute's if any).
    public var leaf: AttributeDefinition? { subAttribute == nil ? definition : subDefinition }

    /// Whether the schema knows every part of the path.
    public var isKnown: Bool {
        if case .unknownExtension = scope { return false }
        guard attribute != nil else { return true }
        return definition != nil && (subAttribute == nil || subDefinition != nil)
    }

    /// The key of the extension object, if the path is in one.
    public var extensionURN: String? {
        switch scope {
        case .core: return nil
        case .extension(let u), .unknownExtension(let u): return u
        }
    }

    /// The path written back in canonical form.
    public var description: String {
        var s = extensionURN.map { attribute == nil ? $0 : $0 + ":" } ?? ""
        if let attribute { s += attribute }
        if let subAttribute { s += "." + subAttribute }
        return s
    }

    /// Resolves a path written as one word.
    ///
    /// Unknown core attributes and attributes of unknown extensions resolve with
    /// no definition (callers decide whether they accept them); a known attribute
    /// with an unknown sub-attribute, a sub-attribute of a simple attribute, or a
    /// malformed name is an error of `kind`.
    public static func resolve(_ text: String, in schema: ResourceSchema,
                               kind: ScimError.Kind) throws(ScimError) -> AttributePath {
        guard !text.isEmpty else { throw ScimError.bad(kind, "an attribute path is empty") }
        guard text.utf8.count <= 1024 else { throw ScimError.bad(kind, "an attribute path is longer than 1024 bytes") }
        var scope = Scope.core
        var rest = Substring(text)
        if text.utf8.count >= 4, text.prefix(4).lowercased() == "urn:" {
            let folded = text.lowercased()
            var matched = false
            // Longest URN first, so a URN that prefixes another cannot steal its attributes.
            for urn in schema.schemaURNs.sorted(by: { $0.count > $1.count }) {
                let u = urn.lowercased()
                if folded == u {
                    guard urn != schema.core.id else {
                        throw ScimError.bad(kind, "\"\(text)\" names a schema, not an attribute")
                    }
                    return AttributePath(scope: .extension(urn), attribute: nil, subAttribute: nil,
                                         definition: nil, subDefinition: nil)
                }
                if folded.hasPrefix(u + ":") {
                    rest = text.dropFirst(urn.count + 1)
                    scope = urn == schema.core.id ? .core : .extension(urn)
                    matched = true
                    break
                }
            }
            if !matched {
                // An unknown extension: the attribute follows the last colon.
                guard let colon = text.lastIndex(of: ":"), colon != text.index(before: text.endIndex) else {
                    throw ScimError.bad(kind, "\"\(text)\" is not an attribute path")
                }
                scope = .unknownExtension(String(text[..<colon]))
                rest = text[text.index(after: colon)...]
            }
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw ScimError.bad(kind, "\"\(text)\" has more than one sub-attribute")
        }
        for p in parts where !isAttributeName(p) {
            throw ScimError.bad(kind, "\"\(text)\" is not an attribute path: \"\(p)\" is not an attribute name")
        }
        var path = AttributePath(scope: scope, attribute: String(parts[0]),
                                 subAttribute: parts.count == 2 ? String(parts[1]) : nil,
                                 definition: nil, subDefinition: nil)
        let def: AttributeDefinition?
        switch scope {
        case .core: def = schema.coreAttribute(String(parts[0]))
        case .extension(let urn): def = schema.knownExtension(urn)?.attribute(String(parts[0]))
        case .unknownExtension: def = nil
        }
        if let def {
            path.attribute = def.name
            path.definition = def
            if let sub = path.subAttribute {
                guard def.type == .complex else {
                    throw ScimError.bad(kind, "\"\(text)\": \(def.name) has no sub-attributes")
                }
                guard let sd = def.subAttribute(sub) else {
                    throw ScimError.bad(kind, "\"\(text)\": \(def.name) has no sub-attribute \"\(sub)\"")
                }
                path.subAttribute = sd.name
                path.subDefinition = sd
            }
        }
        return path
    }

    /// `ATTRNAME = ALPHA *(nameChar)` of RFC 7644 §3.10, plus `$ref`.
    static func isAttributeName(_ s: Substring) -> Bool {
        guard let first = s.utf8.first else { return false }
        if s == "$ref" { return true }
        guard isAlpha(first) else { return false }
        return s.utf8.allSatisfy { isAlpha($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }

    private static func isAlpha(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

    // MARK: Reading values

    /// The object that holds the attribute: the resource, or its extension object.
    func container(in resource: JSONValue) -> JSONValue? {
        guard let urn = extensionURN else { return resource }
        return resource.member(urn)
    }

    /// The values the path designates in `resource`: the elements of a multi-valued
    /// attribute, the sub-attribute of each element, or the single value. Nulls are skipped.
    func values(in resource: JSONValue) -> [JSONValue] {
        guard let attribute, let v = container(in: resource)?.member(attribute) else { return [] }
        var out: [JSONValue] = []
        func add(_ x: JSONValue?) {
            guard let x else { return }
            if case .null = x { return }
            out.append(x)
        }
        if let sub = subAttribute {
            if case .array(let elements) = v {
                for e in elements { add(e.member(sub)) }
            } else {
                add(v.member(sub))
            }
        } else if case .array(let elements) = v {
            for e in elements { add(e) }
        } else {
            add(v)
        }
        return out
    }
}
