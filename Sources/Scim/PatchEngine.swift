import JSON

/// Applies PATCH operations (RFC 7644 §3.5.2) to a resource's attribute object.
///
/// The attribute object is the resource without `schemas`, `id` and `meta`:
/// canonical top-level members and known extensions as objects under their
/// URN (what `Normalizer.resource` produces and `ScimResourceMapping` stores).
/// The engine is pure: the flow loads the attributes, applies, diffs and
/// writes. For groups, `members` never enters the attribute object; member
/// changes come out as `MemberOp`s.
public struct PatchEngine {
    /// Top-level members every answer writes itself: never attributes.
    static let serverMembers: Set<String> = ["schemas", "id", "meta"]

    /// Whether `name` is one of `serverMembers`, in any case (cheap for the other names:
    /// every rendered resource asks it of each of its attributes).
    static func isServerMember(_ name: String) -> Bool {
        let n = name.utf8.count
        guard n == 2 || n == 4 || n == 7 else { return false }
        return serverMembers.contains(name.lowercased())
    }

    /// The resource type.
    public let schema: ResourceSchema
    /// The resource id: a path-less value may repeat it (Okta does), never change it.
    public let resourceID: String
    /// The attributes as patched so far.
    public var attributes: JSONValue { doc.value }
    /// Member changes asked for, in order (groups only).
    public private(set) var memberOps: [MemberOp] = []
    private var doc: ObjectMembers

    /// An engine over `attributes` of the resource `resourceID`.
    public init(schema: ResourceSchema, resourceID: String, attributes: JSONValue) {
        self.schema = schema
        self.resourceID = resourceID
        self.doc = ObjectMembers(attributes)
    }

    /// Applies `operations` in order; the first failure throws and leaves nothing applied
    /// (the caller discards the engine).
    public mutating func apply(_ operations: [PatchOperation]) throws(ScimError) {
        for op in operations { try apply(op) }
        try Normalizer.checkRequired(doc.value, schema: schema)
        guard doc.members.count <= Normalizer.maxAttributes else {
            throw ScimError.invalidValue("the resource would have more than \(Normalizer.maxAttributes) attributes")
        }
    }

    /// Applies one operation.
    public mutating func apply(_ operation: PatchOperation) throws(ScimError) {
        guard let path = operation.path else {
            // add / replace without a path: the value's members are attributes (or paths:
            // Entra ID sends "name.givenName", "urn:…:User:manager", "emails[type eq \"work\"].value").
            guard case .object(let members) = operation.value ?? .null else {
                throw ScimError.invalidValue("\(operation.op.rawValue) without a path needs an object value")
            }
            for (key, v) in members {
                switch key.lowercased() {
                case "schemas":
                    // A resource sent whole (some providers do) repeats its schemas: they are the server's.
                    continue
                case "id":
                    guard v == .string(resourceID) else { throw ScimError.mutability("id is read-only") }
                    continue
                case "meta":
                    throw ScimError.mutability("meta is read-only")
                default:
                    break
                }
                if let ext = schema.knownExtension(key) {
                    try applyWholeExtension(operation.op, ext, v)
                    continue
                }
                let target = try PatchPath.parse(key, for: schema)
                try apply(operation.op, target, v)
            }
            return
        }
        try apply(operation.op, path, operation.value)
    }

    private mutating func apply(_ op: PatchOperation.Op, _ path: PatchPath, _ value: JSONValue?) throws(ScimError) {
        let ap = path.attribute
        // `schemas`, `id` and `meta` are the server's: a path naming them (or a part of them)
        // is refused, so no stored attribute can shadow them in an answer.
        if ap.extensionURN == nil, let name = ap.attribute, Self.isServerMember(name) {
            throw ScimError.mutability("\(name) is read-only")
        }
        guard let name = ap.attribute else {
            // The whole extension: `urn:…:enterprise:2.0:User`.
            guard case .extension(let urn) = ap.scope, let ext = schema.knownExtension(urn) else {
                throw ScimError.invalidPath("\(ap) is not a known extension")
            }
            if op == .remove {
                doc[ext.id] = nil
            } else {
                try applyWholeExtension(op, ext, value ?? .null)
            }
            return
        }
        if let def = ap.definition {
            guard def.isWritable else { throw ScimError.mutability("\(def.name) is read-only") }
            if let sd = ap.subDefinition ?? path.subDefinition, !sd.isWritable {
                throw ScimError.mutability("\(ap).\(sd.name) is read-only")
            }
            if def.mutability == .writeOnly {
                // A password: checked, never stored.
                if op != .remove, let value { _ = try Normalizer.value(value, for: def, path: def.name) }
                return
            }
            if schema.name == "Group", ap.extensionURN == nil, def.name == "members" {
                try applyMembers(op, path, value)
                return
            }
            if op == .remove, def.required, ap.subAttribute == nil, path.filter == nil {
                throw ScimError.mutability("\(def.name) is required and cannot be removed")
            }
        }
        if let urn = ap.extensionURN {
            var container = ObjectMembers(doc[urn])
            try apply(op, path, name, value, in: &container)
            doc.set(urn, container.value)
        } else {
            try apply(op, path, name, value, in: &doc)
        }
    }

    /// Adds or replaces attributes of a known extension from an object value.
    private mutating func applyWholeExtension(_ op: PatchOperation.Op, _ ext: SchemaDefinition, _ value: JSONValue) throws(ScimError) {
        if case .null = value {
            if op == .replace { doc[ext.id] = nil }
            return
        }
        guard case .object(let members) = value else {
            throw ScimError.invalidValue("\(ext.id) must be an object, not \(value.typeName)")
        }
        for (key, v) in members {
            let target = try PatchPath.parse(ext.id + ":" + key, for: schema)
            try apply(op, target, v)
        }
    }

    /// Applies to attribute `name` of `container` (the resource, or an extension object).
    private func apply(_ op: PatchOperation.Op, _ path: PatchPath, _ name: String, _ value: JSONValue?,
                       in container: inout ObjectMembers) throws(ScimError) {
        let ap = path.attribute
        let label = ap.description
        guard let def = ap.definition else {
            // An unknown attribute: free-form, stored as sent.
            if let sub = ap.subAttribute {
                var parent = ObjectMembers(container[name])
                parent.set(sub, op == .remove ? nil : value)
                container.set(name, parent.value)
            } else {
                container.set(name, op == .remove ? nil : value)
            }
            return
        }
        if let filter = path.filter {
            try applyFiltered(op, path, filter, def, value, in: &container)
            return
        }
        if let sub = ap.subAttribute, let sd = ap.subDefinition {
            guard !def.multiValued else {
                throw ScimError.invalidPath("\(label): name the values with a filter, e.g. \(def.name)[type eq \"work\"].\(sub)")
            }
            var parent = ObjectMembers(container[def.name])
            parent.set(sd.name, op == .remove ? nil : try Normalizer.value(value ?? .null, for: sd, path: label))
            container.set(def.name, parent.value)
            return
        }
        var value = value
        if let v = value, Normalizer.isUserRoles(def, urn: ap.extensionURN) {
            // `"viewer,editor"` and `["viewer"]` are roles here too, for add, replace and remove alike.
            value = try Normalizer.roles(v, path: label, allowsOne: true)
        }
        switch op {
        case .remove:
            if def.multiValued, let value, value != .null {
                // Remove the listed values (Entra ID: {"op":"Remove","path":"emails","value":[{"value":"x"}]}).
                let wanted: [JSONValue] = value.arrayValue ?? [value]
                let kept = (container[def.name]?.arrayValue ?? []).filter { e in
                    !wanted.contains { w in Self.sameValue(e, w, def) }
                }
                container.set(def.name, .array(kept))
            } else {
                container[def.name] = nil
            }
        case .replace:
            if def.type == .complex, !def.multiValued {
                try merge(value, into: def, label, &container)
            } else {
                var v = value ?? .null
                if def.multiValued, v != .null, v.arrayValue == nil { v = .array([v]) }
                container.set(def.name, try Normalizer.value(v, for: def, path: label))
            }
        case .add:
            if def.multiValued {
                let incoming = (value ?? .null).arrayValue ?? (value.map { [$0] } ?? [])
                guard let added = try Normalizer.value(.array(incoming), for: def, path: label)?.arrayValue else { return }
                var elements = container[def.name]?.arrayValue ?? []
                let newPrimary = added.contains { $0.member("primary") == .bool(true) }
                if newPrimary { elements = elements.map(Self.clearingPrimary) }
                for e in added where !elements.contains(where: { sameJSON($0, e) }) { elements.append(e) }
                guard elements.count <= Normalizer.maxValues else {
                    throw ScimError.invalidValue("\(label) would have more than \(Normalizer.maxValues) values")
                }
                container.set(def.name, .array(elements))
            } else if def.type == .complex {
                try merge(value, into: def, label, &container)
            } else {
                container.set(def.name, try Normalizer.value(value ?? .null, for: def, path: label))
            }
        }
    }

    /// Add or replace on a single-valued complex attribute: the given sub-attributes
    /// replace theirs, the others stay (RFC 7644 §3.5.2.1 and §3.5.2.3); a null
    /// sub-attribute is removed.
    private func merge(_ value: JSONValue?, into def: AttributeDefinition, _ label: String,
                       _ container: inout ObjectMembers) throws(ScimError) {
        guard let v = value, v != .null else {
            container[def.name] = nil
            return
        }
        let normalized = try Normalizer.value(v, for: def, path: label)
        var parent = ObjectMembers(container[def.name])
        if case .object(let raw) = v {
            for (k, x) in raw where x == .null { parent[def.subAttribute(k)?.name ?? k] = nil }
        }
        for (k, x) in normalized?.objectValue ?? [] { parent[k] = x }
        container.set(def.name, parent.value)
    }

    /// `attr[filter]` and `attr[filter].sub`.
    private func applyFiltered(_ op: PatchOperation.Op, _ path: PatchPath, _ filter: ScimFilter,
                               _ def: AttributeDefinition, _ value: JSONValue?,
                               in container: inout ObjectMembers) throws(ScimError) {
        var elements = container[def.name]?.arrayValue ?? []
        let matching = elements.indices.filter { filter.matches(elements[$0]) }
        let label = path.description
        if op == .remove {
            if let sub = path.subAttribute {
                for k in matching {
                    var e = ObjectMembers(elements[k])
                    e[sub] = nil
                    elements[k] = e.value
                }
                container.set(def.name, .array(elements.filter { !$0.isUnassigned }))
            } else {
                let drop = Set(matching)
                container.set(def.name, .array(elements.indices.filter { !drop.contains($0) }.map { elements[$0] }))
            }
            return
        }
        // The new content of one element: a sub-attribute, or sub-attributes (add merges, replace replaces).
        func updated(_ element: JSONValue) throws(ScimError) -> JSONValue {
            var e = ObjectMembers(element)
            if let sub = path.subAttribute, let sd = path.subDefinition {
                e.set(sub, try Normalizer.single(value ?? .null, for: sd, path: label))
                return e.value
            }
            guard let v = try Normalizer.single(value ?? .null, for: def, path: label) else { return element }
            if op == .replace { return v }
            for (k, x) in v.objectValue ?? [] { e[k] = x }
            return e.value
        }
        if matching.isEmpty {
            // Entra ID adds and replaces `emails[type eq "work"].value` on users that have no
            // work email yet: when the filter is plain equalities, create the element they describe.
            guard let seed = filter.equalitySeed() else {
                throw ScimError.noTarget("\(label): no value matches the filter")
            }
            let created = try updated(seed)
            if created.member("primary") == .bool(true) { elements = elements.map(Self.clearingPrimary) }
            elements.append(created)
        } else {
            for k in matching { elements[k] = try updated(elements[k]) }
        }
        try Normalizer.checkPrimary(elements, path: def.name)
        container.set(def.name, .array(elements.filter { !$0.isUnassigned }))
    }

    /// Group members: whole, or by value (see `MemberOp`).
    private mutating func applyMembers(_ op: PatchOperation.Op, _ path: PatchPath, _ value: JSONValue?) throws(ScimError) {
        guard path.attribute.subAttribute == nil, path.subAttribute == nil else {
            throw ScimError.invalidPath("members are added, removed or replaced whole; \(path) names a sub-attribute")
        }
        if let filter = path.filter {
            guard op == .remove else {
                throw ScimError.invalidPath("members[filter] can only be removed; add or replace members whole")
            }
            if let values = filter.memberValues() {
                memberOps.append(.remove(values))
            } else {
                memberOps.append(.removeMatching(filter))
            }
            return
        }
        switch op {
        case .remove:
            if let value, value != .null {
                // Entra ID: {"op":"Remove","path":"members","value":[{"value":"<id>"}]}.
                let list = value.arrayValue ?? [value]
                var values: [String] = []
                for (k, m) in list.enumerated() {
                    guard let v = (m.member("value") ?? m).stringValue, !v.isEmpty else {
                        throw ScimError.invalidValue("members[\(k)] to remove has no string \"value\"")
                    }
                    values.append(v)
                }
                memberOps.append(.remove(values))
            } else {
                memberOps.append(.removeAll)
            }
        case .add, .replace:
            let members = try Self.memberObjects(value ?? .null)
            if op == .replace { memberOps.append(.removeAll) }
            if !members.isEmpty { memberOps.append(.add(members)) }
        }
    }

    /// Member objects checked: each an object with a non-empty string `value`
    /// (a bare string is taken as the value), null sub-attributes dropped.
    public static func memberObjects(_ value: JSONValue) throws(ScimError) -> [JSONValue] {
        if case .null = value { return [] }
        let list = value.arrayValue ?? [value]
        let def = ScimSchemas.group.attribute("members")!
        var out: [JSONValue] = []
        for (k, m) in list.enumerated() {
            let element: JSONValue = m.stringValue.map { .object([("value", .string($0))]) } ?? m
            guard let n = try Normalizer.single(element, for: def, path: "members[\(k)]") else { continue }
            guard case .string(let v)? = n.member("value"), !v.isEmpty, v.utf8.count <= 1024 else {
                throw ScimError.invalidValue("members[\(k)] needs a \"value\": the member's id")
            }
            out.append(n)
        }
        return out
    }

    /// Two values of a multi-valued attribute are the same value: equal `value`
    /// sub-attributes for complex ones (what Entra ID sends to remove), else equal JSON.
    static func sameValue(_ a: JSONValue, _ b: JSONValue, _ def: AttributeDefinition) -> Bool {
        if def.type == .complex, let bv = b.member("value") ?? (b.stringValue.map { JSONValue.string($0) }) {
            guard let av = a.member("value") else { return false }
            let exact = def.subAttribute("value")?.caseExact ?? false
            if !exact, case .string(let x) = av, case .string(let y) = bv { return x.lowercased() == y.lowercased() }
            return av == bv
        }
        return sameJSON(a, b)
    }

    /// The element with `primary: true` turned to `false` (another value became primary).
    static func clearingPrimary(_ e: JSONValue) -> JSONValue {
        guard e.member("primary") == .bool(true) else { return e }
        var m = ObjectMembers(e)
        m["primary"] = .bool(false)
        return m.value
    }
}

extension ScimFilter {
    /// The element a filter of plain equalities describes (`type eq "work" and primary eq true`), or `nil`.
    func equalitySeed() -> JSONValue? {
        var members: [(String, JSONValue)] = []
        func collect(_ f: ScimFilter) -> Bool {
            switch f {
            case .compare(let p, .eq, let v) where p.subAttribute == nil && p.extensionURN == nil && v != .null:
                guard let name = p.attribute, !members.contains(where: { $0.0 == name }) else { return false }
                members.append((name, v))
                return true
            case .and(let terms):
                return terms.allSatisfy(collect)
            default:
                return false
            }
        }
        return collect(self) ? .object(members) : nil
    }

    /// The values of `value eq "x"` terms joined by `or`, or `nil` for any other filter.
    func memberValues() -> [String]? {
        switch self {
        case .compare(let p, .eq, .string(let v)) where p.attribute == "value" && p.subAttribute == nil:
            return [v]
        case .or(let terms):
            var out: [String] = []
            for t in terms {
                guard let v = t.memberValues() else { return nil }
                out += v
            }
            return out
        default:
            return nil
        }
    }
}
