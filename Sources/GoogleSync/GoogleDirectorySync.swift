import Events
import Foundation
import JSON
import Replica
import Scim
import SetupLinks
import Storage

/// What one sync of a Google directory did.
public struct GoogleSyncReport: Sendable, Equatable {
    /// Users, groups and memberships Google listed.
    public var googleUsers = 0, googleGroups = 0, googleMembers = 0
    /// The events written, by name (`user.created` → 2, …).
    public var events: [String: Int] = [:]
    /// Items left out, each with why (a userName two Google users share, a member that is not a user of the domain…).
    public var skipped: [String] = []

    /// `3 users, 2 groups, 4 memberships in Google; events: 1 user.created, 1 group.updated` or `…; no changes`.
    public var summary: String {
        let seen = "\(googleUsers) user\(googleUsers == 1 ? "" : "s"), \(googleGroups) group\(googleGroups == 1 ? "" : "s"), "
            + "\(googleMembers) membership\(googleMembers == 1 ? "" : "s") in Google"
        let changes = events.isEmpty ? "no changes"
            : "events: " + events.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return seen + "; " + changes + (skipped.isEmpty ? "" : "; skipped \(skipped.count): " + skipped.prefix(3).joined(separator: "; "))
    }

    /// How many events were written.
    public var eventCount: Int { events.values.reduce(0, +) }
}

/// One directory's users and groups as Google listed them, and how they become the same
/// user, group and membership records (and events) that SCIM writes.
struct GoogleSnapshot: Sendable {
    /// Google users, in Google's order.
    var users: [JSONValue]
    /// Google groups with their members.
    var groups: [(group: JSONValue, members: [JSONValue])]

    /// A Google user (Admin SDK `User`) as a SCIM user: `userName` and the primary email are
    /// its `primaryEmail`, `externalId` its Google id, `name` its given and family names,
    /// `active` false when it is suspended or archived.
    static func scimUser(_ u: JSONValue) -> JSONValue? {
        guard let id = u["id"]?.stringValue, !id.isEmpty, let email = u["primaryEmail"]?.stringValue, !email.isEmpty else { return nil }
        var name: [(String, JSONValue)] = []
        if let g = u["name"]?["givenName"]?.stringValue { name.append(("givenName", .string(g))) }
        if let f = u["name"]?["familyName"]?.stringValue { name.append(("familyName", .string(f))) }
        if let full = u["name"]?["fullName"]?.stringValue { name.append(("formatted", .string(full))) }
        var o: [(String, JSONValue)] = [
            ("schemas", .array([.string("urn:ietf:params:scim:schemas:core:2.0:User")])),
            ("userName", .string(email)),
            ("externalId", .string(id)),
        ]
        if !name.isEmpty { o.append(("name", .object(name))) }
        if let full = u["name"]?["fullName"]?.stringValue { o.append(("displayName", .string(full))) }
        o.append(("emails", .array([.object([("value", .string(email)), ("type", .string("work")), ("primary", .bool(true))])])))
        o.append(("active", .bool(u["suspended"] != .bool(true) && u["archived"] != .bool(true))))
        return .object(o)
    }

    /// A Google group as a SCIM group: `displayName` its name (else its email), `externalId`
    /// its Google id, `members` the given SCIM member objects.
    static func scimGroup(_ g: JSONValue, members: [JSONValue]) -> JSONValue? {
        guard let id = g["id"]?.stringValue, !id.isEmpty else { return nil }
        let name = g["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? g["email"]?.stringValue ?? id
        return .object([
            ("schemas", .array([.string("urn:ietf:params:scim:schemas:core:2.0:Group")])),
            ("displayName", .string(name)),
            ("externalId", .string(id)),
            ("members", .array(members)),
        ])
    }

    /// Writes the differences between this snapshot and directory `directory`'s records in
    /// `tx`, through the SCIM flows, and returns the events (in the order a receiver needs
    /// them: users removed, users changed or new, groups removed, groups changed or new).
    func apply(directory: String, baseURL: String, store: ReplicaStore, tx: LocalTransaction,
               report: inout GoogleSyncReport) throws -> [DirectoryEvent] {
        let scim = ScimDirectory(id: directory, baseURL: baseURL)
        let st = ScimReplicaTransaction(store: store, tx: tx)
        var events: [DirectoryEvent] = []
        func attempt(_ what: @autoclosure () -> String, _ body: () throws -> [DirectoryEvent]) throws {
            do { events += try body() } catch let e as ScimError {
                report.skipped.append("\(what()): \(e.detail)")
            }
        }

        // Users.
        var wanted: [(googleID: String, body: JSONValue)] = []
        var seenIDs = Set<String>()
        for u in users {
            guard let body = Self.scimUser(u), let gid = body["externalId"]?.stringValue else {
                report.skipped.append("a user without id or primaryEmail")
                continue
            }
            if seenIDs.insert(gid).inserted { wanted.append((gid, body)) }
        }
        var uidByGoogleID: [String: String] = [:]
        for (uid, ext) in try scim.externalIDs(.user, in: st) {
            if seenIDs.contains(ext), uidByGoogleID[ext] == nil { uidByGoogleID[ext] = uid } else {
                try attempt("user \(uid)") { try scim.deleteUser(uid, in: st) }
            }
        }
        for (gid, body) in wanted {
            let email = body["userName"]?.stringValue ?? gid
            if let uid = uidByGoogleID[gid] {
                try attempt("user \(email)") { try scim.replaceUser(uid, body, in: st).events }
            } else {
                try attempt("user \(email)") {
                    let outcome = try scim.createUser(body, in: st)
                    uidByGoogleID[gid] = outcome.record.id
                    return outcome.events
                }
            }
        }

        // Groups.
        var wantedGroups: [(googleID: String, body: JSONValue)] = []
        var seenGroups = Set<String>()
        for (g, members) in groups {
            var objects: [JSONValue] = []
            for m in members {
                let type = m["type"]?.stringValue ?? "USER"
                guard type == "USER", let mid = m["id"]?.stringValue, let uid = uidByGoogleID[mid] else {
                    let who = m["email"]?.stringValue ?? m["id"]?.stringValue ?? "?"
                    report.skipped.append("member \(who) of \(g["email"]?.stringValue ?? "a group"): not a user of this directory (\(type))")
                    continue
                }
                var o: [(String, JSONValue)] = [("value", .string(uid))]
                if let email = m["email"]?.stringValue { o.append(("display", .string(email))) }
                objects.append(.object(o))
            }
            guard let body = Self.scimGroup(g, members: objects), let gid = body["externalId"]?.stringValue else {
                report.skipped.append("a group without id")
                continue
            }
            if seenGroups.insert(gid).inserted { wantedGroups.append((gid, body)) }
        }
        var groupIDByGoogleID: [String: String] = [:]
        for (id, ext) in try scim.externalIDs(.group, in: st) {
            if seenGroups.contains(ext), groupIDByGoogleID[ext] == nil { groupIDByGoogleID[ext] = id } else {
                try attempt("group \(id)") { try scim.deleteGroup(id, in: st) }
            }
        }
        for (gid, body) in wantedGroups {
            let name = body["displayName"]?.stringValue ?? gid
            if let id = groupIDByGoogleID[gid] {
                try attempt("group \(name)") { try scim.syncGroup(id, body, in: st).events }
            } else {
                try attempt("group \(name)") { try scim.createGroup(body, in: st).events }
            }
        }
        for e in events { report.events[e.name, default: 0] += 1 }
        return events
    }
}
