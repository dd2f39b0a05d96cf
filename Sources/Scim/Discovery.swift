import JSON

/// The discovery documents (RFC 7644 §4, RFC 7643 §5–7): `/ServiceProviderConfig`,
/// `/ResourceTypes[/id]`, `/Schemas[/urn]`. They describe exactly what this
/// service does, and conformance tools (scim2-tester) build their models from them.
public enum Discovery {
    /// `urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig`.
    public static let serviceProviderConfigURN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    /// `urn:ietf:params:scim:schemas:core:2.0:ResourceType`.
    public static let resourceTypeURN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    /// `urn:ietf:params:scim:schemas:core:2.0:Schema`.
    public static let schemaURN = "urn:ietf:params:scim:schemas:core:2.0:Schema"

    /// The resource types served.
    public static let resourceTypes: [ResourceSchema] = [ScimSchemas.userResource, ScimSchemas.groupResource]

    /// `/ServiceProviderConfig`: PATCH yes, bulk no, filter yes (with the page
    /// limit), change password no, sort no, ETags yes, bearer tokens.
    public static func serviceProviderConfig(baseURL: String) -> JSONValue {
        .object([
            ("schemas", .array([.string(serviceProviderConfigURN)])),
            ("patch", .object([("supported", .bool(true))])),
            ("bulk", .object([("supported", .bool(false)), ("maxOperations", .int(0)), ("maxPayloadSize", .int(0))])),
            ("filter", .object([("supported", .bool(true)), ("maxResults", .int(Int64(ListRequest.maxCount)))])),
            ("changePassword", .object([("supported", .bool(false))])),
            ("sort", .object([("supported", .bool(false))])),
            ("etag", .object([("supported", .bool(true))])),
            ("authenticationSchemes", .array([.object([
                ("type", .string("oauthbearertoken")),
                ("name", .string("OAuth Bearer Token")),
                ("description", .string("The directory's SCIM token, sent as Authorization: Bearer <token>.")),
                ("specUri", .string("https://www.rfc-editor.org/info/rfc6750")),
                ("primary", .bool(true)),
            ])])),
            ("meta", .object([
                ("resourceType", .string("ServiceProviderConfig")),
                ("location", .string(baseURL + "/ServiceProviderConfig")),
            ])),
        ])
    }

    /// One `/ResourceTypes/<name>` document.
    public static func resourceType(_ r: ResourceSchema, baseURL: String) -> JSONValue {
        .object([
            ("schemas", .array([.string(resourceTypeURN)])),
            ("id", .string(r.name)),
            ("name", .string(r.name)),
            ("description", .string(r.description)),
            ("endpoint", .string(r.endpoint)),
            ("schema", .string(r.core.id)),
            ("schemaExtensions", .array(r.extensions.map { .object([("schema", .string($0.id)), ("required", .bool(false))]) })),
            ("meta", .object([
                ("resourceType", .string("ResourceType")),
                ("location", .string(baseURL + "/ResourceTypes/" + r.name)),
            ])),
        ])
    }

    /// The `/ResourceTypes` list.
    public static func resourceTypesList(baseURL: String) -> JSONValue {
        let docs = resourceTypes.map { resourceType($0, baseURL: baseURL) }
        return ListResponse.body(totalResults: docs.count, startIndex: 1, resources: docs)
    }

    /// The `/ResourceTypes/<id>` document (the id compared without case), or `nil` (404).
    public static func resourceType(id: String, baseURL: String) -> JSONValue? {
        resourceTypes.first { $0.name.lowercased() == id.lowercased() }.map { resourceType($0, baseURL: baseURL) }
    }

    /// Every schema published: User, EnterpriseUser, Group, and the schemas of
    /// the discovery resources themselves (which RFC 7643 §7 defines and
    /// conformance tools expect).
    public static let schemas: [SchemaDefinition] = [
        ScimSchemas.user, ScimSchemas.enterpriseUser, ScimSchemas.group,
        MetaSchemas.serviceProviderConfig, MetaSchemas.resourceType, MetaSchemas.schema,
    ]

    /// One `/Schemas/<urn>` document.
    public static func schema(_ s: SchemaDefinition, baseURL: String) -> JSONValue {
        .object([
            ("schemas", .array([.string(schemaURN)])),
            ("id", .string(s.id)),
            ("name", .string(s.name)),
            ("description", .string(s.description)),
            ("attributes", .array(s.attributes.map(\.document))),
            ("meta", .object([
                ("resourceType", .string("Schema")),
                ("location", .string(baseURL + "/Schemas/" + s.id)),
            ])),
        ])
    }

    /// The `/Schemas` list.
    public static func schemasList(baseURL: String) -> JSONValue {
        let docs = schemas.map { schema($0, baseURL: baseURL) }
        return ListResponse.body(totalResults: docs.count, startIndex: 1, resources: docs)
    }

    /// The `/Schemas/<urn>` document (compared without case), or `nil` (404).
    public static func schema(id: String, baseURL: String) -> JSONValue? {
        schemas.first { $0.id.lowercased() == id.lowercased() }.map { schema($0, baseURL: baseURL) }
    }
}

/// The schemas of the discovery resources (RFC 7643 §8.7.2), all read-only.
enum MetaSchemas {
    private typealias A = AttributeDefinition

    private static func ro(_ name: String, _ type: A.DataType, multiValued: Bool = false, _ description: String,
                           required: Bool = false, caseExact: Bool = false, referenceTypes: [String] = [],
                           canonicalValues: [String] = [], sub: [A] = []) -> A {
        A(name, type, multiValued: multiValued, description: description, required: required, caseExact: caseExact,
          mutability: .readOnly, canonicalValues: canonicalValues, referenceTypes: referenceTypes, subAttributes: sub)
    }

    private static func supported(_ name: String, _ description: String, extra: [A] = []) -> A {
        ro(name, .complex, description, required: true,
           sub: [ro("supported", .boolean, "Whether the operation is supported.", required: true)] + extra)
    }

    /// `urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig`.
    static let serviceProviderConfig = SchemaDefinition(
        id: Discovery.serviceProviderConfigURN, name: "ServiceProviderConfig",
        description: "Service Provider Configuration", attributes: [
            ro("documentationUri", .reference, "An HTTP-addressable URL pointing to the service provider's documentation.",
               referenceTypes: ["external"]),
            supported("patch", "PATCH configuration options."),
            supported("bulk", "Bulk configuration options.", extra: [
                ro("maxOperations", .integer, "The maximum number of operations.", required: true),
                ro("maxPayloadSize", .integer, "The maximum payload size in bytes.", required: true),
            ]),
            supported("filter", "Filter options.", extra: [
                ro("maxResults", .integer, "The maximum number of resources returned in a response.", required: true),
            ]),
            supported("changePassword", "Change password options."),
            supported("sort", "Sort options."),
            supported("etag", "ETag options."),
            ro("authenticationSchemes", .complex, multiValued: true, "Supported authentication schemes.", required: true, sub: [
                ro("type", .string, "The authentication scheme.", required: true,
                   canonicalValues: ["oauth", "oauth2", "oauthbearertoken", "httpbasic", "httpdigest"]),
                ro("name", .string, "The common authentication scheme name.", required: true),
                ro("description", .string, "A description of the authentication scheme.", required: true),
                ro("specUri", .reference, "A URL of the scheme's specification.", referenceTypes: ["external"]),
                ro("documentationUri", .reference, "A URL of the scheme's usage documentation.", referenceTypes: ["external"]),
                ro("primary", .boolean, "Whether this is the preferred scheme."),
            ]),
        ])

    /// `urn:ietf:params:scim:schemas:core:2.0:ResourceType`.
    static let resourceType = SchemaDefinition(
        id: Discovery.resourceTypeURN, name: "ResourceType", description: "Specifies the schema that describes a SCIM resource type",
        attributes: [
            ro("id", .string, "The resource type's server unique id.", caseExact: true),
            ro("name", .string, "The resource type name.", required: true),
            ro("description", .string, "The resource type's human-readable description."),
            ro("endpoint", .reference, "The resource type's HTTP-addressable endpoint relative to the base URL.",
               required: true, referenceTypes: ["uri"]),
            ro("schema", .reference, "The resource type's primary schema URI.", required: true, caseExact: true,
               referenceTypes: ["uri"]),
            ro("schemaExtensions", .complex, multiValued: true, "A list of URIs of the resource type's schema extensions.", sub: [
                ro("schema", .reference, "The URI of a schema extension.", required: true, caseExact: true, referenceTypes: ["uri"]),
                ro("required", .boolean, "Whether the extension is required.", required: true),
            ]),
        ])

    private static let attributeQualities: [A] = [
        ro("name", .string, "The attribute's name.", required: true, caseExact: true),
        ro("type", .string, "The attribute's data type.", required: true,
           canonicalValues: ["string", "complex", "boolean", "decimal", "integer", "dateTime", "reference", "binary"]),
        ro("multiValued", .boolean, "Whether the attribute is multi-valued.", required: true),
        ro("description", .string, "The attribute's human-readable description."),
        ro("required", .boolean, "Whether the attribute is required."),
        ro("canonicalValues", .string, multiValued: true, "Suggested canonical values.", caseExact: true),
        ro("caseExact", .boolean, "Whether string values are case sensitive."),
        ro("mutability", .string, "When the attribute can be written.", caseExact: true,
           canonicalValues: ["readOnly", "readWrite", "immutable", "writeOnly"]),
        ro("returned", .string, "When the attribute is returned.", caseExact: true,
           canonicalValues: ["always", "never", "default", "request"]),
        ro("uniqueness", .string, "How uniqueness is enforced.", caseExact: true, canonicalValues: ["none", "server", "global"]),
        ro("referenceTypes", .string, multiValued: true, "The resource types that may be referenced.", caseExact: true),
    ]

    /// `urn:ietf:params:scim:schemas:core:2.0:Schema`.
    static let schema = SchemaDefinition(
        id: Discovery.schemaURN, name: "Schema", description: "Specifies the schema attribute definitions",
        attributes: [
            ro("id", .string, "The unique URI of the schema.", required: true, caseExact: true),
            ro("name", .string, "The schema's human-readable name."),
            ro("description", .string, "The schema's human-readable description."),
            ro("attributes", .complex, multiValued: true, "The service provider's attributes and their qualities.",
               required: true, sub: attributeQualities + [
                   ro("subAttributes", .complex, multiValued: true, "The sub-attributes of a complex attribute.",
                      sub: attributeQualities),
               ]),
        ])
}
