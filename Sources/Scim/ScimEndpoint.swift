/// What a path under `/api/scim/v2.0/<directory id>` names (see `ScimRoutes`).
///
/// Endpoint names are matched without case (`/users` is `/Users`); empty path
/// segments are ignored, so a trailing `/` and the `…/<id>//Users` that a
/// client joining `<endpoint>/` and `/Users` makes are accepted.
enum ScimEndpoint: Equatable, Sendable {
    /// `POST /.search`: users and groups in one list.
    case rootSearch
    /// `GET /ServiceProviderConfig`.
    case serviceProviderConfig
    /// `GET /ResourceTypes` (`nil`) or `/ResourceTypes/<id>`.
    case resourceTypes(String?)
    /// `GET /Schemas` (`nil`) or `/Schemas/<urn>`.
    case schemas(String?)
    /// `GET|POST /Users` or `/Groups`.
    case collection(ScimResourceKind)
    /// `POST /Users/.search` or `/Groups/.search`.
    case collectionSearch(ScimResourceKind)
    /// `GET|PUT|PATCH|DELETE /Users/<id>` or `/Groups/<id>`.
    case resource(ScimResourceKind, String)

    /// The methods the endpoint answers, for `405` and `Allow`.
    var allowedMethods: [String] {
        switch self {
        case .rootSearch, .collectionSearch: return ["POST"]
        case .serviceProviderConfig, .resourceTypes, .schemas: return ["GET"]
        case .collection: return ["GET", "POST"]
        case .resource: return ["GET", "PUT", "PATCH", "DELETE"]
        }
    }

    /// Whether `method` on this endpoint changes the directory (and so runs in a write transaction).
    func changes(_ method: String) -> Bool {
        switch self {
        case .collection, .resource: return method != "GET"
        default: return false
        }
    }

    /// The directory id and the endpoint of a request path; `nil` when the path
    /// names no directory. The endpoint is `nil` for an unknown path under a directory.
    static func parse(_ path: String) -> (directory: String, endpoint: ScimEndpoint?)? {
        // Split on the "/" byte (the path runs on every request: Character splitting was a measurable share of it).
        let bytes = path.utf8
        guard bytes.starts(with: ScimRoutes.basePath.utf8) else { return nil }
        let segments = bytes.dropFirst(ScimRoutes.basePath.utf8.count).split(separator: UInt8(ascii: "/"))
        guard let first = segments.first else { return nil }
        let rest = segments.dropFirst().map { String(Substring($0)) }
        return (String(Substring(first)), endpoint(rest))
    }

    private static func endpoint(_ s: [String]) -> ScimEndpoint? {
        guard let head = s.first?.lowercased() else { return nil }
        switch (head, s.count) {
        case (".search", 1): return .rootSearch
        case ("serviceproviderconfig", 1): return .serviceProviderConfig
        case ("resourcetypes", 1): return .resourceTypes(nil)
        case ("resourcetypes", 2): return .resourceTypes(s[1])
        case ("schemas", 1): return .schemas(nil)
        case ("schemas", 2): return .schemas(s[1])
        default: break
        }
        let kind: ScimResourceKind
        switch head {
        case "users": kind = .user
        case "groups": kind = .group
        default: return nil
        }
        switch s.count {
        case 1: return .collection(kind)
        case 2: return s[1] == ".search" ? .collectionSearch(kind) : .resource(kind, s[1])
        default: return nil
        }
    }
}

/// Users or groups.
enum ScimResourceKind: Equatable, Sendable {
    /// `/Users`.
    case user
    /// `/Groups`.
    case group

    /// The resource type's schema.
    var schema: ResourceSchema { self == .user ? ScimSchemas.userResource : ScimSchemas.groupResource }
}
