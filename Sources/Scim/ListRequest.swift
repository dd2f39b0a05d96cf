import JSON

/// The parameters of a list or search (RFC 7644 §3.4.2, §3.4.3): filter,
/// 1-based paging and projection, from a query string or a `/.search` body.
public struct ListRequest: Sendable, Equatable {
    /// The filter text, if any (parsed by the flow for the resource type).
    public var filter: String?
    /// 1-based index of the first result (values below 1 are taken as 1).
    public var startIndex: Int
    /// How many results at most; `nil` means `defaultCount`.
    public var count: Int?
    /// `attributes`, comma-separated.
    public var attributes: String?
    /// `excludedAttributes`, comma-separated.
    public var excludedAttributes: String?

    /// Results per page when the client does not say.
    public static let defaultCount = 100
    /// The most results per page (`filter.maxResults` in ServiceProviderConfig).
    public static let maxCount = 1000
    /// `urn:ietf:params:scim:api:messages:2.0:SearchRequest`.
    public static let searchSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

    /// A request.
    public init(filter: String? = nil, startIndex: Int = 1, count: Int? = nil,
                attributes: String? = nil, excludedAttributes: String? = nil) {
        self.filter = filter
        self.startIndex = startIndex
        self.count = count
        self.attributes = attributes
        self.excludedAttributes = excludedAttributes
    }

    /// The page size asked for, clamped to 0…`maxCount`.
    public var effectiveCount: Int { min(max(count ?? Self.defaultCount, 0), Self.maxCount) }

    /// The first index, at least 1.
    public var effectiveStartIndex: Int { max(startIndex, 1) }

    /// From decoded query pairs (names compared without case; `sortBy`/`sortOrder` are ignored:
    /// sorting is not supported, as ServiceProviderConfig says).
    public static func fromQuery(_ pairs: [(String, String)]) throws(ScimError) -> ListRequest {
        var r = ListRequest()
        for (name, value) in pairs {
            switch name.lowercased() {
            case "filter": r.filter = value
            case "startindex": r.startIndex = try integer(value, "startIndex")
            case "count": r.count = try integer(value, "count")
            case "attributes": r.attributes = value
            case "excludedattributes": r.excludedAttributes = value
            default: continue
            }
        }
        return r
    }

    /// From a `POST …/.search` body.
    public static func fromSearchBody(_ body: JSONValue) throws(ScimError) -> ListRequest {
        guard case .object = body else { throw ScimError.invalidSyntax("the search body must be a JSON object") }
        try Normalizer.checkSchemas(body, required: searchSchema)
        var r = ListRequest()
        if let f = body.member("filter"), f != .null {
            guard case .string(let s) = f else { throw ScimError.invalidSyntax("\"filter\" must be a string") }
            r.filter = s
        }
        for (key, target) in [("startIndex", 0), ("count", 1)] {
            guard let v = body.member(key), v != .null else { continue }
            guard case .int(let n) = v, let i = Int(exactly: n) else {
                throw ScimError.invalidSyntax("\"\(key)\" must be an integer")
            }
            if target == 0 { r.startIndex = i } else { r.count = i }
        }
        r.attributes = try list(body.member("attributes"), "attributes")
        r.excludedAttributes = try list(body.member("excludedAttributes"), "excludedAttributes")
        return r
    }

    private static func integer(_ s: String, _ name: String) throws(ScimError) -> Int {
        guard let i = Int(s) else { throw ScimError.invalidValue("\(name) must be an integer, not \"\(s.prefix(40))\"") }
        return i
    }

    private static func list(_ v: JSONValue?, _ name: String) throws(ScimError) -> String? {
        guard let v, v != .null else { return nil }
        if case .string(let s) = v { return s }
        guard case .array(let a) = v else { throw ScimError.invalidSyntax("\"\(name)\" must be an array of strings") }
        var out: [String] = []
        for e in a {
            guard case .string(let s) = e else { throw ScimError.invalidSyntax("\"\(name)\" must be an array of strings") }
            out.append(s)
        }
        return out.isEmpty ? nil : out.joined(separator: ",")
    }
}

/// The ListResponse message (RFC 7644 §3.4.2).
public enum ListResponse {
    /// `urn:ietf:params:scim:api:messages:2.0:ListResponse`.
    public static let schema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

    /// `{"schemas", "totalResults", "startIndex", "itemsPerPage", "Resources"}`;
    /// `itemsPerPage` is the number of resources returned.
    public static func body(totalResults: Int, startIndex: Int, resources: [JSONValue]) -> JSONValue {
        .object([
            ("schemas", .array([.string(schema)])),
            ("totalResults", .int(Int64(totalResults))),
            ("startIndex", .int(Int64(startIndex))),
            ("itemsPerPage", .int(Int64(resources.count))),
            ("Resources", .array(resources)),
        ])
    }
}
