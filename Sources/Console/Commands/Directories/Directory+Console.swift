import GoogleSync
import JSON
import SetupLinks

/// How a directory is shown: one JSON object, an info section, or a table row.
extension Directory {
    /// The directory as JSON: the record's field names (SetupLinks.docc/LinksAndDirectories.md); the webhook secret is never included.
    func jsonFields(in session: ConsoleSession) -> [(String, JSONValue)] {
        [("id", .string(id)), ("name", .string(name)), ("tenant", .string(tenant)), ("product", .string(product)),
         ("type", .string(type.rawValue)), ("status", .string(status)), ("deactivated", .bool(deactivated)),
         ("scim_endpoint", .string(scimEndpoint(externalURL: session.service.externalURL))), ("scim_token", .string(scimToken)),
         ("webhook_url", .string(webhookURL)), ("created", created.map { .string(Format.iso($0)) } ?? .null)] + googleFields(in: session)
    }

    /// A Google directory's authorization (replicated) and, on the hub that syncs it, its last sync.
    private func googleState(in session: ConsoleSession) -> (GoogleDirectoryState, GoogleSyncStatus?)? {
        guard type == .google, let r = (try? session.service.store.record(id: id)) ?? nil else { return nil }
        return (GoogleDirectoryState(record: r), (try? GoogleCredentials.lastSync(session.service.store, id)) ?? nil)
    }

    /// `google_status` (`not-authorized`, `authorized`, `needs-reauthorization`), `google_authorized_by`,
    /// `google_domain`, `google_holder`, `google_last_sync` for a Google directory.
    private func googleFields(in session: ConsoleSession) -> [(String, JSONValue)] {
        guard let (s, last) = googleState(in: session) else { return [] }
        let status = s.authorizedBy == nil ? "not-authorized" : s.needsReauthorization ? "needs-reauthorization" : "authorized"
        return [("google_status", .string(status)), ("google_authorized_by", s.authorizedBy.map(JSONValue.string) ?? .null),
                ("google_domain", s.domain.map(JSONValue.string) ?? .null), ("google_holder", s.holder.map(JSONValue.string) ?? .null),
                ("google_last_sync", last.map { .string($0.line) } ?? .null)]
    }

    /// The directory's info section: SCIM endpoint and token (none for Google).
    func section(in session: ConsoleSession) -> String {
        var rows: [(String, String)] = [("ID", id), ("Name", name), ("Tenant", tenant), ("Product", product),
                                        ("Type", "\(type.label) (\(type.rawValue))"), ("Status", session.io.style.status(status)),
                                        ("Created", created.map(Format.date) ?? "unknown")]
        if type.usesSCIM {
            rows += [("SCIM Endpoint", scimEndpoint(externalURL: session.service.externalURL)), ("SCIM Token", scimToken)]
        } else {
            rows.append(("SCIM", "none: Google directories sync without a SCIM endpoint"))
            if let (s, last) = googleState(in: session) {
                rows.append(("Google", s.summary))
                if let last { rows.append(("Last sync", last.line)) }
            }
        }
        return renderSection(title: "Directory", rows: rows)
    }

    /// The directory's table row, with tenant and product in the admin view.
    func row(withTenant: Bool) -> [String] {
        withTenant ? [id, name, tenant, product, type.rawValue, status] : [id, name, type.rawValue, status]
    }

    /// Prints a setup page's directories: a table, or how to create the first one.
    static func printPageList(_ ds: [Directory], in session: ConsoleSession) throws {
        if ds.isEmpty {
            session.say("No directories yet. Create the first one with: directory new --type TYPE (see: providers)")
        } else {
            try session.streamTable(headers: ["ID", "Name", "Type", "Status"], statusColumns: [3],
                                    first: ds.map { $0.row(withTenant: false) }) { nil }
        }
    }
}
