import Events
import Foundation
import HTTP
import JSON
import Scim
import SetupLinks
import Storage

/// The app API (AppAPI.docc/AppAPI.md): Jackson's `/api/v1/dsync` on every hub, for the product's own
/// backend, plus a change feed (`/api/v1/dsync/changes`).
///
/// Decided from the head (`admit`), before a byte of the body is read: the API key
/// (`Authorization: <word> <key>`, the word not checked, as Jackson does; its SHA-256 looked
/// up among the replicated keys, then compared in constant time), the route, the method
/// (405 with `Allow`), the body's size and type. No key, a wrong or revoked one, or no key
/// made on this replica at all: 401 `{"error":{"message":"Unauthorized"}}`.
///
/// The routes call the same service as the REPL (`SetupLinkService`, `ScimBrowser`,
/// `EventLog`): the API checks the request's shape (which fields, which types) and
/// leaves every rule about links and directories to the service.
public struct AppAPIRoutes: HTTPRoutes {
    /// Every path of the API starts with it.
    public static let basePath = "/api/v1"
    /// The largest request body accepted (a link or directory is a few hundred bytes).
    public static let maxBodyBytes = 64 * 1024
    /// The longest a change feed request may wait (`wait`, seconds).
    public static let maxWaitSeconds = 60

    let service: SetupLinkService
    var store: ReplicaStore { service.store }
    var browser: ScimBrowser { ScimBrowser(store: store, externalURL: service.externalURL) }

    /// The API over `service`'s replica.
    public init(service: SetupLinkService) {
        self.service = service
    }

    /// `/api/v1` and everything under it (Jackson authenticates the whole prefix first).
    public func handles(_ head: HTTPHead) -> Bool {
        head.path == Self.basePath || head.path.hasPrefix(Self.basePath + "/")
    }

    /// The path; ids in it are not secrets (the key is a header, never logged).
    public func loggedPath(_ head: HTTPHead) -> String {
        head.path.count > 200 ? String(head.path.prefix(200)) + "…" : head.path
    }

    // MARK: Routes

    /// What a path names.
    enum Route: Equatable {
        case directories, directory(String), directoriesOfProduct
        case users, user(String), groups, group(String), members(String)
        case events, event(String), changes
        case setupLinks, setupLinksOfProduct

        /// The methods it answers, in `Allow`'s order.
        var methods: [String] {
            switch self {
            case .directories: return ["GET", "POST"]
            case .directory: return ["GET", "PATCH", "DELETE"]
            case .events: return ["GET", "DELETE"]
            case .setupLinks: return ["GET", "POST", "DELETE"]
            default: return ["GET"]
            }
        }

        /// Jackson's older name of the API's paths, which it still serves (a rewrite of
        /// `/api/v1/directory-sync/*` to `/api/v1/dsync/*`), and so do we.
        static let legacyPrefix = "/api/v1/directory-sync"

        init?(path given: String) {
            var path = given
            if path == Self.legacyPrefix || path.hasPrefix(Self.legacyPrefix + "/") {
                path = "/api/v1/dsync" + path.dropFirst(Self.legacyPrefix.count)
            }
            guard path.hasPrefix("/api/v1/dsync") else { return nil }
            var parts = path.dropFirst("/api/v1/dsync".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            // "/api/v1/dsync" → [], "/api/v1/dsync/" → ["", ""], "/api/v1/dsync/x" → ["", "x"].
            if parts.first == "" { parts.removeFirst() } else if !parts.isEmpty { return nil }
            if parts.last == "" { parts.removeLast() }
            guard !parts.contains(where: \.isEmpty) else { return nil }
            switch parts.count {
            case 0: self = .directories
            case 1:
                switch parts[0] {
                case "product": self = .directoriesOfProduct
                case "users": self = .users
                case "groups": self = .groups
                case "events": self = .events
                case "changes": self = .changes
                case "setuplinks": self = .setupLinks
                default: self = .directory(parts[0])
                }
            case 2:
                switch parts[0] {
                case "users": self = .user(parts[1])
                case "groups": self = .group(parts[1])
                case "events": self = .event(parts[1])
                case "setuplinks" where parts[1] == "product": self = .setupLinksOfProduct
                default: return nil
                }
            case 3 where parts[0] == "groups" && parts[2] == "members": self = .members(parts[1])
            default: return nil
            }
        }
    }

    // MARK: Admission

    /// The API key, the route, the method, the body's size and type, from the head alone.
    public func admit(_ head: HTTPHead) -> Admission {
        let key: ApiKey?
        do { key = try authenticate(head) } catch {
            return .reject(Self.internalError("checking an API key: \(error)"))
        }
        guard key != nil else { return .reject(APIError.unauthorized.response) }
        guard let route = Route(path: head.path) else {
            return .reject(APIError.notFound("no API route \(head.path.prefix(200)) (see the README: The app API)").response)
        }
        guard route.methods.contains(head.method) else {
            return .reject(APIError(405, "Method \(head.method.prefix(20)) not allowed.",
                                    headers: [("Allow", route.methods.joined(separator: ", "))]).response)
        }
        guard head.method == "POST" || head.method == "PATCH" else { return .accept(maxBodyBytes: 0) }
        if let type = head.header("content-type") {
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "application/json" else {
                return .reject(APIError(415, "the body must be application/json, not \(media.prefix(80))").response)
            }
        }
        if let length = head.contentLength, length > Self.maxBodyBytes {
            return .reject(APIError(413, "the body of \(length) bytes is over the limit of \(Self.maxBodyBytes) bytes").response)
        }
        return .accept(maxBodyBytes: Self.maxBodyBytes)
    }

    /// The live API key the request carries, or `nil`. Jackson's reading of the header:
    /// split on single spaces, the second part is the key (`Api-Key K`, `Bearer K`).
    func authenticate(_ head: HTTPHead) throws -> ApiKey? {
        guard let value = head.header("authorization"), value.utf8.count <= 1024 else { return nil }
        let parts = value.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[1].isEmpty else { return nil }
        return try service.authenticateApiKey(String(parts[1]))
    }

    // MARK: Answers

    /// The answer to an admitted request.
    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        do {
            // Checked again: the key may have been revoked since the head arrived.
            guard let key = try authenticate(request.head) else { return APIError.unauthorized.response }
            guard let route = Route(path: request.path) else { return APIError.notFound("no API route").response }
            let call = Call(routes: self, key: key, query: APIQuery(request.head.query), body: request.body,
                            method: request.method)
            return try call.answer(route)
        } catch let e as APIError {
            return e.response
        } catch let e as SetupLinkError {
            switch e {
            case .unknownLink: return APIError.notFound("Setup link is not found").response
            case .noDirectory, .unknownDirectory: return APIError.notFound("Directory configuration not found.").response
            default: return APIError.badRequest(e.description).response
            }
        } catch {
            return Self.internalError("\(request.method) \(loggedPath(request.head)): \(error)")
        }
    }

    /// A 500 with a short id for the client, the detail in the server log, in the API's error shape.
    static func internalError(_ detail: String) -> HTTPResponse {
        let id = HTTPResponse.internalErrorID()
        var r = APIError(500, "internal error \(id)").response
        r.logNote = "internal error \(id): \(detail)"
        return r
    }
}

/// One request being answered: the key it carries, its query and body.
struct Call {
    let routes: AppAPIRoutes
    let key: ApiKey
    let query: APIQuery
    let body: [UInt8]
    let method: String

    var service: SetupLinkService { routes.service }
    var store: ReplicaStore { routes.store }
    var externalURL: String { service.externalURL }

    func answer(_ route: AppAPIRoutes.Route) throws -> HTTPResponse {
        switch (route, method) {
        case (.setupLinks, "POST"): return try createLink()
        case (.setupLinks, "GET"): return try getLink()
        case (.setupLinks, "DELETE"): return try deleteLink()
        case (.setupLinksOfProduct, _): return try linksOfProduct()
        case (.directories, "POST"): return try createDirectory()
        case (.directories, _): return try directoriesOfTenant()
        case (.directory(let id), "GET"): return try getDirectory(id)
        case (.directory(let id), "PATCH"): return try patchDirectory(id)
        case (.directory(let id), "DELETE"): return try deleteDirectory(id)
        case (.directory, _): throw APIError(405, "Method \(method.prefix(20)) not allowed.")
        case (.directoriesOfProduct, _): return try directoriesOfProduct()
        case (.users, _): return try users()
        case (.user(let id), _): return try user(id)
        case (.groups, _): return try groups()
        case (.group(let id), _): return try group(id)
        case (.members(let id), _): return try members(id)
        case (.events, "DELETE"): return try deleteEvents()
        case (.events, _): return try events()
        case (.event(let id), _): return try event(id)
        case (.changes, _): return try changes()
        case (.setupLinks, _): throw APIError(405, "Method \(method.prefix(20)) not allowed.")
        }
    }

    // MARK: Shared checks

    /// The product a request names, checked against a product-limited key.
    func allow(product: String) throws(APIError) {
        if let limit = key.product, limit != product { throw .forbidden(product: limit) }
    }

    /// Whether the key may see `product` (records of another product are "not found").
    func sees(_ product: String) -> Bool { key.allows(product: product) }

    /// The request body as a JSON object.
    func bodyObject() throws(APIError) -> JSONObject {
        guard !body.isEmpty else { throw .badRequest("the request needs a JSON object body") }
        let value: JSONValue
        do { value = try JSONParser.parse(body, maxDepth: 16) } catch {
            throw .badRequest("the body is not valid JSON: \(error)")
        }
        guard case .object(let members) = value else { throw .badRequest("the body must be a JSON object") }
        return JSONObject(members: members)
    }

    /// `{"data": value}` with `status`.
    func data(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("data")
        w.value(value)
        w.endObject()
        return .json(w.bytes, status: status)
    }

    /// A list answer: `{"data": [...]}`, then `"error": null` where Jackson writes it, then
    /// `pageToken` when more rows may follow.
    func list(_ items: [JSONValue], errorNull: Bool, next: String?) -> HTTPResponse {
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("data")
        w.beginArray()
        for i in items { w.value(i) }
        w.endArray()
        if errorNull {
            w.key("error")
            w.null()
        }
        if let next {
            w.key("pageToken")
            w.string(next)
        }
        w.endObject()
        return .json(w.bytes)
    }
}

/// A JSON object body's members, read by name with the type each must have.
struct JSONObject {
    let members: [(String, JSONValue)]

    /// The value of `name` (the last one when repeated, as `JSON.parse` keeps), if present.
    subscript(_ name: String) -> JSONValue? { members.last { $0.0 == name }?.1 }

    /// `name` as text: absent or `null` → `nil`; a string → it; anything else refused.
    func string(_ name: String) throws(APIError) -> String? {
        switch self[name] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw .badRequest("\(name) must be a string")
        }
    }

    /// `name` as a boolean: `true`/`false` or the strings `"true"`/`"false"`.
    func bool(_ name: String) throws(APIError) -> Bool? {
        switch self[name] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case .string(let s)? where s == "true" || s == "false": return s == "true"
        default: throw .badRequest("\(name) must be true or false")
        }
    }
}
