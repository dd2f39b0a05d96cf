import JSON

/// One attribute of a SCIM schema, with the qualities of RFC 7643 §2.2 and §7.
///
/// These definitions drive everything: validation of incoming resources,
/// filter comparison rules (type, `caseExact`), PATCH mutability checks,
/// `returned` for projections, and the `/Schemas` discovery documents.
public struct AttributeDefinition: Sendable, Equatable {
    /// The data types of RFC 7643 §2.3.
    public enum DataType: String, Sendable {
        /// A Unicode string.
        case string
        /// `true` or `false`.
        case boolean
        /// A real number.
        case decimal
        /// A whole number.
        case integer
        /// An `xsd:dateTime` string.
        case dateTime
        /// Base64-encoded bytes.
        case binary
        /// A URI (to a resource, or external).
        case reference
        /// An object of sub-attributes.
        case complex
    }

    /// When an attribute may be written (RFC 7643 §7 `mutability`).
    public enum Mutability: String, Sendable {
        /// Never written by a client.
        case readOnly
        /// Written freely.
        case readWrite
        /// Written once, then never changed.
        case immutable
        /// Written, never returned.
        case writeOnly
    }

    /// When an attribute is returned (RFC 7643 §7 `returned`).
    public enum Returned: String, Sendable {
        /// In every response, even when not asked for.
        case always
        /// Never.
        case never
        /// Unless excluded, or unless `attributes` names others only.
        case `default`
        /// Only when named in `attributes`.
        case request
    }

    /// How the service provider enforces uniqueness (RFC 7643 §7 `uniqueness`).
    public enum Uniqueness: String, Sendable {
        /// Not enforced.
        case none
        /// Unique within the service provider (here: within one directory).
        case server
        /// Globally unique.
        case global
    }

    /// The attribute name, in its canonical case.
    public var name: String
    /// The data type.
    public var type: DataType
    /// Whether the value is an array.
    public var multiValued: Bool
    /// What the attribute means.
    public var description: String
    /// Whether a resource must have it.
    public var required: Bool
    /// Whether string comparisons respect case.
    public var caseExact: Bool
    /// When it may be written.
    public var mutability: Mutability
    /// When it is returned.
    public var returned: Returned
    /// How unique it is.
    public var uniqueness: Uniqueness
    /// Suggested values (e.g. `work`, `home`).
    public var canonicalValues: [String]
    /// For references: the resource types referenced (`User`, `Group`, `external`, `uri`).
    public var referenceTypes: [String]
    /// For complex attributes: the sub-attributes.
    public var subAttributes: [AttributeDefinition]

    /// A definition; the defaults are those RFC 7643 §7 gives when a quality is omitted.
    public init(_ name: String, _ type: DataType, multiValued: Bool = false, description: String,
                required: Bool = false, caseExact: Bool = false, mutability: Mutability = .readWrite,
                returned: Returned = .default, uniqueness: Uniqueness = .none,
                canonicalValues: [String] = [], referenceTypes: [String] = [],
                subAttributes: [AttributeDefinition] = []) {
        self.name = name
        self.type = type
        self.multiValued = multiValued
        self.description = description
        self.required = required
        self.caseExact = caseExact
        self.mutability = mutability
        self.returned = returned
        self.uniqueness = uniqueness
        self.canonicalValues = canonicalValues
        self.referenceTypes = referenceTypes
        self.subAttributes = subAttributes
    }

    /// The sub-attribute named `name`, compared without case (RFC 7643 §2.1).
    public func subAttribute(_ name: String) -> AttributeDefinition? {
        subAttributes.first { sameName($0.name, name) }
    }

    /// Whether a client may write the attribute.
    public var isWritable: Bool { mutability != .readOnly }

    /// The definition as the `/Schemas` document publishes it (RFC 7643 §7).
    public var document: JSONValue {
        var m: [(String, JSONValue)] = [
            ("name", .string(name)),
            ("type", .string(type.rawValue)),
            ("multiValued", .bool(multiValued)),
            ("description", .string(description)),
            ("required", .bool(required)),
        ]
        if type == .complex {
            m.append(("subAttributes", .array(subAttributes.map(\.document))))
        } else {
            m.append(("caseExact", .bool(caseExact)))
        }
        if !canonicalValues.isEmpty { m.append(("canonicalValues", .array(canonicalValues.map(JSONValue.string)))) }
        m.append(("mutability", .string(mutability.rawValue)))
        m.append(("returned", .string(returned.rawValue)))
        m.append(("uniqueness", .string(uniqueness.rawValue)))
        if type == .reference { m.append(("referenceTypes", .array(referenceTypes.map(JSONValue.string)))) }
        return .object(m)
    }
}

/// A schema (core or extension): its URN, name and attributes.
public struct SchemaDefinition: Sendable, Equatable {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    public var id: String
    /// The human-readable name, e.g. `User`.
    public var name: String
    /// What the schema describes.
    public var description: String
    /// The attributes, in the order they are published and rendered.
    public var attributes: [AttributeDefinition]

    /// A schema.
    public init(id: String, name: String, description: String, attributes: [AttributeDefinition]) {
        self.id = id
        self.name = name
        self.description = description
        self.attributes = attributes
    }

    /// The attribute named `name`, compared without case.
    public func attribute(_ name: String) -> AttributeDefinition? {
        attributes.first { sameName($0.name, name) }
    }
}
