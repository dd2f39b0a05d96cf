import Events
import HTTP
import JSON
import Replica
import SetupLinks
import Storage

/// The SCIM 2.0 service (Scim.docc/ScimService.md) of every directory of a replica, as routes the
/// hub mounts beside the peer protocol and the setup page:
/// `/api/scim/v2.0/<directory id>/…` (see `ScimEndpoint` for the paths).
///
/// Decided from the head, before a byte of the body is read (`admit`):
/// - the bearer token of the directory named in the path, compared in constant
///   time; an unknown directory, a `google` one, a missing or wrong token all
///   get the same 401 SCIM error, so directory ids do not leak;
/// - a deactivated or deleted directory answers `200` with an empty body and
///   reads nothing else (as Jackson does, so the identity provider stops retrying);
/// - 404 for an unknown path, 405 with `Allow` for a wrong method, 415 for a
///   body that is not JSON, 413 for a declared body over `maxBodyBytes`.
///
/// Then (`respond`): every change is one `ReplicaStore.write` (the flow and the
/// event sink in it; the directory is checked again inside, so a directory
/// deactivated meanwhile changes nothing), every read goes through
/// `ScimReplicaReader`; a client's mistake is a SCIM error, anything else a 500
/// with a short id whose detail goes only to the server log.
public struct ScimRoutes: HTTPRoutes {
    /// Where every directory's SCIM base lives: `<basePath>/<directory id>`.
    public static let basePath = "/api/scim/v2.0"
    /// The largest request body accepted (an Entra ID group PATCH of 1,000 members is about 60 KiB).
    public static let maxBodyBytes = 1024 * 1024
    /// The `Content-Type` of every SCIM answer with a body.
    public static let contentType = "application/scim+json; charset=utf-8"

    /// The flows' service: its replica and its external URL (for `meta.location`).
    let service: SetupLinkService
    /// Where accepted changes' events go, inside their transaction (a sink that
    /// throws rolls the change back and the client gets a 500).
    let eventSink: DirectoryEventSink
    /// Concurrent changes commit together, each its own local transaction.
    let commits: GroupCommit
    /// What admission read of directories in the last second.
    let directories = DirectoryCache()
    /// List counts and page ends of the replica's current data.
    let lists = ScimListCache()
    /// The bound on concurrent reads, replacements and deletes of large groups.
    let expensive: ExpensiveRequests

    /// The routes of every directory of `service`'s replica; `eventSink` receives
    /// each change's events in the change's transaction.
    public init(service: SetupLinkService, eventSink: @escaping DirectoryEventSink,
                expensive: ExpensiveRequests = ExpensiveRequests()) {
        self.service = service
        self.eventSink = eventSink
        self.expensive = expensive
        commits = GroupCommit(store: service.store)
    }

    private var store: ReplicaStore { service.store }

    /// `/api/scim/v2.0` and everything under it.
    public func handles(_ head: HTTPHead) -> Bool {
        head.path == Self.basePath || head.path.hasPrefix(Self.basePath + "/")
    }

    /// The path: directory ids are not secrets (the token is a header, never logged); long paths are cut.
    public func loggedPath(_ head: HTTPHead) -> String {
        head.path.count > 200 ? String(head.path.prefix(200)) + "…" : head.path
    }

    // MARK: Admission

    /// Authentication, directory state, route, method and size, from the head alone.
    public func admit(_ head: HTTPHead) -> Admission {
        guard let (directoryID, endpoint) = ScimEndpoint.parse(head.path) else {
            return .reject(Self.error(.notFound("no SCIM resource at \(head.path.prefix(200)); a directory's SCIM base is \(Self.basePath)/<directory id>")))
        }
        let active: Bool?
        do { active = try authenticate(directoryID, head, cached: true) } catch {
            return .reject(Self.internalError("reading directory \(directoryID.prefix(64)): \(error)"))
        }
        guard let active else { return .reject(Self.unauthorized()) }
        guard active else { return .reject(Self.ignored()) }
        guard let endpoint else {
            return .reject(Self.error(.notFound("no SCIM endpoint at \(head.path.prefix(200))")))
        }
        let allowed = endpoint.allowedMethods
        guard allowed.contains(head.method) else {
            return .reject(Self.error(ScimError(status: 405, "\(head.method) is not allowed here; this endpoint accepts \(allowed.joined(separator: ", "))"))
                .setting("Allow", allowed.joined(separator: ", ")))
        }
        guard ["POST", "PUT", "PATCH"].contains(head.method) else { return .accept(maxBodyBytes: 0) }
        if let type = head.header("content-type") {
            let media = Self.mediaType(type)
            guard media == "application/scim+json" || media == "application/json" else {
                return .reject(Self.error(ScimError(status: 415, "the body must be application/scim+json or application/json, not \(media.prefix(80))")))
            }
        }
        if let length = head.contentLength, length > Self.maxBodyBytes {
            return .reject(Self.error(ScimError(status: 413, "the body of \(length) bytes is over the limit of \(Self.maxBodyBytes) bytes")))
        }
        return .accept(maxBodyBytes: Self.maxBodyBytes)
    }

    /// The media type of a `Content-Type` value: before any `;`, without spaces or tabs, lowercased.
    static func mediaType(_ value: String) -> String {
        let bytes = value.utf8.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        return String(decoding: bytes, as: UTF8.self).lowercased()
    }

    /// Whether the request carries the SCIM token of the directory named in its path:
    /// `nil` when it does not (or there is no such SCIM directory: one answer for all),
    /// else whether the directory is live and active. `cached` lets admission use what
    /// was read of the directory within the last second (see `DirectoryCache`).
    private func authenticate(_ directoryID: String, _ head: HTTPHead, cached: Bool) throws -> Bool? {
        var token = "", active = false
        // Only "active" is taken from the cache: a 200-empty refusal (which tells the identity
        // provider the change is done) is decided on what the replica says now.
        if cached, let entry = directories.fresh(directoryID), entry.active {
            token = entry.token
            active = entry.active
        } else if directoryID.utf8.count <= 128, let record = try store.record(id: directoryID),
                  let directory = Directory(record: record), directory.type.usesSCIM, !directory.scimToken.isEmpty {
            // Ids are UUIDs; a longer "id" is not worth a query.
            token = directory.scimToken
            active = record.isLive && !directory.deactivated
            directories.store(directoryID, token: token, active: active)
        }
        // The same comparison whatever was found, against a stand-in of a real token's length when nothing was.
        let matches = bearerTokenMatches(authorization: head.header("authorization"), secret: token.isEmpty ? Self.standIn : token)
        guard matches, !token.isEmpty else { return nil }
        return active
    }

    /// Compared when no token exists, so that case costs what a wrong token costs; it never matches.
    private static let standIn = "\u{0}" + String(repeating: "x", count: 21)

    // MARK: Answers

    /// The answer to an admitted request.
    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        guard let (directoryID, endpoint) = ScimEndpoint.parse(request.path), let endpoint else {
            return Self.error(.notFound("no SCIM endpoint at \(request.path.prefix(200))"))
        }
        do {
            // `admit` authenticated this head. A change checks the directory again inside its
            // transaction; a read checks it here: it may have been deactivated or deleted since.
            if !endpoint.changes(request.method) {
                guard let active = try authenticate(directoryID, request.head, cached: false) else { return Self.unauthorized() }
                guard active else { return Self.ignored() }
            }
            let scim = ScimDirectory(id: directoryID, baseURL: service.externalURL + Self.basePath + "/" + directoryID)
            guard try isExpensive(endpoint, request) else { return try answer(endpoint, request, scim) }
            guard expensive.enter(directoryID) else {
                var r = Self.error(ScimError(status: 429, "too many requests on large groups are running; retry in a second"))
                r.setHeader("Retry-After", "1")
                return r
            }
            defer { expensive.leave(directoryID) }
            return try answer(endpoint, request, scim)
        } catch let e as ScimError {
            // A change refused before its transaction (a body that does not parse) was admitted on
            // what was read of the directory up to a second ago: an inactive one answers as such.
            if endpoint.changes(request.method), (try? authenticate(directoryID, request.head, cached: false)) == false {
                return Self.ignored()
            }
            return Self.error(e)
        } catch {
            return Self.internalError("\(request.method) \(loggedPath(request.head)): \(error)")
        }
    }

    private func answer(_ endpoint: ScimEndpoint, _ request: HTTPRequest, _ scim: ScimDirectory) throws -> HTTPResponse {
        let query = request.head.query.map { ($0.name, $0.value) }
        switch (endpoint, request.method) {
        case (.serviceProviderConfig, _):
            return Self.json(Discovery.serviceProviderConfig(baseURL: scim.baseURL))
        case (.resourceTypes(nil), _):
            return Self.json(Discovery.resourceTypesList(baseURL: scim.baseURL))
        case (.resourceTypes(let id?), _):
            guard let doc = Discovery.resourceType(id: id, baseURL: scim.baseURL) else {
                throw ScimError.notFound("no resource type \"\(id.prefix(100))\"")
            }
            return Self.json(doc)
        case (.schemas(nil), _):
            return Self.json(Discovery.schemasList(baseURL: scim.baseURL))
        case (.schemas(let id?), _):
            guard let doc = Discovery.schema(id: id, baseURL: scim.baseURL) else { throw ScimError.notFound("no schema \"\(id.prefix(200))\"") }
            return Self.json(doc)
        case (.rootSearch, _):
            return Self.json(try scim.searchAll(ListRequest.fromSearchBody(ScimDirectory.parseBody(request.body)), in: reader))
        case (.collectionSearch(let kind), _):
            return Self.json(try list(kind, ListRequest.fromSearchBody(ScimDirectory.parseBody(request.body)), scim))
        case (.collection(let kind), "GET"):
            return Self.json(try list(kind, ListRequest.fromQuery(query), scim))
        case (.collection(let kind), _):
            return try create(kind, request, scim)
        case (.resource(let kind, let id), "GET"):
            let projection = try Self.projection(kind, query)
            let resource = kind == .user ? try scim.getUser(id, projection: projection, in: reader)
                : try scim.getGroup(id, projection: projection, in: reader)
            return Self.json(resource, etag: try reader.record(id).map(ScimRecords.etag))
        case (.resource(let kind, let id), "DELETE"):
            let ifMatch = request.header("if-match")
            let done: Void? = try change(scim) { store in
                ((), kind == .user ? try scim.deleteUser(id, ifMatch: ifMatch, in: store)
                    : try scim.deleteGroup(id, ifMatch: ifMatch, in: store))
            }
            return done == nil ? Self.ignored() : HTTPResponse(status: 204)
        case (.resource(let kind, let id), let method):
            return try modify(kind, id, replace: method == "PUT", request, scim)
        }
    }

    /// Whether the request reads a large group with its members, or replaces or deletes one
    /// (`ExpensiveRequests`); the size is counted in the membership index alone.
    private func isExpensive(_ endpoint: ScimEndpoint, _ request: HTTPRequest) throws -> Bool {
        guard case .resource(.group, let id) = endpoint else { return false }
        switch request.method {
        case "GET":
            let projection = try Self.projection(.group, request.head.query.map { ($0.name, $0.value) })
            guard projection.includes("members") else { return false }
        case "DELETE", "PUT": break
        default: return false
        }
        return try store.count(ScimIndex.membersOfGroup.rawValue, prefix: ScimIndex.prefix(id)) >= expensive.largeGroup
    }

    /// `GET /Users|/Groups` and their `/.search`.
    private func list(_ kind: ScimResourceKind, _ request: ListRequest, _ scim: ScimDirectory) throws -> JSONValue {
        kind == .user ? try scim.listUsers(request, in: reader) : try scim.listGroups(request, in: reader)
    }

    /// `POST /Users|/Groups`: 201 with `Location` and `ETag`.
    private func create(_ kind: ScimResourceKind, _ request: HTTPRequest, _ scim: ScimDirectory) throws -> HTTPResponse {
        let body = try ScimDirectory.parseBody(request.body)
        let projection = try Self.projection(kind, request.head.query.map { ($0.name, $0.value) })
        // What needs no store is done before the write lock, so concurrent creates overlap it.
        let user = kind == .user ? try scim.prepareUser(body) : nil
        guard let outcome = try change(scim, { store -> (ScimOutcome, [DirectoryEvent]) in
            let o = try user.map { try scim.createUser($0, in: store) } ?? (try scim.createGroup(body, in: store))
            return (o, o.events)
        }) else { return Self.ignored() }
        var response = Self.json(projection.applyToRendered(outcome.resource), status: 201, etag: Self.etag(outcome))
        response.setHeader("Location", ResourceMapping.location(baseURL: scim.baseURL, schema: kind.schema, id: outcome.record.id))
        return response
    }

    /// `PUT` and `PATCH` of one resource. A group PATCH answers 204 (as Okta
    /// documents; its members are not read back) unless the query asks for
    /// attributes, which RFC 7644 §3.5.2 answers with the resource.
    private func modify(_ kind: ScimResourceKind, _ id: String, replace: Bool, _ request: HTTPRequest,
                        _ scim: ScimDirectory) throws -> HTTPResponse {
        let body = try ScimDirectory.parseBody(request.body)
        let query = request.head.query.map { ($0.name, $0.value) }
        let projection = try Self.projection(kind, query)
        let ifMatch = request.header("if-match")
        let wantsGroupBack = kind == .group && !replace && query.contains {
            ["attributes", "excludedattributes"].contains($0.0.lowercased())
        }
        guard let (outcome, resource) = try change(scim, { store -> ((ScimOutcome, JSONValue?), [DirectoryEvent]) in
            let o: ScimOutcome
            switch (kind, replace) {
            case (.user, true): o = try scim.replaceUser(id, body, ifMatch: ifMatch, in: store)
            case (.user, false): o = try scim.patchUser(id, body, ifMatch: ifMatch, in: store)
            case (.group, true): o = try scim.replaceGroup(id, body, ifMatch: ifMatch, in: store)
            case (.group, false): o = try scim.patchGroup(id, body, ifMatch: ifMatch, in: store)
            }
            let back = wantsGroupBack ? try scim.getGroup(id, projection: projection, in: store) : nil
            return ((o, back), o.events)
        }) else { return Self.ignored() }
        let etag = Self.etag(outcome)
        if kind == .group && !replace {
            guard let resource else { return HTTPResponse(status: 204, headers: [("ETag", etag)]) }
            return Self.json(resource, etag: etag)
        }
        return Self.json(projection.applyToRendered(outcome.resource), etag: etag)
    }

    // MARK: Store access

    /// GETs read the replica without a write transaction, reusing counts and page ends
    /// while nothing changes (a client paging through a long list).
    private var reader: ScimReplicaReader { ScimReplicaReader(store: store, cache: lists) }

    /// Runs a write flow as one local transaction (committed with the changes of
    /// concurrent requests: `GroupCommit`), with its events handed to the sink
    /// inside it; `nil` (nothing done) when the directory is no longer live and
    /// active once the write lock is held.
    private func change<T>(_ scim: ScimDirectory, _ flow: @escaping (ScimReplicaTransaction) throws -> (T, [DirectoryEvent])) throws -> T? {
        let store = self.store, eventSink = self.eventSink
        return try commits.write { tx -> T? in
            guard let r = try tx.record(scim.id), r.isLive, let directory = Directory(record: r),
                  !directory.deactivated, directory.type.usesSCIM else { return nil }
            let (result, events) = try flow(ScimReplicaTransaction(store: store, tx: tx))
            if !events.isEmpty { try eventSink(tx, events) }
            return result
        }
    }

    // MARK: Responses

    /// The ETag of a change's record: the `meta.version` its resource was rendered with (a SHA-256 not computed twice).
    private static func etag(_ outcome: ScimOutcome) -> String {
        outcome.resource.member("meta")?.member("version")?.stringValue ?? ScimRecords.etag(outcome.record)
    }

    /// `attributes` / `excludedAttributes` of the query (names without case).
    private static func projection(_ kind: ScimResourceKind, _ query: [(String, String)]) throws(ScimError) -> Projection {
        func value(_ name: String) -> String? { query.first { $0.0.lowercased() == name }?.1 }
        return try Projection(schema: kind.schema, attributes: value("attributes"), excludedAttributes: value("excludedattributes"))
    }

    /// A SCIM JSON answer.
    static func json(_ value: JSONValue, status: Int = 200, etag: String? = nil) -> HTTPResponse {
        var r = HTTPResponse.json(JSONWriter.write(value), status: status, contentType: contentType)
        if let etag { r.setHeader("ETag", etag) }
        return r
    }

    /// A SCIM error answer; the log gets its status and `scimType`, not the detail (which may quote user data).
    static func error(_ e: ScimError) -> HTTPResponse {
        var r = json(e.responseBody, status: e.status)
        r.logNote = "SCIM error \(e.status)\(e.kind.map { " " + $0.rawValue } ?? "")"
        return r
    }

    /// 401 with `WWW-Authenticate: Bearer`, the same for every reason.
    static func unauthorized() -> HTTPResponse {
        error(.unauthorized("missing or wrong bearer token for this SCIM endpoint")).setting("WWW-Authenticate", "Bearer")
    }

    /// What a deactivated or deleted directory answers: 200, no body, nothing done.
    static func ignored() -> HTTPResponse {
        HTTPResponse(status: 200, logNote: "directory inactive or deleted: request ignored")
    }

    /// The HTTP target's 500 (a short id for the client, the detail in the log), as a SCIM error.
    static func internalError(_ detail: String) -> HTTPResponse {
        var r = HTTPResponse.internalError(detail)
        let message = (try? JSONParser.parse(r.body))?.member("error")?.stringValue ?? "internal error"
        r.body = JSONWriter.write(ScimError(status: 500, message).responseBody)
        r.setHeader("Content-Type", contentType)
        return r
    }
}
