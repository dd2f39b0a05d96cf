import Events
import JSON
import Replica
import SetupLinks

/// What a directory whose users and groups are *pulled* from a provider (Google Workspace)
/// needs beyond the SCIM flows it reuses (`createUser`, `replaceUser`, `deleteUser`,
/// `createGroup`, `deleteGroup`): the current users and groups by `externalId`, and a group
/// made to hold exactly a list of members while touching only the members that change.
extension ScimDirectory {
    /// Every live user (`kind == .user`) or group (`.group`) of this directory: its id and
    /// its `externalId` (empty when it has none), in the directory's listing order.
    public func externalIDs(_ kind: RecordKind, in store: ScimStore) throws -> [(id: String, externalId: String)] {
        var out: [(String, String)] = []
        try store.scanAll(kind == .user ? .usersOfDirectory : .groupsOfDirectory, prefix: ScimIndex.prefix(id)) { r in
            guard r.isLive, r.kind == kind, ScimRecords.directory(of: r) == id else { return }
            out.append((r.id, r[ScimRecords.externalIdField] ?? ""))
        }
        return out
    }

    /// Makes group `gid` hold `body`'s attributes and exactly `body`'s `members`: attributes
    /// that differ are written (`group.updated`), members missing are added
    /// (`group.user_added`), members not listed are removed (`group.user_removed`); a member
    /// already present is not written again, so a sync that finds nothing new writes nothing.
    public func syncGroup(_ gid: String, _ body: JSONValue, in store: ScimStore) throws -> ScimOutcome {
        let r = try requireLive(gid, ScimSchemas.groupResource, store)
        let (attrs, wanted) = try groupBody(body)
        let present = Set(try members(of: gid, store).map(\.value))
        var seen = Set<String>()
        var add: [JSONValue] = []
        for m in wanted {
            guard let v = m.member("value")?.stringValue, seen.insert(v).inserted else { continue }
            if !present.contains(v) { add.append(m) }
        }
        let remove = present.subtracting(seen).sorted()
        var ops: [MemberOp] = []
        if !remove.isEmpty { ops.append(.remove(remove)) }
        if !add.isEmpty { ops.append(.add(add)) }
        return try saveGroup(r, attrs, ops, withMembers: false, store)
    }
}
