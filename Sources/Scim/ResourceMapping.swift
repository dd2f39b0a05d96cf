import Dates
import JSON
import Replica
import SetupLinks

/// Record ↔ SCIM resource: how a user or group record's registers become a
/// resource (with `schemas` and `meta`), and how an attribute object becomes
/// the register writes that change a record (see `ScimRecords` for the layout).
public enum ResourceMapping {
    /// The attribute object held by a record: top-level attributes in schema
    /// order (then unknown ones by name), known extensions as objects under their URN.
    public static func attributes(of r: Record, schema: ResourceSchema) -> JSONValue {
        attributes(ofFields: r.fields.lazy.map { ($0.name, $0.register.value) }, schema: schema)
    }

    /// The attribute object of a record never written before that `values` would
    /// create: `attributes(of:)` of that record, without making it.
    public static func attributes(ofNew values: [String: String], schema: ResourceSchema) -> JSONValue {
        attributes(ofFields: values.sorted { fieldNameLess($0.key, $1.key) }.lazy.map { ($0.key, Optional($0.value)) },
                   schema: schema)
    }

    /// The attribute object of fields (name, visible value) in the record's field order.
    private static func attributes(ofFields fields: some Sequence<(String, String?)>, schema: ResourceSchema) -> JSONValue {
        let known = schema.extensions.map(\.id)
        var top: [(String, JSONValue)] = []
        var ext: [String: [(String, JSONValue)]] = [:]
        for (fieldName, value) in fields {
            guard let (urn, name) = ScimRecords.parseAttributeField(fieldName, knownExtensions: known),
                  let text = value, !text.isEmpty,
                  let v = try? JSONParser.parse(Array(text.utf8), maxDepth: 64) else { continue }
            if let urn { ext[urn, default: []].append((name, v)) } else { top.append((name, v)) }
        }
        var out: [(String, JSONValue)] = []
        func take(_ list: inout [(String, JSONValue)], inOrderOf names: [String]) -> [(String, JSONValue)] {
            var ordered: [(String, JSONValue)] = []
            ordered.reserveCapacity(list.count)
            for n in names {
                if let i = list.firstIndex(where: { $0.0 == n }) { ordered.append(list.remove(at: i)) }
                if list.isEmpty { break }
            }
            return ordered + list
        }
        out = take(&top, inOrderOf: schema.coreAttributeNamesInOrder)
        for e in schema.extensions {
            guard var attrs = ext[e.id] else { continue }
            out.append((e.id, .object(take(&attrs, inOrderOf: e.attributes.map(\.name)))))
        }
        return .object(out)
    }

    /// The SCIM resource of a user or group record.
    ///
    /// `members` (groups) and `groups` (users) are inserted when given: they
    /// live in membership records, which the flow loads only when the
    /// projection wants them. `meta.created` is the time of the `directory`
    /// register (written at creation), `meta.lastModified` the record's latest
    /// timestamp, `meta.version` its ETag, `meta.location` `<baseURL><endpoint>/<id>`.
    /// `attributes`, when given, is `attributes(of: r)` computed beforehand.
    public static func resource(_ r: Record, schema: ResourceSchema, baseURL: String,
                                members: [JSONValue]? = nil, groups: [JSONValue]? = nil,
                                attributes known: JSONValue? = nil) -> JSONValue {
        // `schemas`, `id` and `meta` are written below, once: an attribute stored under one of
        // those names (by an older version, or a peer's) must not make a second key.
        var attrs = ((known ?? attributes(of: r, schema: schema)).objectValue ?? [])
            .filter { !PatchEngine.isServerMember($0.0) }
        if let members, !members.isEmpty { insert(("members", .array(members)), into: &attrs, schema: schema) }
        if let groups, !groups.isEmpty { insert(("groups", .array(groups)), into: &attrs, schema: schema) }
        // The core schema, the known extensions present, then unknown extensions.
        var schemas: [JSONValue] = [.string(schema.core.id)]
        for e in schema.extensions where attrs.contains(where: { $0.0 == e.id }) { schemas.append(.string(e.id)) }
        for (k, v) in attrs where k.lowercased().hasPrefix("urn:") && schema.knownExtension(k) == nil {
            if case .object = v { schemas.append(.string(k)) }
        }
        var out: [(String, JSONValue)] = [("schemas", .array(schemas)), ("id", .string(r.id))]
        out += attrs
        var meta: [(String, JSONValue)] = [("resourceType", .string(schema.name))]
        if let c = ScimRecords.createdMilliseconds(r) { meta.append(("created", .string(DateTime.format(milliseconds: Int64(c))))) }
        meta.append(("lastModified", .string(DateTime.format(milliseconds: Int64(ScimRecords.lastModifiedMilliseconds(r))))))
        meta.append(("location", .string(location(baseURL: baseURL, schema: schema, id: r.id))))
        meta.append(("version", .string(ScimRecords.etag(r))))
        out.append(("meta", .object(meta)))
        return .object(out)
    }

    /// `<baseURL><endpoint>/<id>`.
    public static func location(baseURL: String, schema: ResourceSchema, id: String) -> String {
        baseURL + schema.endpoint + "/" + id
    }

    /// Inserts a member at its schema position (before the attributes that follow it in the schema).
    private static func insert(_ member: (String, JSONValue), into attrs: inout [(String, JSONValue)], schema: ResourceSchema) {
        let order = schema.coreAttributeNamesInOrder
        guard let rank = order.firstIndex(of: member.0) else { attrs.append(member); return }
        let at = attrs.firstIndex { a in
            guard let r = order.firstIndex(of: a.0) else { return true }
            return r > rank
        } ?? attrs.count
        attrs.insert(member, at: at)
    }

    /// The register values of an attribute object: `a:<name>` and `e:<urn>:<name>` → compact JSON.
    public static func fieldValues(of attributes: JSONValue, schema: ResourceSchema) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in attributes.objectValue ?? [] {
            if let ext = schema.knownExtension(k) {
                for (n, x) in v.objectValue ?? [] where !x.isUnassigned {
                    out[ScimRecords.extensionField(urn: ext.id, attribute: n)] = text(x)
                }
            } else if !v.isUnassigned {
                out[ScimRecords.attributeField(k)] = text(v)
            }
        }
        return out
    }

    /// Compact JSON text.
    static func text(_ v: JSONValue) -> String { String(decoding: JSONWriter.write(v), as: UTF8.self) }

    /// The register writes that turn `old` (absent for a new record) into a record
    /// holding exactly `attributes`.
    ///
    /// Only what changed is written, so concurrent changes to different
    /// attributes on two replicas merge. A register that holds concurrent values
    /// (a conflict) is written even when its visible value is unchanged, which
    /// settles it. Attributes that disappeared are written as `""` (unassigned).
    /// The plain-text key registers (`key.userName`, `key.displayName`,
    /// `key.externalId`) are written with their attribute.
    public static func writes(to attributes: JSONValue, from old: Record?, schema: ResourceSchema) -> [String: String] {
        let new = fieldValues(of: attributes, schema: schema)
        let known = schema.extensions.map(\.id)
        var out: [String: String] = [:]
        for (k, v) in new {
            let reg = old?.register(k)
            if reg?.value != v || (reg?.versions.count ?? 0) > 1 { out[k] = v }
        }
        for f in old?.fields ?? [] where ScimRecords.parseAttributeField(f.name, knownExtensions: known) != nil {
            if new[f.name] == nil, f.register.value != "" || f.register.versions.count > 1 { out[f.name] = "" }
        }
        func key(_ attribute: String, _ field: String, folded: Bool) {
            let a = ScimRecords.attributeField(attribute)
            guard out[a] != nil else { return }
            let s = attributes.member(attribute)?.stringValue ?? ""
            out[field] = folded ? ScimKeys.fold(s) : s
        }
        key("externalId", ScimRecords.externalIdField, folded: false)
        if schema.name == "User" { key("userName", ScimRecords.userNameKeyField, folded: true) }
        if schema.name == "Group" { key("displayName", ScimRecords.displayNameKeyField, folded: true) }
        return out
    }
}
