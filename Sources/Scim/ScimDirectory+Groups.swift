import Events
import JSON
import Replica
import SetupLinks

extension ScimDirectory {
    private var schema: ResourceSchema { ScimSchemas.groupResource }

    /// `POST /Groups`: a new group (random UUID: two groups may share a
    /// displayName, as in Entra ID) with its members (`group.user_added` each).
    public func createGroup(_ body: JSONValue, in store: ScimStore) throws -> ScimOutcome {
        let (attrs, members) = try groupBody(body)
        let gid = Secrets.uuid()
        var values = ResourceMapping.writes(to: attrs, from: nil, schema: schema)
        values[ScimRecords.directoryField] = id
        let r = try store.write(id: gid, kind: .group, values, revive: true)
        let group = ResourceMapping.resource(r, schema: schema, baseURL: baseURL)
        var events = [DirectoryEvent(.groupCreated, directory: id, data: EventData.group(group))]
        let changes = try applyMemberOps(members.isEmpty ? [] : [.add(members)], group: gid, store)
        events += try memberEvents(changes, group: group, store)
        return ScimOutcome(record: r, resource: try groupResource(r, withMembers: true, store), events: events, changed: true)
    }

    /// `GET /Groups/<id>`: members are loaded only when the projection keeps them
    /// (Entra ID asks with `excludedAttributes=members`).
    public func getGroup(_ gid: String, projection: Projection, in store: ScimStore) throws -> JSONValue {
        let r = try requireLive(gid, schema, store)
        return projection.applyToRendered(try groupResource(r, withMembers: projection.includes("members"), store))
    }

    /// `GET /Groups` and `POST /Groups/.search`.
    public func listGroups(_ request: ListRequest, in store: ScimStore) throws -> JSONValue {
        try list(request, schema, store, render: { r, withMembers in
            try groupResource(r, withMembers: withMembers, store)
        }, costlyAttribute: "members")
    }

    /// `PUT /Groups/<id>`: attributes and members replaced by the body's.
    public func replaceGroup(_ gid: String, _ body: JSONValue, ifMatch: String? = nil, in store: ScimStore) throws -> ScimOutcome {
        let r = try requireLive(gid, schema, store)
        try checkIfMatch(ifMatch, r)
        try Normalizer.checkSameID(body, gid)
        let (attrs, members) = try groupBody(body)
        var ops: [MemberOp] = [.removeAll]
        if !members.isEmpty { ops.append(.add(members)) }
        return try saveGroup(r, attrs, ops, withMembers: true, store)
    }

    /// `PATCH /Groups/<id>`: attribute changes and member changes (Okta's
    /// `members` add / `members[value eq "…"]` remove, Entra ID's `Add`/`Remove`
    /// with a `value` list, `replace` of `displayName` with or without a path).
    /// The outcome's resource has no members: the route answers 204.
    public func patchGroup(_ gid: String, _ body: JSONValue, ifMatch: String? = nil, in store: ScimStore) throws -> ScimOutcome {
        let r = try requireLive(gid, schema, store)
        try checkIfMatch(ifMatch, r)
        let ops = try PatchOperation.parseRequest(body, for: schema)
        var engine = PatchEngine(schema: schema, resourceID: gid, attributes: ResourceMapping.attributes(of: r, schema: schema))
        try engine.apply(ops)
        return try saveGroup(r, engine.attributes, engine.memberOps, withMembers: false, store)
    }

    func saveGroup(_ r: Record, _ attrs: JSONValue, _ ops: [MemberOp], withMembers: Bool,
                           _ store: ScimStore) throws -> ScimOutcome {
        let values = ResourceMapping.writes(to: attrs, from: r, schema: schema)
        var current = r
        var events: [DirectoryEvent] = []
        if !values.isEmpty {
            current = try store.write(id: r.id, kind: .group, values, revive: false)
            events.append(DirectoryEvent(.groupUpdated, directory: id,
                                         data: EventData.group(ResourceMapping.resource(current, schema: schema, baseURL: baseURL))))
        }
        let changes = try applyMemberOps(ops, group: r.id, store)
        events += try memberEvents(changes, group: ResourceMapping.resource(current, schema: schema, baseURL: baseURL), store)
        return ScimOutcome(record: current, resource: try groupResource(current, withMembers: withMembers, store),
                           events: events, changed: !values.isEmpty || !changes.added.isEmpty || !changes.removed.isEmpty)
    }

    /// `DELETE /Groups/<id>`: the group and its present memberships become tombstones (`group.deleted`).
    public func deleteGroup(_ gid: String, ifMatch: String? = nil, in store: ScimStore) throws -> [DirectoryEvent] {
        let r = try requireLive(gid, schema, store)
        try checkIfMatch(ifMatch, r)
        let group = ResourceMapping.resource(r, schema: schema, baseURL: baseURL)
        // Every membership record of the group, removed ones too: none is needed any more.
        var memberships: [String] = []
        try store.scanAll(.membersOfGroup, prefix: ScimIndex.prefix(gid)) { memberships.append($0.id) }
        for mid in memberships { try store.delete(id: mid) }
        try store.delete(id: gid)
        return [DirectoryEvent(.groupDeleted, directory: id, data: EventData.group(group))]
    }

    // MARK: Members

    /// What a set of member operations changed.
    struct MemberChanges {
        /// Values newly present, in order.
        var added: [String] = []
        /// Values newly absent, in order.
        var removed: [String] = []
    }

    /// The group's present members, as stored (`value`, `display`, `type`, `$ref` as sent), in value order.
    func members(of gid: String, _ store: ScimStore) throws -> [(value: String, object: JSONValue)] {
        var out: [(String, JSONValue)] = []
        try store.scanAll(.membersOfGroup, prefix: ScimIndex.prefix(gid)) { m in
            guard ScimRecords.isPresent(m), let v = m[ScimRecords.memberField] else { return }
            let obj = m[ScimRecords.memberAttributesField].flatMap { try? JSONParser.parse(Array($0.utf8), maxDepth: 8) }
                ?? .object([("value", .string(v))])
            out.append((v, obj))
        }
        return out
    }

    /// Applies member operations to the membership records.
    ///
    /// Only the memberships named are read and written, so adding one member to
    /// a group of 100,000 touches one record; `removeAll` and `removeMatching`
    /// read the group's members. An add always writes `present = "1"` (with the
    /// member object), a remove of a present member `present = "0"`: see
    /// `ScimRecords.isPresent` for why a concurrent add wins (the semantics of an
    /// observed-remove set: a remove removes the adds its replica has seen).
    func applyMemberOps(_ ops: [MemberOp], group gid: String, _ store: ScimStore) throws -> MemberChanges {
        // value → desired member object (present) or nil (absent), in first-touched order.
        var desired: [String: JSONValue?] = [:]
        var order: [String] = []
        var clearedAll = false
        func touch(_ v: String, _ o: JSONValue?) {
            if desired[v] == nil { order.append(v) }
            desired[v] = .some(o)
        }
        var existingCache: [(value: String, object: JSONValue)]?
        func existing() throws -> [(value: String, object: JSONValue)] {
            if let existingCache { return existingCache }
            let e = try members(of: gid, store)
            existingCache = e
            return e
        }
        for op in ops {
            switch op {
            case .add(let objects):
                for o in objects { if let v = o.member("value")?.stringValue { touch(v, o) } }
            case .remove(let values):
                for v in values { touch(v, nil) }
            case .removeAll:
                for v in order { desired[v] = .some(nil) }
                clearedAll = true
            case .removeMatching(let filter):
                // The members as they stand after the operations so far.
                var current: [String: JSONValue] = [:]
                if !clearedAll { for (v, o) in try existing() { current[v] = o } }
                for v in order { current[v] = desired[v] ?? nil }
                for (v, o) in current where filter.matches(o) { touch(v, nil) }
            }
        }
        if clearedAll {
            for (v, _) in try existing() where desired[v] == nil { touch(v, nil) }
        }
        var changes = MemberChanges()
        for v in order {
            guard let want = desired[v] else { continue }
            let mid = ScimRecords.membershipID(group: gid, member: v)
            let old = try store.record(mid)
            let present = old.map(ScimRecords.isPresent) ?? false
            if let object = want {
                // Every add writes a new "1", even for a member already present: it is a
                // new add that a concurrent remove elsewhere has not seen, so it must survive it.
                let text = ResourceMapping.text(object)
                var values = [ScimRecords.presentField: "1", ScimRecords.memberAttributesField: text]
                if old == nil {
                    values[ScimRecords.groupField] = gid
                    values[ScimRecords.memberField] = v
                    values[ScimRecords.directoryField] = id
                }
                try store.write(id: mid, kind: .membership, values, revive: false)
                if !present { changes.added.append(v) }
            } else if present {
                try store.write(id: mid, kind: .membership, [ScimRecords.presentField: "0"], revive: false)
                changes.removed.append(v)
            }
        }
        return changes
    }

    private func memberEvents(_ changes: MemberChanges, group: JSONValue, _ store: ScimStore) throws -> [DirectoryEvent] {
        var events: [DirectoryEvent] = []
        for (kind, values) in [(DirectoryEvent.Kind.groupUserAdded, changes.added), (.groupUserRemoved, changes.removed)] {
            for v in values {
                let user = try liveRecord(v, .user, store).map {
                    EventData.user(ResourceMapping.resource($0, schema: ScimSchemas.userResource, baseURL: baseURL))
                } ?? EventData.unknownMember(v)
                events.append(DirectoryEvent(kind, directory: id, data: EventData.membership(user: user, groupResource: group)))
            }
        }
        return events
    }

    // MARK: Helpers

    /// The group's resource, with its members (read from the membership records) when asked.
    func groupResource(_ r: Record, withMembers: Bool, _ store: ScimStore) throws -> JSONValue {
        let members = withMembers ? try self.members(of: r.id, store).map(\.object) : nil
        return ResourceMapping.resource(r, schema: schema, baseURL: baseURL, members: members)
    }

    /// A POST/PUT body split into the group's attributes and its member objects.
    func groupBody(_ body: JSONValue) throws -> (JSONValue, [JSONValue]) {
        var attrs = ObjectMembers(try Normalizer.resource(body, schema: schema))
        let members = try PatchEngine.memberObjects(attrs["members"] ?? .null)
        attrs["members"] = nil
        if let name = attrs["displayName"]?.stringValue, name.utf8.count > 1024 {
            throw ScimError.invalidValue("displayName is longer than 1024 bytes")
        }
        return (attrs.value, members)
    }
}
