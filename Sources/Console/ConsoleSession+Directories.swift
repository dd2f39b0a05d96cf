import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks

/// Directory commands. On a setup page they act on that page's directories only;
/// outside one (the admin view) on any directory by id, also after its link was deleted.
extension ConsoleSession {
    /// A directory as JSON: the SPEC §1 field names; the webhook secret is never included.
    func directoryJSON(_ d: Directory) -> [(String, JSONValue)] {
        [("id", .string(d.id)), ("name", .string(d.name)), ("tenant", .string(d.tenant)), ("product", .string(d.product)),
         ("type", .string(d.type.rawValue)), ("status", .string(d.status)), ("deactivated", .bool(d.deactivated)),
         ("scim_endpoint", .string(d.scimEndpoint(externalURL: service.externalURL))), ("scim_token", .string(d.scimToken)),
         ("webhook_url", .string(d.webhookURL))]
    }

    /// A directory's info section: SCIM endpoint and token (none for Google).
    func directorySection(_ d: Directory) -> String {
        var rows: [(String, String)] = [("ID", d.id), ("Name", d.name), ("Tenant", d.tenant), ("Product", d.product),
                                        ("Type", "\(d.type.label) (\(d.type.rawValue))"), ("Status", io.style.status(d.status))]
        if d.type.usesSCIM {
            rows += [("SCIM Endpoint", d.scimEndpoint(externalURL: service.externalURL)), ("SCIM Token", d.scimToken)]
        } else {
            rows.append(("SCIM", "none: Google directories sync without a SCIM endpoint"))
        }
        return renderSection(title: "Directory", rows: rows)
    }

    /// Table rows for directories, with tenant and product in the admin view.
    func directoryRows(_ ds: [Directory], withTenant: Bool) -> [[String]] {
        ds.map { d in
            withTenant ? [d.id, d.name, d.tenant, d.product, d.type.rawValue, d.status] : [d.id, d.name, d.type.rawValue, d.status]
        }
    }

    /// The open setup page, or `no setup page is open`.
    func requirePage() throws -> TenantPage {
        guard let page else { throw SetupLinkError.noPageOpen }
        return page
    }

    /// `directory list [--tenant T] [--product P]`: the page's directories, or any (admin, streamed).
    func directoryList(_ c: ParsedCommand) throws {
        let tenant = c["--tenant"], product = c["--product"]
        if let page {
            if tenant != nil || product != nil {
                throw ConsoleError.usage("--tenant and --product are admin filters; a setup page lists its own directories (close it first)")
            }
            let ds = try page.directories()
            if json {
                emit([("directories", .array(ds.map { .object(directoryJSON($0)) }))])
            } else if ds.isEmpty {
                say("No directories yet. Create the first one with: directory new --type TYPE (see: providers)")
            } else {
                try streamTable(headers: ["ID", "Name", "Type", "Status"], statusColumns: [3],
                                first: directoryRows(ds, withTenant: false)) { nil }
            }
            return
        }
        if json {
            emit([("directories", .array(try service.directories(tenant: tenant, product: product).map { .object(directoryJSON($0)) }))])
            return
        }
        let first = try service.directoryPage(tenant: tenant, product: product, limit: 100)
        if first.items.isEmpty {
            say(tenant != nil || product != nil
                ? "No directories match."
                : "No directories yet. A tenant creates one by opening its setup link: open URL, then directory new")
            return
        }
        var cursor = first.next
        try streamTable(headers: ["ID", "Name", "Tenant", "Product", "Type", "Status"], statusColumns: [5],
                        first: directoryRows(first.items, withTenant: true)) {
            guard let after = cursor else { return nil }
            let next = try service.directoryPage(tenant: tenant, product: product, after: after, limit: 1000)
            cursor = next.next
            return directoryRows(next.items, withTenant: true)
        }
    }

    /// The directory an ID argument names: on the open page only that page's, else any.
    func directoryArgument(_ typed: String) throws -> Directory {
        if let page { return try page.directory(id: typed) }
        return try service.directory(id: typed)
    }

    /// `directory show ID`.
    func directoryShow(_ c: ParsedCommand) throws {
        let d = try directoryArgument(c.arguments[0])
        if json { emit(directoryJSON(d)) } else { say(directorySection(d)) }
    }

    /// `directory rename ID NAME` (no change when it already has the name).
    func directoryRename(_ c: ParsedCommand) throws {
        let (d, changed) = try page.map { try $0.renameDirectory(id: c.arguments[0], to: c.arguments[1]) }
            ?? service.renameDirectory(id: c.arguments[0], to: c.arguments[1])
        if json { emit([("result", .string(changed ? "renamed" : "unchanged"))] + directoryJSON(d)) } else {
            say(changed ? "Renamed directory \(d.id) to \(d.name)." : "Directory \(d.id) is already named \(d.name); nothing changed.")
        }
    }

    /// `open URL|TOKEN`: enters a tenant's setup page.
    func open(_ c: ParsedCommand) throws {
        let p = try service.open(c.arguments[0])
        page = p
        let ds = try p.directories()
        if json {
            emit([("page", .object(linkJSON(p.link))), ("directories", .array(ds.map { .object(directoryJSON($0)) }))])
            return
        }
        say("Setup page of \(p.link.tenant) / \(p.link.product)" + (p.link.name.map { " (\($0))" } ?? "") + ", valid till \(Format.date(p.link.validTill)).")
        if ds.isEmpty {
            say("No directories yet. Create the first one with: directory new --type TYPE (see: providers)")
        } else {
            try streamTable(headers: ["ID", "Name", "Type", "Status"], statusColumns: [3], first: directoryRows(ds, withTenant: false)) { nil }
        }
    }

    /// `providers`: the directory types, id and label.
    func providers() {
        if json {
            emit([("providers", .array(DirectoryType.allCases.map { .object([("id", .string($0.rawValue)), ("label", .string($0.label))]) }))])
            return
        }
        var t = TextTable(headers: ["ID", "Label"])
        for p in DirectoryType.allCases { t.append([p.rawValue + (p == .azure ? " (default)" : ""), p.label]) }
        say(t.render())
    }

    /// `directory new [--type TYPE] [--name N]` on the open setup page.
    func directoryNew(_ c: ParsedCommand) throws {
        let page = try requirePage()
        var type = DirectoryType.azure
        if let t = c["--type"] {
            guard let parsed = DirectoryType(rawValue: Validation.trimmed(t)) else {
                let hint = closestMatch(to: t, in: DirectoryType.allCases.map(\.rawValue)).map { " — did you mean \($0)?" } ?? ""
                throw ConsoleError.usage("unknown provider type \"\(t)\"\(hint) (see: providers)")
            }
            type = parsed
        }
        let d = try page.createDirectory(type: type, name: c["--name"])
        if json { emit([("result", .string("created"))] + directoryJSON(d)) } else {
            if d.type.usesSCIM {
                say("Created a directory of type \(d.type.label). Give your identity provider these values:")
            } else {
                say("Created a Google directory. It has no SCIM endpoint: Google sync is set up on the Google side.")
            }
            say(directorySection(d))
        }
    }

    /// `directory activate|deactivate ID` (no change when it already is).
    func directorySetActive(_ c: ParsedCommand, active: Bool) throws {
        let (d, changed) = try page.map { try $0.setDeactivated(!active, id: c.arguments[0]) }
            ?? service.setDirectoryDeactivated(!active, id: c.arguments[0])
        let verb = active ? "activated" : "deactivated"
        if json { emit([("result", .string(changed ? verb : "unchanged"))] + directoryJSON(d)) } else if changed {
            say("\(verb.capitalized) directory \(d.name) (\(d.id)).")
        } else {
            say("Directory \(d.name) (\(d.id)) is already \(active ? "active" : "inactive"); nothing changed.")
        }
    }

    /// `directory delete ID [--yes]`: asks first on a terminal.
    func directoryDelete(_ c: ParsedCommand) throws {
        let d = try directoryArgument(c.arguments[0])
        // A Google directory has no SCIM token to stop working.
        let consequence = d.type.usesSCIM
            ? "Its SCIM endpoint and token stop working."
            : "Users and groups synced from Google stop updating."
        guard confirmed(c, "Delete directory \(d.name) (\(d.id)) of \(d.tenant) / \(d.product)? \(consequence)") else {
            reportDeclined(c, "Not deleted.", id: d.id)
            return
        }
        if let page { try page.deleteDirectory(id: d.id) } else { try service.deleteDirectory(id: d.id) }
        if json { emit([("result", .string("deleted")), ("id", .string(d.id))]) } else { say("Deleted directory \(d.name) (\(d.id)).") }
    }

    /// `close`: leaves the setup page.
    func close() throws {
        guard let p = page else { throw SetupLinkError.noPageOpen }
        page = nil
        if json { emit([("result", .string("closed"))]) } else { say("Left the setup page of \(p.link.tenant) / \(p.link.product).") }
    }
}
