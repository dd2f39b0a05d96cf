import JSON
import Replica
import SetupLinks

/// The SCIM flows of one directory: create, read, list, replace, patch and
/// delete users and groups, over a `ScimStore` (one transaction per call).
///
/// Flows throw `ScimError` for everything a client did wrong (the handler
/// answers it as a SCIM error) and let store errors through (a 500). A flow
/// that throws has written nothing the caller should keep: the wiring runs
/// each call inside one store transaction and rolls it back on any error.
public struct ScimDirectory: Sendable {
    /// The directory id.
    public let id: String
    /// The SCIM base URL of the directory (`<external URL>/api/scim/v2.0/<id>`), for `meta.location`.
    public let baseURL: String

    /// The flows of directory `id` served at `baseURL`.
    public init(id: String, baseURL: String) {
        self.id = id
        var u = baseURL
        while u.hasSuffix("/") { u.removeLast() }
        self.baseURL = u
    }

    // MARK: Shared

    /// The live record `rid` of `kind` in this directory, else 404 (another
    /// directory's id is as unknown as a made-up one).
    func liveRecord(_ rid: String, _ kind: RecordKind, _ store: ScimStore) throws -> Record? {
        guard let r = try store.record(rid), r.kind == kind, r.isLive, ScimRecords.directory(of: r) == id else { return nil }
        return r
    }

    /// The live user or group `rid` of this directory, else 404.
    func requireLive(_ rid: String, _ schema: ResourceSchema, _ store: ScimStore) throws -> Record {
        let kind: RecordKind = schema.name == "User" ? .user : .group
        guard let r = try liveRecord(rid, kind, store) else {
            throw ScimError.notFound("no \(schema.name) with id \"\(rid.prefix(200))\" in this directory")
        }
        return r
    }

    /// `If-Match`: `*` or the current ETag (compared weakly); otherwise 412.
    func checkIfMatch(_ ifMatch: String?, _ r: Record) throws(ScimError) {
        guard let ifMatch else { return }
        func opaque(_ t: Substring) -> Substring {
            let s = t.drop { $0 == " " }
            return s.hasPrefix("W/") ? s.dropFirst(2) : s
        }
        let current = opaque(Substring(ScimRecords.etag(r)))
        let tags = ifMatch.split(separator: ",").map { opaque($0).split(separator: " ").first ?? "" }
        guard tags.contains(where: { $0 == "*" || $0 == current }) else {
            throw ScimError(status: 412, "the resource changed: its version is \(ScimRecords.etag(r)), not \(ifMatch.prefix(100))")
        }
    }

    /// Lists resources of `schema`: the filter (from an index when it allows),
    /// 1-based paging, the projection. `render` builds the resource of a record,
    /// with the costly parts (`members`, `groups`) when asked.
    func list(_ request: ListRequest, _ schema: ResourceSchema, _ store: ScimStore,
              render: (Record, _ withCostly: Bool) throws -> JSONValue,
              costlyAttribute: String) throws -> JSONValue {
        let projection = try Projection(schema: schema, attributes: request.attributes,
                                        excludedAttributes: request.excludedAttributes)
        let filterText = request.filter.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        let filter = try filterText.map { t throws(ScimError) in try ScimFilter.parse(t, for: schema) }
        let start = request.effectiveStartIndex, count = request.effectiveCount
        let kind: RecordKind = schema.name == "User" ? .user : .group
        let dirIndex: ScimIndex = kind == .user ? .usersOfDirectory : .groupsOfDirectory
        let costlyOut = projection.explicitlyRequests(costlyAttribute)
            || (costlyAttribute == "members" && projection.includes("members"))
        var total = 0
        var page: [Record] = []
        if let filter {
            let costlyIn = filter.mentions(costlyAttribute)
            let withMeta = filter.mentions("meta")
            var matches: [String] = []
            func consider(_ r: Record) throws {
                guard r.isLive, r.kind == kind, ScimRecords.directory(of: r) == id else { return }
                var resource = try render(r, costlyIn)
                if !withMeta { resource = ObjectMembers(resource).removing("meta") }
                if filter.matches(resource) { matches.append(r.id) }
            }
            if let hints = filter.indexHints(for: schema) {
                for r in try candidates(hints, kind, store) { try consider(r) }
            } else {
                try store.scanAll(dirIndex, prefix: ScimIndex.prefix(id), consider)
            }
            total = matches.count
            if start - 1 < matches.count, count > 0 {
                for rid in matches[(start - 1)..<min(matches.count, start - 1 + count)] {
                    if let r = try liveRecord(rid, kind, store) { page.append(r) }
                }
            }
        } else {
            total = try store.count(dirIndex, prefix: ScimIndex.prefix(id))
            if count > 0 {
                for r in try store.scan(dirIndex, prefix: ScimIndex.prefix(id), offset: start - 1, limit: count)
                where r.isLive && r.kind == kind && ScimRecords.directory(of: r) == id {
                    page.append(r)
                }
            }
        }
        let resources = try page.map { try projection.applyToRendered(render($0, costlyOut)) }
        return ListResponse.body(totalResults: total, startIndex: start, resources: resources)
    }

    /// The records an index plan finds, deduplicated, in id order.
    func candidates(_ hints: [ScimIndexHint], _ kind: RecordKind, _ store: ScimStore) throws -> [Record] {
        var found: [String: Record] = [:]
        func add(_ records: [Record]) { for r in records { found[r.id] = r } }
        for h in hints {
            switch h {
            case .id(let v): if let r = try store.record(v) { found[v] = r }
            case .userName(let k): add(try store.lookup(.userByName, key: ScimIndex.key(id, k)))
            case .externalId(let e):
                add(try store.lookup(kind == .user ? .userByExternalId : .groupByExternalId, key: ScimIndex.key(id, e)))
            case .displayName(let k): add(try store.lookup(.groupByName, key: ScimIndex.key(id, k)))
            case .member(let v):
                for m in try store.lookup(.groupsOfMember, key: ScimIndex.key(id, v)) {
                    if ScimRecords.isPresent(m), let g = m[ScimRecords.groupField], found[g] == nil,
                       let r = try store.record(g) { found[g] = r }
                }
            }
        }
        return found.keys.sorted().map { found[$0]! }
    }

    /// Parses a request body (bytes) as JSON, as a 400 `invalidSyntax` when it is not.
    public static func parseBody(_ bytes: [UInt8]) throws(ScimError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes, maxDepth: 32)
        } catch {
            throw ScimError.invalidSyntax("the body is not valid JSON: \(error.description)")
        }
    }
}

extension ScimDirectory {
    /// `POST /.search` at the directory's root: users, then groups, paged as one
    /// list. A filter is parsed for each resource type; a type whose schema does
    /// not know an attribute the filter names contributes nothing (the filter
    /// could not match it), unless neither type knows it (400 `invalidFilter`).
    public func searchAll(_ request: ListRequest, in store: ScimStore) throws -> JSONValue {
        var parts: [(count: Int, list: (ListRequest) throws -> JSONValue)] = []
        var firstError: ScimError?
        for (schema, run) in [(ScimSchemas.userResource, listUsers), (ScimSchemas.groupResource, listGroups)] as
            [(ResourceSchema, (ListRequest, ScimStore) throws -> JSONValue)] {
            if let f = request.filter, !f.allSatisfy(\.isWhitespace) {
                do throws(ScimError) {
                    _ = try ScimFilter.parse(f, for: schema)
                } catch {
                    if error.kind == .invalidFilter, firstError == nil { firstError = error }
                    continue
                }
            }
            var probe = request
            probe.count = 0
            probe.startIndex = 1
            let total = (try run(probe, store).member("totalResults")?.int64Value).map { Int($0) } ?? 0
            parts.append((total, { r in try run(r, store) }))
        }
        if parts.isEmpty, let firstError { throw firstError }
        let start = request.effectiveStartIndex
        var remaining = request.effectiveCount
        var skip = start - 1
        var resources: [JSONValue] = []
        for part in parts {
            if skip >= part.count {
                skip -= part.count
                continue
            }
            guard remaining > 0 else { break }
            var r = request
            r.startIndex = skip + 1
            r.count = remaining
            let page = try part.list(r).member("Resources")?.arrayValue ?? []
            resources += page
            remaining -= page.count
            skip = 0
        }
        return ListResponse.body(totalResults: parts.reduce(0) { $0 + $1.count }, startIndex: start, resources: resources)
    }
}
