import Dates
import JSON

/// Validation of incoming SCIM values against the schema, and their
/// normalization: known attribute and sub-attribute names take their canonical
/// case, Entra ID's string booleans (`"False"`) become booleans, a user's
/// `roles` sent as Jackson takes them (`"a,b"`, `["a"]`) become role objects,
/// `null` and empty values are dropped (unassigned), read-only values are
/// ignored. Unknown attributes and sub-attributes are kept exactly as sent.
enum Normalizer {
    /// `true` / `false` in any case (Entra ID sends `"True"` and `"False"`), else `nil`.
    static func booleanString(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// The most attributes (top-level, including unknown ones) one resource may hold.
    static let maxAttributes = 200
    /// The most values one multi-valued attribute may hold (a group's members are
    /// separate records and have no such limit).
    static let maxValues = 1000

    /// A value for attribute `def` (at `path`, for messages); `nil` when unassigned.
    static func value(_ v: JSONValue, for def: AttributeDefinition, path: String) throws(ScimError) -> JSONValue? {
        if case .null = v { return nil }
        if def.multiValued {
            guard case .array(let elements) = v else {
                throw ScimError.invalidValue("\(path) must be an array, not \(v.typeName)")
            }
            guard elements.count <= maxValues || def.name == "members" else {
                throw ScimError.invalidValue("\(path) has more than \(maxValues) values")
            }
            var out: [JSONValue] = []
            for (k, e) in elements.enumerated() {
                if let x = try single(e, for: def, path: "\(path)[\(k)]") { out.append(x) }
            }
            try checkPrimary(out, path: path)
            return out.isEmpty ? nil : .array(out)
        }
        return try single(v, for: def, path: path)
    }

    /// One value (an element of a multi-valued attribute, or a single value).
    static func single(_ v: JSONValue, for def: AttributeDefinition, path: String) throws(ScimError) -> JSONValue? {
        if case .null = v { return nil }
        switch def.type {
        case .complex:
            var input = v
            if !def.multiValued {
                // A single-valued complex attribute sent as a one-element array
                // (Entra ID's manager), or as its bare `value` (a manager id).
                if case .array(let a) = input, a.count == 1 { input = a[0] }
                if case .string = input, let valueDef = def.subAttribute("value") {
                    input = .object([(valueDef.name, input)])
                }
            }
            guard case .object(let members) = input else {
                throw ScimError.invalidValue("\(path) must be an object, not \(v.typeName)")
            }
            var out = ObjectMembers(members: [])
            for (key, sub) in members {
                if let sd = def.subAttribute(key) {
                    // Read-only sub-attributes in a request are ignored (RFC 7643 §2.2).
                    guard sd.isWritable else { continue }
                    guard out.index(of: sd.name) == nil else {
                        throw ScimError.invalidSyntax("\(path).\(sd.name) appears twice")
                    }
                    out.set(sd.name, try single(sub, for: sd, path: "\(path).\(sd.name)"))
                } else {
                    guard out.index(of: key) == nil else { throw ScimError.invalidSyntax("\(path).\(key) appears twice") }
                    if case .null = sub { continue }
                    out.members.append((key, sub))
                }
            }
            return out.isEmpty ? nil : out.value
        case .string, .reference, .binary:
            guard case .string = v else { throw ScimError.invalidValue("\(path) must be a string, not \(v.typeName)") }
            return v
        case .boolean:
            if case .bool = v { return v }
            if case .string(let s) = v, let b = booleanString(s) { return .bool(b) }
            throw ScimError.invalidValue("\(path) must be a boolean, not \(v.typeName)")
        case .integer:
            if case .int = v { return v }
            if case .double(let d) = v, d.rounded() == d, let i = Int64(exactly: d) { return .int(i) }
            throw ScimError.invalidValue("\(path) must be an integer, not \(v.typeName)")
        case .decimal:
            guard v.doubleValue != nil else { throw ScimError.invalidValue("\(path) must be a number, not \(v.typeName)") }
            return v
        case .dateTime:
            guard case .string(let s) = v, DateTime.milliseconds(s) != nil else {
                throw ScimError.invalidValue("\(path) must be an xsd:dateTime string such as 2024-05-01T12:00:00Z")
            }
            return v
        }
    }

    /// The User schema's `roles`: the one attribute that also takes Jackson's shorthand forms (`roles(_:path:allowsOne:)`).
    static let userRoles = ScimSchemas.user.attribute("roles")!

    /// Whether `def` (of the core schema when `urn` is nil, else of extension `urn`) is the User's `roles`.
    static func isUserRoles(_ def: AttributeDefinition, urn: String?) -> Bool {
        urn == nil && def.name == userRoles.name && def == userRoles
    }

    /// A user's `roles` in any form a client written for Jackson sends, as SCIM's
    /// canonical form (an array of role objects), before the usual checks of
    /// `value(_:for:path:)`:
    /// - a string is a comma-separated list (`"viewer, editor"`): each part trimmed,
    ///   empty parts dropped, each part `{"value": part}`;
    /// - in an array, a string element is `{"value": element}` (trimmed; an empty
    ///   one is dropped), other elements (SCIM's role objects) are checked as usual;
    /// - `null` stays unassigned; with `allowsOne` (a PATCH value) one role object
    ///   stands for itself, as for every multi-valued attribute.
    ///
    /// Anything else (a number, a boolean, an object in a POST or PUT) is 400
    /// `invalidValue`. Jackson splits without trimming and stores strings as sent;
    /// we store role objects, so `raw.roles` and `GET /Users` show the SCIM form
    /// and events list the values (`EventData.user(_:)`).
    static func roles(_ v: JSONValue, path: String, allowsOne: Bool) throws(ScimError) -> JSONValue {
        func role(_ s: Substring) -> JSONValue {
            var name = s.drop(while: \.isWhitespace)
            while name.last?.isWhitespace == true { name = name.dropLast() }
            return name.isEmpty ? .null : .object([("value", .string(String(name)))])
        }
        switch v {
        case .null:
            return v
        case .string(let s):
            return .array(s.split(separator: ",", omittingEmptySubsequences: false).map(role).filter { $0 != .null })
        case .array(let elements):
            // An empty string element becomes null, which `value(_:for:path:)` drops: later indexes stay as sent.
            return .array(elements.map { e in e.stringValue.map { role(Substring($0)) } ?? e })
        case .object where allowsOne:
            return v
        default:
            throw ScimError.invalidValue(
                "\(path) must be an array of roles (objects with a \"value\", or strings) or a comma-separated string, not \(v.typeName)")
        }
    }

    /// "The primary attribute value true MUST appear no more than once" (RFC 7643 §2.4).
    static func checkPrimary(_ elements: [JSONValue], path: String) throws(ScimError) {
        let primaries = elements.filter { $0.member("primary") == .bool(true) }.count
        guard primaries <= 1 else { throw ScimError.invalidValue("\(path) has \(primaries) values marked primary") }
    }

    /// Checks a request's `schemas`: when present, an array of strings that holds
    /// `required` (compared without case), else 400 `invalidSyntax`.
    ///
    /// A body without `schemas` is accepted: every caller serves one endpoint whose
    /// message type is `required` and nothing else (POST/PUT `/Users` a User,
    /// POST/PUT `/Groups` a Group, PATCH a PatchOp, `/.search` a SearchRequest), so
    /// the key adds nothing. Jackson never reads it, and clients written for
    /// Jackson (its own tests, its Google sync) leave it out.
    static func checkSchemas(_ body: JSONValue, required: String) throws(ScimError) {
        guard let s = body.member("schemas") else { return }
        guard case .array(let list) = s, list.allSatisfy({ $0.stringValue != nil }) else {
            throw ScimError.invalidSyntax("\"schemas\" must be an array of schema URNs")
        }
        guard list.contains(where: { $0.stringValue?.lowercased() == required.lowercased() }) else {
            throw ScimError.invalidSyntax("\"schemas\" must contain \"\(required)\"")
        }
    }

    /// A PUT body may repeat the resource's `id` (providers send the resource whole),
    /// never name another: `id` is read-only (400 `mutability`). `schemas` and `meta`
    /// are the server's too; in a PUT they are ignored (RFC 7643 §2.2).
    static func checkSameID(_ body: JSONValue, _ id: String) throws(ScimError) {
        guard case .object(let members) = body else { return }
        for (key, v) in members where key.lowercased() == "id" && v != .string(id) {
            throw ScimError.mutability("id is read-only: the body names another resource than \(id)")
        }
    }

    /// The attributes of a resource sent in a POST or PUT body, as an "attribute
    /// object": canonical top-level members, known extensions as objects under
    /// their URN, unknown members as sent; no `schemas`, `id`, `meta`, read-only
    /// or write-only (password) attributes. Checks `schemas` (when present), types,
    /// duplicates and required attributes.
    static func resource(_ body: JSONValue, schema: ResourceSchema) throws(ScimError) -> JSONValue {
        guard case .object(let members) = body else {
            throw ScimError.invalidSyntax("the request body must be a JSON object, not \(body.typeName)")
        }
        try checkSchemas(body, required: schema.core.id)
        var out = ObjectMembers(members: [])
        for (key, v) in members {
            let folded = key.lowercased()
            if folded == "schemas" { continue }
            if let ext = schema.knownExtension(key) {
                guard out.index(of: ext.id) == nil else { throw ScimError.invalidSyntax("\(ext.id) appears twice") }
                out.set(ext.id, try extensionObject(v, ext))
                continue
            }
            if folded.hasPrefix("urn:") {
                let path = try AttributePath.resolve(key, in: schema, kind: .invalidSyntax)
                if path.isKnown, let def = path.definition, path.subAttribute == nil {
                    // A fully qualified attribute name used as a member name.
                    try put(def, v, path.extensionURN, into: &out)
                    continue
                }
            }
            if let def = schema.coreAttribute(key) {
                try put(def, v, nil, into: &out)
                continue
            }
            guard out.index(of: key) == nil else { throw ScimError.invalidSyntax("attribute \"\(key)\" appears twice") }
            if case .null = v { continue }
            out.members.append((key, v))
        }
        guard out.members.count <= maxAttributes else {
            throw ScimError.invalidValue("the resource has more than \(maxAttributes) attributes")
        }
        try checkRequired(out.value, schema: schema)
        return out.value
    }

    /// Sets one known attribute (of the core schema, or of extension `urn`) in an attribute object.
    private static func put(_ def: AttributeDefinition, _ v: JSONValue, _ urn: String?,
                            into out: inout ObjectMembers) throws(ScimError) {
        let label = urn.map { $0 + ":" + def.name } ?? def.name
        // id, meta and other read-only attributes in a request are ignored (RFC 7643 §2.2);
        // a password is checked, then dropped: it is never stored.
        guard def.isWritable else { return }
        let normalized = try value(isUserRoles(def, urn: urn) ? roles(v, path: label, allowsOne: false) : v, for: def, path: label)
        if def.mutability == .writeOnly { return }
        if let urn {
            var ext = ObjectMembers(out[urn])
            guard ext.index(of: def.name) == nil else { throw ScimError.invalidSyntax("\(label) appears twice") }
            ext.set(def.name, normalized)
            out.set(urn, ext.value)
        } else {
            guard out.index(of: def.name) == nil else { throw ScimError.invalidSyntax("attribute \"\(def.name)\" appears twice") }
            out.set(def.name, normalized)
        }
    }

    /// A known extension's object: its known attributes normalized, unknown ones kept.
    static func extensionObject(_ v: JSONValue, _ ext: SchemaDefinition) throws(ScimError) -> JSONValue? {
        if case .null = v { return nil }
        guard case .object(let members) = v else {
            throw ScimError.invalidValue("\(ext.id) must be an object, not \(v.typeName)")
        }
        var out = ObjectMembers(members: [])
        for (key, x) in members {
            if let def = ext.attribute(key) {
                guard def.isWritable else { continue }
                guard out.index(of: def.name) == nil else { throw ScimError.invalidSyntax("\(ext.id):\(def.name) appears twice") }
                out.set(def.name, try value(x, for: def, path: "\(ext.id):\(def.name)"))
            } else {
                guard out.index(of: key) == nil else { throw ScimError.invalidSyntax("\(ext.id):\(key) appears twice") }
                if case .null = x { continue }
                out.members.append((key, x))
            }
        }
        return out.isEmpty ? nil : out.value
    }

    /// Required attributes must be assigned: a User's `userName`, a Group's `displayName`.
    static func checkRequired(_ attributes: JSONValue, schema: ResourceSchema) throws(ScimError) {
        for def in schema.core.attributes where def.required {
            guard let v = attributes.member(def.name), !v.isUnassigned else {
                throw ScimError.invalidValue("\(def.name) is required")
            }
            if case .string(let s) = v, s.allSatisfy(\.isWhitespace) {
                throw ScimError.invalidValue("\(def.name) must not be empty")
            }
        }
    }
}
