import JSON
import Foundation
import Replica
import Scim
import SetupLinks

/// The users and groups identity providers provisioned over SCIM, as the replica
/// holds them: offline, on any replica, streamed from the indexes. On a setup
/// page only that page's directories (and their users and groups) are reachable.
extension ConsoleSession {
    /// Reads SCIM users and groups with resources located under the external URL in force.
    var scimBrowser: ScimBrowser { ScimBrowser(store: service.store, externalURL: service.externalURL) }

    /// `directory users ID [--filter TEXT]`: ID, User name, Name, Email, Status.
    func directoryUsers(_ c: ParsedCommand) throws {
        let d = try directoryArgument(c.arguments[0])
        var filter: ScimFilter?
        if let text = c["--filter"] {
            do { filter = try ScimBrowser.userFilter(Validation.trimmed(text)) } catch {
                throw ConsoleError.usage("--filter: \(error.detail)")
            }
        }
        let browser = scimBrowser
        if json {
            var page = try browser.users(directory: d.id, filter: filter, limit: 1000)
            var all = page.items
            while let next = page.next {
                page = try browser.users(directory: d.id, filter: filter, after: next, limit: 1000)
                all += page.items
            }
            emit([("directory_id", .string(d.id)), ("users", .array(all))])
            return
        }
        // A small first page shows at once; a filter the index cannot answer may need to read on until a row matches.
        var page = try browser.users(directory: d.id, filter: filter, limit: 100, brief: true)
        while page.items.isEmpty, let next = page.next, !io.interrupted() {
            page = try browser.users(directory: d.id, filter: filter, after: next, limit: 1000, brief: true)
        }
        if page.items.isEmpty {
            say(filter == nil ? "No users in directory \(d.name) (\(d.id)) yet: its identity provider has provisioned none."
                : "No users of directory \(d.name) (\(d.id)) match the filter.")
            return
        }
        if filter == nil { say("Directory \(d.name) (\(d.id)): \(try browser.userCount(directory: d.id)) users") }
        var cursor = page.next
        try streamTable(headers: ["ID", "User name", "Name", "Email", "Status"], statusColumns: [4],
                        first: page.items.map(Self.userRow)) {
            guard let after = cursor else { return nil }
            let next = try browser.users(directory: d.id, filter: filter, after: after, limit: 1000, brief: true)
            cursor = next.next
            return next.items.map(Self.userRow)
        }
    }

    /// `directory groups ID`: ID, Name, Members.
    func directoryGroups(_ c: ParsedCommand) throws {
        let d = try directoryArgument(c.arguments[0])
        let browser = scimBrowser
        if json {
            func withCounts(_ items: [(resource: JSONValue, members: Int)]) -> [JSONValue] {
                items.map { Self.adding(("member_count", .int(Int64($0.members))), to: $0.resource) }
            }
            var page = try browser.groups(directory: d.id, limit: 1000)
            var all = withCounts(page.items)
            while let next = page.next {
                page = try browser.groups(directory: d.id, after: next, limit: 1000)
                all += withCounts(page.items)
            }
            emit([("directory_id", .string(d.id)), ("groups", .array(all))])
            return
        }
        let first = try browser.groups(directory: d.id, limit: 50)
        if first.items.isEmpty {
            say("No groups in directory \(d.name) (\(d.id)) yet: its identity provider has pushed none.")
            return
        }
        say("Directory \(d.name) (\(d.id)): \(try browser.groupCount(directory: d.id)) groups")
        func rows(_ items: [(resource: JSONValue, members: Int)]) -> [[String]] {
            items.map { [Self.text($0.resource, "id"), Self.text($0.resource, "displayName"), String($0.members)] }
        }
        var cursor = first.next
        try streamTable(headers: ["ID", "Name", "Members"], first: rows(first.items)) {
            guard let after = cursor else { return nil }
            let next = try browser.groups(directory: d.id, after: after, limit: 500)
            cursor = next.next
            return rows(next.items)
        }
    }

    /// `user show ID`: the user's attributes and groups.
    func userShow(_ c: ParsedCommand) throws {
        let id = try resolveScimID(c.arguments[0], kind: .user)
        guard let (directory, u) = try scimBrowser.user(id) else { throw ConsoleError.failed("no user with id \(c.arguments[0])") }
        if json {
            emit([("directory_id", .string(directory)), ("user", u)])
            return
        }
        let groups = (u.member("groups")?.arrayValue ?? []).map { g in
            "\(g.member("display")?.stringValue ?? "?") (\(g.member("value")?.stringValue ?? ""))"
        }
        let emails = (u.member("emails")?.arrayValue ?? []).compactMap { e -> String? in
            guard let v = e.member("value")?.stringValue else { return nil }
            return v + (e.member("type")?.stringValue.map { " (\($0))" } ?? "") + (e.member("primary")?.boolValue == true ? " primary" : "")
        }
        var rows: [(String, String)] = [
            ("ID", id), ("Directory", directoryLabel(directory)), ("User name", Self.text(u, "userName")),
            ("Name", Self.personName(u)), ("Display name", Self.text(u, "displayName")),
            ("Emails", emails.isEmpty ? "-" : emails.joined(separator: ", ")),
            ("Status", io.style.status(u.member("active")?.boolValue == false ? "inactive" : "active")),
            ("External ID", Self.text(u, "externalId")),
            ("Groups", groups.isEmpty ? "none" : groups.joined(separator: ", ")),
        ]
        let shown: Set<String> = ["schemas", "id", "meta", "userName", "name", "displayName", "emails", "active", "externalId", "groups"]
        let others = (u.objectValue ?? []).map(\.0).filter { !shown.contains($0) }
        if !others.isEmpty { rows.append(("Also", others.joined(separator: ", ") + " (see --json)")) }
        rows += Self.metaRows(u)
        say(renderSection(title: "User", rows: rows))
    }

    /// `group show ID`: the group, then its members (streamed).
    func groupShow(_ c: ParsedCommand) throws {
        let id = try resolveScimID(c.arguments[0], kind: .group)
        let browser = scimBrowser
        guard let (directory, g) = try browser.group(id) else { throw ConsoleError.failed("no group with id \(c.arguments[0])") }
        if json {
            var page = try browser.members(group: id, limit: 1000)
            var members = page.items
            while let next = page.next {
                page = try browser.members(group: id, after: next, limit: 1000)
                members += page.items
            }
            emit([("directory_id", .string(directory)), ("group", g), ("members", .array(members))])
            return
        }
        let count = try browser.memberCount(group: id)
        say(renderSection(title: "Group", rows: [
            ("ID", id), ("Directory", directoryLabel(directory)), ("Name", Self.text(g, "displayName")),
            ("External ID", Self.text(g, "externalId")), ("Members", String(count)),
        ] + Self.metaRows(g)))
        guard count > 0 else { return }
        func rows(_ members: [JSONValue]) throws -> [[String]] {
            try members.map { m in
                let value = m.member("value")?.stringValue ?? ""
                return [value, try browser.userName(member: value, directory: directory) ?? "-", m.member("display")?.stringValue ?? "-"]
            }
        }
        var page = try browser.members(group: id, limit: 100)
        while page.items.isEmpty, let next = page.next { page = try browser.members(group: id, after: next, limit: 1000) }
        var cursor = page.next
        say("")
        try streamTable(headers: ["Member", "User name", "Display"], first: try rows(page.items)) {
            guard let after = cursor else { return nil }
            let next = try browser.members(group: id, after: after, limit: 1000)
            cursor = next.next
            return try rows(next.items)
        }
    }

    // MARK: Helpers

    /// The full id of the live user or group `typed` (an id or a unique prefix, any case)
    /// names; on a setup page only users and groups of that page's directories.
    func resolveScimID(_ typed: String, kind: RecordKind) throws -> String {
        let what = kind == .user ? "user" : "group"
        let t = Validation.trimmed(typed).lowercased()
        guard !t.isEmpty else { throw ConsoleError.usage("\(what) show needs an id") }
        let allowed = try page.map { Set(try $0.directories().map(\.id)) }
        func ok(_ id: String) throws -> Bool {
            guard let r = try replica.record(id: id), r.isLive, r.kind == kind else { return false }
            guard let allowed else { return true }
            return ScimRecords.directory(of: r).map(allowed.contains) ?? false
        }
        if try ok(t) { return t }
        let ids = try replica.ids(kind: kind, prefix: t, limit: 32).filter { try ok($0) }
        switch ids.count {
        case 0: throw ConsoleError.failed("no \(what) with id \(typed)" + (page == nil ? "" : " on this setup page"))
        case 1: return ids[0]
        default: throw SetupLinkError.ambiguousID(kind: what, prefix: t, candidates: ids)
        }
    }

    /// `name (id)` of a directory, or the id alone when it is gone.
    private func directoryLabel(_ id: String) -> String {
        guard let r = try? replica.record(id: id), let d = Directory(record: r) else { return id }
        return "\(d.name) (\(id))" + (r.isLive ? "" : ", deleted")
    }

    /// A user's table row.
    static func userRow(_ u: JSONValue) -> [String] {
        let emails = u.member("emails")?.arrayValue ?? []
        let email = (emails.first { $0.member("primary")?.boolValue == true } ?? emails.first)?.member("value")?.stringValue
        return [text(u, "id"), text(u, "userName"), personName(u), email ?? "-",
                u.member("active")?.boolValue == false ? "inactive" : "active"]
    }

    /// `name.formatted`, else given and family names, else `displayName`, else `-`.
    static func personName(_ u: JSONValue) -> String {
        if let f = u.member("name")?.member("formatted")?.stringValue, !f.isEmpty { return f }
        let parts = ["givenName", "familyName"].compactMap { u.member("name")?.member($0)?.stringValue }.filter { !$0.isEmpty }
        if !parts.isEmpty { return parts.joined(separator: " ") }
        return u.member("displayName")?.stringValue ?? "-"
    }

    /// A string attribute, or `-`.
    static func text(_ v: JSONValue, _ name: String) -> String { v.member(name)?.stringValue ?? "-" }

    /// Created, Last modified (table date format) and Version, from `meta`.
    static func metaRows(_ v: JSONValue) -> [(String, String)] {
        func date(_ s: String?) -> String {
            // ScimDate's form, 2026-12-02T19:44:05.123Z, shown like every table date.
            guard let s, s.count >= 16 else { return "-" }
            return s.prefix(10) + " " + s.dropFirst(11).prefix(5) + " UTC"
        }
        let meta = v.member("meta")
        return [("Created", date(meta?.member("created")?.stringValue)),
                ("Last modified", date(meta?.member("lastModified")?.stringValue)),
                ("Version", meta?.member("version")?.stringValue ?? "-")]
    }

    /// An object with one more member.
    static func adding(_ member: (String, JSONValue), to v: JSONValue) -> JSONValue {
        .object((v.objectValue ?? []) + [member])
    }
}
