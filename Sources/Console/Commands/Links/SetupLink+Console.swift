import JSON
import SetupLinks

/// How a setup link is shown: one JSON object, or an info section.
extension SetupLink {
    /// The link as JSON: the record's field names (SetupLinks.docc/LinksAndDirectories.md); the webhook secret is never included.
    func jsonFields(in session: ConsoleSession) -> [(String, JSONValue)] {
        let service = session.service
        var o: [(String, JSONValue)] = [("id", .string(id)), ("tenant", .string(tenant)), ("product", .string(product))]
        o.append(("name", name.map(JSONValue.string) ?? .null))
        o += [("webhook_url", .string(webhookURL)), ("token", .string(token)),
              ("url", .string(url(externalURL: service.externalURL))),
              ("valid_till", .string(Format.iso(validTill))), ("status", .string(status(now: service.now()))),
              ("expiry_days", .int(Int64(expiryDays)))]
        if !conflictingTokens.isEmpty { o.append(("conflicting_tokens", .array(conflictingTokens.map(JSONValue.string)))) }
        return o
    }

    /// The link's info section.
    func section(in session: ConsoleSession, title: String = "Setup link") -> String {
        let service = session.service
        let status = self.status(now: service.now())
        var rows: [(String, String)] = [
            ("ID", id), ("Tenant", tenant), ("Product", product), ("Name", name ?? "-"),
            ("Webhook URL", webhookURL), ("URL", url(externalURL: service.externalURL)),
            ("Valid till", Format.date(validTill)), ("Status", session.io.style.status(status)),
        ]
        if !conflictingTokens.isEmpty {
            rows.append(("Conflicts", "\(conflictingTokens.count) concurrent token(s) lost; see: conflicts"))
        }
        return renderSection(title: title, rows: rows)
    }
}
