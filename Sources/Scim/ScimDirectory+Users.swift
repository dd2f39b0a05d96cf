import Events
import JSON
import Replica
import SetupLinks

extension ScimDirectory {
    private var schema: ResourceSchema { ScimSchemas.userResource }

    /// The longest `userName` accepted, in UTF-8 bytes.
    public static let maxUserNameBytes = 1024

    /// `POST /Users`: validates, refuses a `userName` taken in this directory
    /// (409 `uniqueness`, compared without case), derives the id and writes the record.
    ///
    /// The id is `ScimRecords.userID(directory, fold(userName), attempt)` with the
    /// first attempt whose record is free: absent, deleted (the user is created
    /// again under that id), or not a live user. A live user holding it has been
    /// renamed since (the same folded name would have been refused above), so
    /// the next attempt is tried. Every replica walks the same sequence, so two
    /// replicas creating one `userName` apart pick the same id when they agree
    /// on which ids are held (see Scim.docc/UsersAndGroups.md, "User ids").
    public func createUser(_ body: JSONValue, in store: ScimStore) throws -> ScimOutcome {
        try createUser(try prepareUser(body), in: store)
    }

    /// A `POST /Users` body checked and normalized, with its folded `userName` and
    /// first candidate id: the part of a create that reads nothing, done before
    /// the write lock is taken (`ScimRoutes` prepares while other changes commit).
    public struct PreparedUser: Sendable {
        let attrs: JSONValue
        let key: String
        let firstID: String
        /// The record's values when no record holds the id yet (the usual case).
        let freshValues: [String: String]
        /// The attribute object of the record `freshValues` make (`ResourceMapping.attributes(ofNew:)`).
        let freshAttributes: JSONValue
    }

    /// Validates and normalizes a `POST /Users` body (400s as `createUser`).
    public func prepareUser(_ body: JSONValue) throws -> PreparedUser {
        let attrs = try Normalizer.resource(body, schema: schema)
        let key = try userNameKey(attrs)
        var values = ResourceMapping.writes(to: attrs, from: nil, schema: schema)
        values[ScimRecords.directoryField] = id
        return PreparedUser(attrs: attrs, key: key, firstID: ScimRecords.userID(directory: id, userNameKey: key, attempt: 0),
                            freshValues: values, freshAttributes: ResourceMapping.attributes(ofNew: values, schema: schema))
    }

    /// `POST /Users` of a prepared body (see `createUser(_:in:)`).
    public func createUser(_ prepared: PreparedUser, in store: ScimStore) throws -> ScimOutcome {
        let attrs = prepared.attrs, key = prepared.key
        try checkUserNameFree(key, except: nil, store)
        var chosen: (String, Record?)?
        for attempt in 0..<ScimRecords.maxUserIDAttempts {
            let uid = attempt == 0 ? prepared.firstID : ScimRecords.userID(directory: id, userNameKey: key, attempt: attempt)
            let existing = try store.record(uid)
            guard let r = existing, r.isLive else {
                chosen = (uid, existing)
                break
            }
            if r.kind == .user, r[ScimRecords.userNameKeyField] == key {
                throw ScimError.uniqueness("userName \"\(attrs.member("userName")?.stringValue ?? "")\" is already taken in this directory")
            }
        }
        guard let (uid, old) = chosen else {
            throw ScimError(status: 500, "no free user id for this userName after \(ScimRecords.maxUserIDAttempts) attempts")
        }
        var values = prepared.freshValues
        if let old {
            values = ResourceMapping.writes(to: attrs, from: old, schema: schema)
            values[ScimRecords.directoryField] = id
        }
        let r = try store.write(id: uid, kind: .user, values, revive: true)
        // A new record holds exactly the prepared values: their attributes were rendered before the lock.
        let resource = ResourceMapping.resource(r, schema: schema, baseURL: baseURL,
                                                attributes: old == nil ? prepared.freshAttributes : nil)
        return ScimOutcome(record: r, resource: resource,
                           events: [DirectoryEvent(.userCreated, directory: id, data: EventData.user(resource))], changed: true)
    }

    /// `GET /Users/<id>`: the user, projected (with `groups` when the projection keeps them).
    public func getUser(_ uid: String, projection: Projection, in store: ScimStore) throws -> JSONValue {
        let r = try requireLive(uid, schema, store)
        let groups = projection.includes("groups") ? try userGroups(uid, store) : nil
        return projection.applyToRendered(try userResource(r, groups: groups, store))
    }

    /// `GET /Users` and `POST /Users/.search`.
    public func listUsers(_ request: ListRequest, in store: ScimStore) throws -> JSONValue {
        try list(request, schema, store, render: { r, withGroups in
            try userResource(r, groups: withGroups ? try userGroups(r.id, store) : nil, store)
        }, costlyAttribute: "groups")
    }

    /// `PUT /Users/<id>`: the body replaces every attribute (those left out are
    /// removed; Okta deactivates by sending the whole user with `active: false`).
    public func replaceUser(_ uid: String, _ body: JSONValue, ifMatch: String? = nil, in store: ScimStore) throws -> ScimOutcome {
        let r = try requireLive(uid, schema, store)
        try checkIfMatch(ifMatch, r)
        try Normalizer.checkSameID(body, uid)
        let attrs = try Normalizer.resource(body, schema: schema)
        return try saveUser(r, attrs, store)
    }

    /// `PATCH /Users/<id>`.
    public func patchUser(_ uid: String, _ body: JSONValue, ifMatch: String? = nil, in store: ScimStore) throws -> ScimOutcome {
        let r = try requireLive(uid, schema, store)
        try checkIfMatch(ifMatch, r)
        let ops = try PatchOperation.parseRequest(body, for: schema)
        var engine = PatchEngine(schema: schema, resourceID: uid, attributes: ResourceMapping.attributes(of: r, schema: schema))
        try engine.apply(ops)
        return try saveUser(r, engine.attributes, store)
    }

    /// Writes what changed, after checking that a new `userName` is free.
    private func saveUser(_ r: Record, _ attrs: JSONValue, _ store: ScimStore) throws -> ScimOutcome {
        let key = try userNameKey(attrs)
        if key != r[ScimRecords.userNameKeyField] { try checkUserNameFree(key, except: r.id, store) }
        let values = ResourceMapping.writes(to: attrs, from: r, schema: schema)
        guard !values.isEmpty else {
            return ScimOutcome(record: r, resource: try userResource(r, groups: try userGroups(r.id, store), store),
                               events: [], changed: false)
        }
        let updated = try store.write(id: r.id, kind: .user, values, revive: false)
        // The event's raw resource is what the provider wrote; the answer also has the user's groups.
        let resource = try userResource(updated, groups: nil, store)
        return ScimOutcome(record: updated, resource: try userResource(updated, groups: try userGroups(r.id, store), store),
                           events: [DirectoryEvent(.userUpdated, directory: id, data: EventData.user(resource))], changed: true)
    }

    /// `DELETE /Users/<id>`: the user leaves every group (`group.user_removed`), then is deleted (`user.deleted`).
    public func deleteUser(_ uid: String, ifMatch: String? = nil, in store: ScimStore) throws -> [DirectoryEvent] {
        let r = try requireLive(uid, schema, store)
        try checkIfMatch(ifMatch, r)
        let resource = try userResource(r, groups: nil, store)
        let userData = EventData.user(resource)
        var events: [DirectoryEvent] = []
        for m in try store.lookup(.groupsOfMember, key: ScimIndex.key(id, uid)) {
            guard ScimRecords.isPresent(m), let gid = m[ScimRecords.groupField] else { continue }
            try store.write(id: m.id, kind: .membership, [ScimRecords.presentField: "0"], revive: false)
            if let g = try liveRecord(gid, .group, store) {
                let group = ResourceMapping.resource(g, schema: ScimSchemas.groupResource, baseURL: baseURL)
                events.append(DirectoryEvent(.groupUserRemoved, directory: id, data: EventData.membership(user: userData, groupResource: group)))
            }
        }
        try store.delete(id: uid)
        events.append(DirectoryEvent(.userDeleted, directory: id, data: userData))
        return events
    }

    // MARK: Helpers

    /// The user's resource, with `groups` when given.
    func userResource(_ r: Record, groups: [JSONValue]?, _ store: ScimStore) throws -> JSONValue {
        ResourceMapping.resource(r, schema: schema, baseURL: baseURL, groups: groups)
    }

    /// The user's groups (`groups` attribute): live groups of this directory holding a present membership.
    func userGroups(_ uid: String, _ store: ScimStore) throws -> [JSONValue] {
        var out: [JSONValue] = []
        for m in try store.lookup(.groupsOfMember, key: ScimIndex.key(id, uid)) {
            guard ScimRecords.isPresent(m), let gid = m[ScimRecords.groupField],
                  let g = try liveRecord(gid, .group, store) else { continue }
            let name = ResourceMapping.attributes(of: g, schema: ScimSchemas.groupResource).member("displayName")
            out.append(.object([
                ("value", .string(gid)),
                ("$ref", .string(ResourceMapping.location(baseURL: baseURL, schema: ScimSchemas.groupResource, id: gid))),
                ("display", name ?? .null),
                ("type", .string("direct")),
            ]))
        }
        return out.sorted { ($0.member("value")?.stringValue ?? "") < ($1.member("value")?.stringValue ?? "") }
    }

    /// The folded `userName`, checked for length.
    private func userNameKey(_ attrs: JSONValue) throws(ScimError) -> String {
        guard case .string(let name)? = attrs.member("userName") else { throw ScimError.invalidValue("userName is required") }
        guard name.utf8.count <= Self.maxUserNameBytes else {
            throw ScimError.invalidValue("userName is longer than \(Self.maxUserNameBytes) bytes")
        }
        return ScimKeys.fold(name)
    }

    /// 409 when a live user of this directory other than `except` has this folded userName.
    private func checkUserNameFree(_ key: String, except: String?, _ store: ScimStore) throws {
        for r in try store.lookup(.userByName, key: ScimIndex.key(id, key)) where r.id != except {
            guard r.isLive, r.kind == .user, ScimRecords.directory(of: r) == id, r[ScimRecords.userNameKeyField] == key else { continue }
            let shown = ResourceMapping.attributes(of: r, schema: schema).member("userName")?.stringValue ?? key
            throw ScimError.uniqueness("userName \"\(shown)\" is already taken in this directory (user \(r.id))")
        }
    }
}
