import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks
import Storage

extension ConsoleSession {
    func directoryJSON(_ d: Directory) -> [(String, JSONValue)] {
        [("id", .string(d.id)), ("name", .string(d.name)), ("tenant", .string(d.tenant)), ("product", .string(d.product)),
         ("type", .string(d.type.rawValue)), ("status", .string(d.status)), ("deactivated", .bool(d.deactivated)),
         ("scim_endpoint", .string(d.scimEndpoint(externalURL: service.externalURL))), ("scim_token", .string(d.scimToken)),
         ("webhook_url", .string(d.webhookURL))]
    }

    func directorySection(_ d: Directory) -> String {
        var rows: [(String, String)] = [("ID", d.id), ("Name", d.name), ("Tenant", d.tenant), ("Product", d.product),
                                        ("Type", "\(d.type.label) (\(d.type.rawValue))"), ("Status", d.status)]
        if d.type.usesSCIM {
            rows += [("SCIM Endpoint", d.scimEndpoint(externalURL: service.externalURL)), ("SCIM Token", d.scimToken)]
        } else {
            rows.append(("SCIM", "none: Google directories sync without a SCIM endpoint"))
        }
        return renderSection(title: "Directory", rows: rows)
    }

    func directoryTable(_ ds: [Directory], withTenant: Bool) -> String {
        var t = TextTable(headers: withTenant ? ["ID", "Name", "Tenant", "Product", "Type", "Status"] : ["ID", "Name", "Type", "Status"])
        for d in ds {
            t.append(withTenant ? [d.id, d.name, d.tenant, d.product, d.type.rawValue, d.status] : [d.id, d.name, d.type.rawValue, d.status])
        }
        return t.render()
    }

    func requirePage() throws -> TenantPage {
        guard let page else { throw SetupLinkError.noPageOpen }
        return page
    }

    func directoryList(_ c: ParsedCommand) throws {
        let ds: [Directory]
        if let page {
            if c["--tenant"] != nil || c["--product"] != nil {
                throw ConsoleError.usage("--tenant and --product are admin filters; a setup page lists its own directories (close it first)")
            }
            ds = try page.directories()
        } else {
            if let t = c["--tenant"] { try Validation.tenantOrProduct(t, what: "tenant") }
            if let p = c["--product"] { try Validation.tenantOrProduct(p, what: "product") }
            ds = try service.directories(tenant: c["--tenant"], product: c["--product"])
        }
        if json {
            emit([("directories", .array(ds.map { .object(directoryJSON($0)) }))])
            return
        }
        if ds.isEmpty {
            say(page != nil ? "No directories yet. Create the first one with: directory new --type TYPE (see: providers)"
                            : "No directories yet. A tenant creates one by opening its setup link: open URL, then directory new")
            return
        }
        say(directoryTable(ds, withTenant: page == nil))
    }

    func directoryShow(_ c: ParsedCommand) throws {
        let d = try page.map { try $0.directory(id: c.arguments[0]) } ?? service.directory(id: c.arguments[0])
        if json { emit(directoryJSON(d)) } else { say(directorySection(d)) }
    }

    func open(_ c: ParsedCommand) throws {
        let p = try service.open(c.arguments[0])
        page = p
        let ds = try p.directories()
        if json {
            emit([("page", .object(linkJSON(p.link))), ("directories", .array(ds.map { .object(directoryJSON($0)) }))])
            return
        }
        say("Setup page of \(p.link.tenant) / \(p.link.product)" + (p.link.name.map { " (\($0))" } ?? "") + ", valid till \(Self.display(p.link.validTill)).")
        if ds.isEmpty {
            say("No directories yet. Create the first one with: directory new --type TYPE (see: providers)")
        } else {
            say(directoryTable(ds, withTenant: false))
        }
    }

    func providers() {
        if json {
            emit([("providers", .array(DirectoryType.allCases.map { .object([("id", .string($0.rawValue)), ("label", .string($0.label))]) }))])
            return
        }
        var t = TextTable(headers: ["ID", "Label"])
        for p in DirectoryType.allCases { t.append([p.rawValue + (p == .azure ? " (default)" : ""), p.label]) }
        say(t.render())
    }

    func directoryNew(_ c: ParsedCommand) throws {
        let page = try requirePage()
        var type = DirectoryType.azure
        if let t = c["--type"] {
            guard let parsed = DirectoryType(rawValue: t) else {
                let hint = closestMatch(to: t, in: DirectoryType.allCases.map(\.rawValue)).map { " — did you mean \($0)?" } ?? ""
                throw ConsoleError.usage("unknown provider type \"\(t)\"\(hint) (see: providers)")
            }
            type = parsed
        }
        let d = try page.createDirectory(type: type)
        if json { emit([("result", .string("created"))] + directoryJSON(d)) } else {
            say("Created a directory of type \(d.type.label). Give your identity provider these values:")
            say(directorySection(d))
        }
    }

    func directorySetActive(_ c: ParsedCommand, active: Bool) throws {
        let page = try requirePage()
        let d = try page.setDeactivated(!active, id: c.arguments[0])
        if json { emit([("result", .string(active ? "activated" : "deactivated"))] + directoryJSON(d)) } else {
            say("\(active ? "Activated" : "Deactivated") directory \(d.name) (\(d.id)).")
        }
    }

    func directoryDelete(_ c: ParsedCommand) throws {
        let page = try requirePage()
        let d = try page.directory(id: c.arguments[0])
        guard confirmed(c, "Delete directory \(d.name) (\(d.id))? Its SCIM token stops working.") else {
            say("Not deleted.")
            return
        }
        try page.deleteDirectory(id: d.id)
        if json { emit([("result", .string("deleted")), ("id", .string(d.id))]) } else { say("Deleted directory \(d.name).") }
    }

    func close() throws {
        guard let p = page else { throw SetupLinkError.noPageOpen }
        page = nil
        if json { emit([("result", .string("closed"))]) } else { say("Left the setup page of \(p.link.tenant) / \(p.link.product).") }
    }
}
