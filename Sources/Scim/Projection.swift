import JSON

/// Which attributes a response carries (RFC 7644 §3.4.2.5, §3.9): the
/// `attributes` / `excludedAttributes` parameters over the `returned`
/// quality of each attribute (`id` always, `password` never).
public struct Projection: Sendable, Equatable {
    /// A requested path: top-level attribute (in `urn` for extensions) and optional sub-attribute.
    struct Item: Sendable, Equatable {
        var urn: String?
        var name: String?
        var sub: String?
    }

    private var included: [Item]?
    private var excluded: [Item]
    private let schema: ResourceSchema

    /// The default projection: every attribute returned by default.
    public init(schema: ResourceSchema) {
        self.schema = schema
        included = nil
        excluded = []
    }

    /// A projection from the comma-separated parameters (either may be `nil`).
    ///
    /// Both at once is a 400 `invalidSyntax` (they are mutually exclusive). Names
    /// are case-insensitive, may be URN-qualified or name a whole extension;
    /// names the schema does not know select unknown attributes by name.
    public init(schema: ResourceSchema, attributes: String?, excludedAttributes: String?) throws(ScimError) {
        self.schema = schema
        let inc = Self.split(attributes), exc = Self.split(excludedAttributes)
        if !inc.isEmpty && !exc.isEmpty {
            throw ScimError.invalidSyntax("attributes and excludedAttributes cannot be used together")
        }
        included = inc.isEmpty ? nil : try inc.map { t throws(ScimError) in try Self.item(t, schema) }
        excluded = try exc.map { t throws(ScimError) in try Self.item(t, schema) }
    }

    /// A projection from lists (a `/.search` body's `attributes` / `excludedAttributes`).
    public init(schema: ResourceSchema, attributes: [String], excludedAttributes: [String]) throws(ScimError) {
        try self.init(schema: schema, attributes: attributes.isEmpty ? nil : attributes.joined(separator: ","),
                      excludedAttributes: excludedAttributes.isEmpty ? nil : excludedAttributes.joined(separator: ","))
    }

    private static func split(_ s: String?) -> [String] {
        guard let s else { return [] }
        return s.split(separator: ",").map { part in
            String(part.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        }.filter { !$0.isEmpty }
    }

    private static func item(_ text: String, _ schema: ResourceSchema) throws(ScimError) -> Item {
        let p = try AttributePath.resolve(text, in: schema, kind: .invalidSyntax)
        return Item(urn: p.extensionURN, name: p.attribute, sub: p.subAttribute)
    }

    /// Whether a top-level attribute (or extension `urn`'s attribute) is in the response at all.
    /// A flow asks this before loading costly attributes (a group's `members`, a user's `groups`).
    public func includes(_ name: String, urn: String? = nil) -> Bool {
        let def = urn == nil ? schema.coreAttribute(name) : schema.knownExtension(urn!)?.attribute(name)
        return keep(urn: urn, name: name, def: def) != .drop
    }

    /// Whether neither `attributes` nor `excludedAttributes` was given.
    public var isDefault: Bool { included == nil && excluded.isEmpty }

    /// `apply(to:)` for a resource the flows rendered from a record: the default
    /// projection leaves it as it is (a record holds no `returned: never` value — a
    /// password is never stored — and these schemas have no `returned: request`
    /// attribute), so that case costs nothing.
    public func applyToRendered(_ resource: JSONValue) -> JSONValue {
        isDefault ? resource : apply(to: resource)
    }

    /// Whether attribute `name` was named explicitly in `attributes`.
    public func explicitlyRequests(_ name: String) -> Bool {
        included?.contains { $0.urn == nil && $0.name?.lowercased() == name.lowercased() } ?? false
    }

    private enum Keep: Equatable { case all, some([String]), drop }

    private func keep(urn: String?, name: String, def: AttributeDefinition?) -> Keep {
        let returned = def?.returned ?? .default
        if returned == .never { return .drop }
        if returned == .always { return .all }
        func same(_ a: String?, _ b: String?) -> Bool { a?.lowercased() == b?.lowercased() }
        let matchesItem: (Item) -> Bool = { i in
            // A whole-extension item covers every attribute of the extension.
            same(i.urn, urn) && (i.name == nil || same(i.name, name))
        }
        if let included {
            let hits = included.filter(matchesItem)
            if hits.isEmpty { return .drop }
            if hits.contains(where: { $0.sub == nil }) { return .all }
            return .some(hits.compactMap(\.sub))
        }
        if returned == .request { return .drop }
        let hits = excluded.filter(matchesItem)
        if hits.contains(where: { $0.sub == nil }) { return .drop }
        return hits.isEmpty ? .all : .some(hits.compactMap(\.sub).map { "-" + $0 })
    }

    /// The resource projected: `schemas` and `id` always stay; `meta` and the
    /// rest follow the parameters and each attribute's `returned`.
    public func apply(to resource: JSONValue) -> JSONValue {
        guard case .object(let members) = resource else { return resource }
        var out: [(String, JSONValue)] = []
        for (key, value) in members {
            if key == "schemas" {
                out.append((key, value))
                continue
            }
            if let ext = schema.knownExtension(key) {
                guard case .object(let attrs) = value else { continue }
                var kept: [(String, JSONValue)] = []
                for (n, v) in attrs {
                    if let x = project(v, keep(urn: ext.id, name: n, def: ext.attribute(n)), ext.attribute(n)) {
                        kept.append((n, x))
                    }
                }
                if !kept.isEmpty { out.append((key, .object(kept))) }
                continue
            }
            let isUnknownExtension = key.lowercased().hasPrefix("urn:")
            let def = isUnknownExtension ? nil : schema.coreAttribute(key)
            if let x = project(value, keep(urn: nil, name: key, def: def), def) { out.append((key, x)) }
        }
        // `schemas` lists only what the projected resource still holds.
        if let i = out.firstIndex(where: { $0.0 == "schemas" }), case .array(let list) = out[i].1 {
            let kept = list.filter { s in
                guard let u = s.stringValue else { return false }
                return u.lowercased() == schema.core.id.lowercased() || out.contains { $0.0.lowercased() == u.lowercased() }
            }
            out[i].1 = .array(kept)
        }
        return .object(out)
    }

    private func project(_ value: JSONValue, _ k: Keep, _ def: AttributeDefinition?) -> JSONValue? {
        switch k {
        case .drop: return nil
        case .all: return value
        case .some(let subs):
            let excluding = subs.first?.hasPrefix("-") ?? false
            let names = Set(subs.map { ($0.hasPrefix("-") ? String($0.dropFirst()) : $0).lowercased() })
            func filterObject(_ o: JSONValue) -> JSONValue? {
                guard case .object(let m) = o else { return o }
                let kept = m.filter { (n, _) in
                    let listed = names.contains(n.lowercased())
                    // Sub-attributes returned "always" stay; "never" ones were never stored.
                    let always = def?.subAttribute(n)?.returned == .always
                    return excluding ? (!listed || always) : (listed || always)
                }
                return kept.isEmpty ? nil : .object(kept)
            }
            if case .array(let elements) = value {
                let kept = elements.compactMap(filterObject)
                return kept.isEmpty ? nil : .array(kept)
            }
            return filterObject(value)
        }
    }
}
