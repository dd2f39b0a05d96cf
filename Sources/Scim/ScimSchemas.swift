/// The schemas this service implements: User, Group, the enterprise User
/// extension (RFC 7643 §4 and §8.7.1) and the common attributes.
public enum ScimSchemas {
    /// `urn:ietf:params:scim:schemas:core:2.0:User`.
    public static let userURN = "urn:ietf:params:scim:schemas:core:2.0:User"
    /// `urn:ietf:params:scim:schemas:core:2.0:Group`.
    public static let groupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    public static let enterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

    private typealias A = AttributeDefinition

    /// `value`, `display`, `type`, `primary`: the shape of most multi-valued attributes (RFC 7643 §2.4).
    private static func plural(_ name: String, _ description: String, valueType: A.DataType = .string,
                               valueDescription: String, types: [String], referenceTypes: [String] = []) -> A {
        A(name, .complex, multiValued: true, description: description, subAttributes: [
            A("value", valueType, description: valueDescription, referenceTypes: referenceTypes),
            A("display", .string, description: "A human-readable name, primarily used for display purposes."),
            A("type", .string, description: "A label indicating the attribute's function.", canonicalValues: types),
            A("primary", .boolean, description: "Whether this value is the preferred one; true at most once."),
        ])
    }

    /// The common attributes every resource has (RFC 7643 §3.1). They are not
    /// published in `/Schemas` (RFC 7643 §3.1 says so, and clients that build
    /// models from the schemas already have them).
    public static let common: [AttributeDefinition] = [
        A("id", .string, description: "The service provider's unique identifier of the resource.",
          caseExact: true, mutability: .readOnly, returned: .always, uniqueness: .server),
        A("externalId", .string, description: "The provisioning client's identifier of the resource.",
          caseExact: true),
        A("meta", .complex, description: "Resource metadata.", mutability: .readOnly, subAttributes: [
            A("resourceType", .string, description: "The name of the resource type.", caseExact: true, mutability: .readOnly),
            A("created", .dateTime, description: "When the resource was added.", mutability: .readOnly),
            A("lastModified", .dateTime, description: "When the resource was last changed.", mutability: .readOnly),
            A("location", .reference, description: "The URI of the resource.", caseExact: true,
              mutability: .readOnly, referenceTypes: ["uri"]),
            A("version", .string, description: "The version (entity tag) of the resource.", caseExact: true,
              mutability: .readOnly),
        ]),
    ]

    /// The User schema (RFC 7643 §4.1).
    public static let user = SchemaDefinition(id: userURN, name: "User", description: "User Account", attributes: [
        A("userName", .string, description: "Unique identifier for the User, used to sign in; unique within a directory, compared without case.",
          required: true, uniqueness: .server),
        A("name", .complex, description: "The components of the user's real name.", subAttributes: [
            A("formatted", .string, description: "The full name, formatted for display."),
            A("familyName", .string, description: "The family name (last name)."),
            A("givenName", .string, description: "The given name (first name)."),
            A("middleName", .string, description: "The middle name(s)."),
            A("honorificPrefix", .string, description: "The honorific prefix(es), e.g. 'Ms.'."),
            A("honorificSuffix", .string, description: "The honorific suffix(es), e.g. 'III'."),
        ]),
        A("displayName", .string, description: "The name of the User, suitable for display to end-users."),
        A("nickName", .string, description: "The casual way to address the user."),
        A("profileUrl", .reference, description: "A URI of the user's online profile.", referenceTypes: ["external"]),
        A("title", .string, description: "The user's title, such as 'Vice President'."),
        A("userType", .string, description: "The relationship between the organization and the user."),
        A("preferredLanguage", .string, description: "The user's preferred written or spoken language."),
        A("locale", .string, description: "The user's default location for localizing."),
        A("timezone", .string, description: "The user's time zone, in IANA format."),
        A("active", .boolean, description: "The user's administrative status."),
        A("password", .string, description: "The user's cleartext password; accepted and never stored or returned.",
          mutability: .writeOnly, returned: .never),
        plural("emails", "Email addresses for the user.", valueDescription: "An email address.",
               types: ["work", "home", "other"]),
        plural("phoneNumbers", "Phone numbers for the user.", valueDescription: "A phone number.",
               types: ["work", "home", "mobile", "fax", "pager", "other"]),
        plural("ims", "Instant messaging addresses for the user.", valueDescription: "An instant messaging address.",
               types: ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        plural("photos", "URLs of photos of the user.", valueType: .reference, valueDescription: "The URL of a photo.",
               types: ["photo", "thumbnail"], referenceTypes: ["external"]),
        A("addresses", .complex, multiValued: true, description: "Physical mailing addresses for the user.", subAttributes: [
            A("formatted", .string, description: "The full mailing address, formatted for display."),
            A("streetAddress", .string, description: "The full street address."),
            A("locality", .string, description: "The city or locality."),
            A("region", .string, description: "The state or region."),
            A("postalCode", .string, description: "The zip code or postal code."),
            A("country", .string, description: "The country name (ISO 3166-1 alpha-2)."),
            A("type", .string, description: "A label indicating the attribute's function.", canonicalValues: ["work", "home", "other"]),
            A("primary", .boolean, description: "Whether this is the preferred address; true at most once."),
        ]),
        A("groups", .complex, multiValued: true, description: "The groups the user belongs to (read-only: change group members instead).",
          mutability: .readOnly, subAttributes: [
            A("value", .string, description: "The id of the Group.", caseExact: true, mutability: .readOnly),
            A("$ref", .reference, description: "The URI of the Group.", caseExact: true, mutability: .readOnly,
              referenceTypes: ["Group"]),
            A("display", .string, description: "The displayName of the Group.", mutability: .readOnly),
            A("type", .string, description: "How the membership is derived.", mutability: .readOnly,
              canonicalValues: ["direct", "indirect"]),
        ]),
        plural("entitlements", "Entitlements of the user.", valueDescription: "The value of an entitlement.", types: []),
        plural("roles", "Roles of the user.", valueDescription: "The value of a role.", types: []),
        plural("x509Certificates", "X.509 certificates of the user.", valueType: .binary,
               valueDescription: "A DER-encoded X.509 certificate, base64.", types: []),
    ])

    /// The enterprise User extension (RFC 7643 §4.3).
    public static let enterpriseUser = SchemaDefinition(
        id: enterpriseUserURN, name: "EnterpriseUser", description: "Enterprise User", attributes: [
            A("employeeNumber", .string, description: "A numeric or alphanumeric identifier assigned by the organization."),
            A("costCenter", .string, description: "The name of a cost center."),
            A("organization", .string, description: "The name of an organization."),
            A("division", .string, description: "The name of a division."),
            A("department", .string, description: "The name of a department."),
            A("manager", .complex, description: "The user's manager.", subAttributes: [
                A("value", .string, description: "The id of the manager's User.", caseExact: true),
                A("$ref", .reference, description: "The URI of the manager's User.", caseExact: true, referenceTypes: ["User"]),
                A("displayName", .string, description: "The manager's displayName.", mutability: .readOnly),
            ]),
        ])

    /// The Group schema (RFC 7643 §4.2). `displayName` is required here:
    /// every provisioning client sends it and directory events name groups by it.
    public static let group = SchemaDefinition(id: groupURN, name: "Group", description: "Group", attributes: [
        A("displayName", .string, description: "A human-readable name for the Group.", required: true),
        A("members", .complex, multiValued: true, description: "The members of the Group.", subAttributes: [
            A("value", .string, description: "The id of the member.", caseExact: true, mutability: .immutable),
            A("$ref", .reference, description: "The URI of the member.", caseExact: true, mutability: .immutable,
              referenceTypes: ["User", "Group"]),
            A("type", .string, description: "The type of the member.", mutability: .immutable,
              canonicalValues: ["User", "Group"]),
            A("display", .string, description: "A human-readable name of the member."),
        ]),
    ])

    /// The User resource type: core User schema plus the enterprise extension.
    public static let userResource = ResourceSchema(name: "User", endpoint: "/Users", description: "User Account",
                                                    core: user, extensions: [enterpriseUser])
    /// The Group resource type.
    public static let groupResource = ResourceSchema(name: "Group", endpoint: "/Groups", description: "Group",
                                                     core: group, extensions: [])
}

/// A resource type: its core schema, its extensions, and how attribute names resolve in it.
public struct ResourceSchema: Sendable, Equatable {
    /// `User` or `Group`.
    public var name: String
    /// `/Users` or `/Groups`.
    public var endpoint: String
    /// What the resource type is.
    public var description: String
    /// The core schema.
    public var core: SchemaDefinition
    /// The extension schemas.
    public var extensions: [SchemaDefinition]
    /// The common and core attributes by name as defined and by ASCII-lowercased name
    /// (names are looked up for every member of every resource read or written).
    private let byName: [String: AttributeDefinition]
    /// The names of `coreAttributesInOrder`.
    public let coreAttributeNamesInOrder: [String]

    /// A resource type.
    public init(name: String, endpoint: String, description: String, core: SchemaDefinition, extensions: [SchemaDefinition]) {
        self.name = name
        self.endpoint = endpoint
        self.description = description
        self.core = core
        self.extensions = extensions
        var byName: [String: AttributeDefinition] = [:]
        // Common attributes first: they win over a core attribute of the same name, as before.
        for d in (ScimSchemas.common + core.attributes).reversed() {
            byName[d.name] = d
            byName[d.name.lowercased()] = d
        }
        self.byName = byName
        coreAttributeNamesInOrder = [ScimSchemas.common[0].name, ScimSchemas.common[1].name] + core.attributes.map(\.name)
    }

    /// A core or common attribute by name, compared without case.
    public func coreAttribute(_ name: String) -> AttributeDefinition? {
        if let d = byName[name] { return d }
        guard name.utf8.allSatisfy({ $0 < 0x80 }) else {
            return ScimSchemas.common.first { sameName($0.name, name) } ?? core.attribute(name)
        }
        return byName[name.lowercased()]
    }

    /// The extension whose URN equals `urn`, compared without case.
    public func knownExtension(_ urn: String) -> SchemaDefinition? {
        extensions.first { sameName($0.id, urn) }
    }

    /// Every schema URN that may prefix an attribute path: the core schema first, then the extensions.
    public var schemaURNs: [String] { [core.id] + extensions.map(\.id) }

    /// The attributes in rendering order: `id`, `externalId`, the core attributes, `meta` comes last.
    public var coreAttributesInOrder: [AttributeDefinition] {
        [ScimSchemas.common[0], ScimSchemas.common[1]] + core.attributes
    }
}
