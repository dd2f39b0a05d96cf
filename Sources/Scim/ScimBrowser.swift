import JSON
import Replica
import SetupLinks
import Storage

/// Read-only views of the users and groups of a replica's directories, for the
/// REPL (`directory users`, `directory groups`, `user show`, `group show`):
/// offline, on any replica, a page at a time from the indexes, so a long list
/// shows its first rows at once whatever the directory's size.
public struct ScimBrowser: Sendable {
    /// The replica read.
    public let store: ReplicaStore
    /// The external URL in force, for `meta.location` and `$ref`s.
    public let externalURL: String

    /// A browser of `store`'s directories, with resources located under `externalURL`.
    public init(store: ReplicaStore, externalURL: String) {
        self.store = store
        self.externalURL = externalURL
    }

    private var reader: ScimReplicaReader { ScimReplicaReader(store: store) }

    private func flows(_ directory: String) -> ScimDirectory {
        ScimDirectory(id: directory, baseURL: externalURL + ScimRoutes.basePath + "/" + directory)
    }

    /// Parses a user filter as `GET /Users?filter=` does (RFC 7644 grammar, User schema).
    public static func userFilter(_ text: String) throws(ScimError) -> ScimFilter {
        try ScimFilter.parse(text, for: ScimSchemas.userResource)
    }

    // MARK: Users

    /// One page of `directory`'s users (resources, with `groups` when the filter
    /// names them), in list order; continue with `next`.
    ///
    /// A filter the indexes answer (`userName eq`, `externalId eq`, `id eq`, and
    /// `or`s of them) is one page. Any other filter is tested on each page of the
    /// directory's users as it is read, so a page may hold fewer than `limit`
    /// matches (none, even) while `next` says more follow.
    ///
    /// `brief` (without a filter) gives only `id`, `userName`, `name`, `displayName`,
    /// `emails` and `active`, read from their registers alone: what a table shows,
    /// at a fraction of the cost of whole resources.
    public func users(directory: String, filter: ScimFilter? = nil, after cursor: IndexCursor? = nil,
                      limit: Int = 500, brief: Bool = false) throws -> BrowsePage<JSONValue> {
        let scim = flows(directory)
        let schema = ScimSchemas.userResource
        let withGroups = filter?.mentions("groups") ?? false
        func render(_ r: Record) throws -> JSONValue {
            if brief && filter == nil { return Self.brief(r) }
            return try scim.userResource(r, groups: withGroups ? try scim.userGroups(r.id, reader) : nil, reader)
        }
        if let filter, cursor == nil, let hints = filter.indexHints(for: schema) {
            var out: [JSONValue] = []
            for r in try scim.candidates(hints, .user, reader)
            where r.isLive && r.kind == .user && ScimRecords.directory(of: r) == directory {
                let resource = try render(r)
                if filter.matches(resource) { out.append(resource) }
            }
            return BrowsePage(items: out, next: nil)
        }
        let entries = try store.scan(ScimIndex.usersOfDirectory.rawValue, prefix: ScimIndex.prefix(directory),
                                     after: cursor, limit: limit)
        var out: [JSONValue] = []
        for e in entries where e.record.kind == .user {
            let resource = try render(e.record)
            if filter?.matches(resource) ?? true { out.append(resource) }
        }
        return BrowsePage(items: out, next: entries.count == limit ? entries.last?.cursor : nil)
    }

    /// The attributes a user table shows, parsed from their registers only.
    static func brief(_ r: Record) -> JSONValue {
        var out: [(String, JSONValue)] = [("id", .string(r.id))]
        for name in ["userName", "name", "displayName", "emails", "active"] {
            guard let text = r[ScimRecords.attributeField(name)], !text.isEmpty,
                  let v = try? JSONParser.parse(Array(text.utf8), maxDepth: 64) else { continue }
            out.append((name, v))
        }
        return .object(out)
    }

    /// The resource of a live user record (without its groups), as SCIM's GET answers it.
    public func userResource(_ r: Record) throws -> JSONValue {
        try flows(ScimRecords.directory(of: r) ?? "").userResource(r, groups: nil, reader)
    }

    /// The resource of a live group record, without its members.
    public func groupResource(_ r: Record) throws -> JSONValue {
        try flows(ScimRecords.directory(of: r) ?? "").groupResource(r, withMembers: false, reader)
    }

    /// How many users `directory` has.
    public func userCount(directory: String) throws -> Int {
        try store.count(ScimIndex.usersOfDirectory.rawValue, prefix: ScimIndex.prefix(directory))
    }

    /// The live user `id` (of any directory) with its groups, and its directory; `nil` if there is none.
    public func user(_ id: String) throws -> (directory: String, resource: JSONValue)? {
        guard let r = try store.record(id: id), r.isLive, r.kind == .user, let d = ScimRecords.directory(of: r) else { return nil }
        let scim = flows(d)
        return (d, try scim.userResource(r, groups: try scim.userGroups(id, reader), reader))
    }

    // MARK: Groups

    /// One page of `directory`'s groups (resources without members) with their
    /// member counts, in list order; continue with `next`.
    public func groups(directory: String, after cursor: IndexCursor? = nil,
                       limit: Int = 500) throws -> BrowsePage<(resource: JSONValue, members: Int)> {
        let scim = flows(directory)
        let entries = try store.scan(ScimIndex.groupsOfDirectory.rawValue, prefix: ScimIndex.prefix(directory),
                                     after: cursor, limit: limit)
        var out: [(JSONValue, Int)] = []
        for e in entries where e.record.kind == .group {
            out.append((try scim.groupResource(e.record, withMembers: false, reader), try memberCount(group: e.record.id)))
        }
        return BrowsePage(items: out, next: entries.count == limit ? entries.last?.cursor : nil)
    }

    /// How many groups `directory` has.
    public func groupCount(directory: String) throws -> Int {
        try store.count(ScimIndex.groupsOfDirectory.rawValue, prefix: ScimIndex.prefix(directory))
    }

    /// The live group `id` (of any directory), without members, and its directory; `nil` if there is none.
    public func group(_ id: String) throws -> (directory: String, resource: JSONValue)? {
        guard let r = try store.record(id: id), r.isLive, r.kind == .group, let d = ScimRecords.directory(of: r) else { return nil }
        return (d, try flows(d).groupResource(r, withMembers: false, reader))
    }

    /// How many members the group has now (memberships whose add-wins flag is set).
    public func memberCount(group: String) throws -> Int {
        var n = 0
        try reader.scanAll(.membersOfGroup, prefix: ScimIndex.prefix(group)) { if ScimRecords.isPresent($0) { n += 1 } }
        return n
    }

    /// One page of the group's members (the member objects as the provider sent
    /// them), in member-value order; a page may hold fewer than `limit` (removed
    /// members are skipped) while `next` says more follow.
    public func members(group: String, after cursor: IndexCursor? = nil, limit: Int = 500) throws -> BrowsePage<JSONValue> {
        let entries = try store.scan(ScimIndex.membersOfGroup.rawValue, prefix: ScimIndex.prefix(group), after: cursor, limit: limit)
        var out: [JSONValue] = []
        for e in entries where ScimRecords.isPresent(e.record) {
            guard let v = e.record[ScimRecords.memberField] else { continue }
            let object = e.record[ScimRecords.memberAttributesField].flatMap { try? JSONParser.parse(Array($0.utf8), maxDepth: 8) }
            out.append(object ?? .object([("value", .string(v))]))
        }
        return BrowsePage(items: out, next: entries.count == limit ? entries.last?.cursor : nil)
    }

    /// The `userName` of member `value` when it is a live user of `directory`.
    public func userName(member value: String, directory: String) throws -> String? {
        guard let r = try store.record(id: value), r.isLive, r.kind == .user, ScimRecords.directory(of: r) == directory else { return nil }
        return ResourceMapping.attributes(of: r, schema: ScimSchemas.userResource).member("userName")?.stringValue
    }
}

/// One page of a browsed list, and where the next page starts.
public struct BrowsePage<Item: Sendable>: Sendable {
    /// The items of this page (possibly fewer than asked, even none, when more follow).
    public var items: [Item]
    /// Where the next page starts, or `nil` when this page is the last.
    public var next: IndexCursor?
}
