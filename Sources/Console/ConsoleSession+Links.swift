import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks
import Storage

extension ConsoleSession {
    static func display(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return f.string(from: d)
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    func linkJSON(_ l: SetupLink) -> [(String, JSONValue)] {
        var o: [(String, JSONValue)] = [("id", .string(l.id)), ("tenant", .string(l.tenant)), ("product", .string(l.product))]
        o.append(("name", l.name.map(JSONValue.string) ?? .null))
        o += [("webhook_url", .string(l.webhookURL)), ("token", .string(l.token)),
              ("url", .string(l.url(externalURL: service.externalURL))),
              ("valid_till", .string(Self.iso(l.validTill))), ("status", .string(l.status(now: service.now()))),
              ("expiry_days", .int(Int64(l.expiryDays)))]
        if !l.conflictingTokens.isEmpty { o.append(("conflicting_tokens", .array(l.conflictingTokens.map(JSONValue.string)))) }
        return o
    }

    func linkSection(_ l: SetupLink, title: String = "Setup link") -> String {
        var rows: [(String, String)] = [
            ("ID", l.id), ("Tenant", l.tenant), ("Product", l.product), ("Name", l.name ?? "-"),
            ("Webhook URL", l.webhookURL), ("URL", l.url(externalURL: service.externalURL)),
            ("Valid till", Self.display(l.validTill)), ("Status", l.status(now: service.now())),
        ]
        if !l.conflictingTokens.isEmpty {
            rows.append(("Conflicts", "\(l.conflictingTokens.count) concurrent token(s) lost; see: conflicts"))
        }
        return renderSection(title: title, rows: rows)
    }

    func linkCreate(_ c: ParsedCommand) throws {
        var days: Int?
        if let d = c["--expiry-days"] { days = try Validation.expiryDays(d) }
        let (link, outcome) = try service.createLink(
            tenant: c["--tenant"]!, product: c["--product"]!, webhookURL: c["--webhook-url"]!,
            webhookSecret: c["--webhook-secret"]!, name: c["--name"], expiryDays: days, regenerate: c.has("--regenerate"))
        if json {
            emit([("result", .string(outcome.rawValue))] + linkJSON(link))
            return
        }
        switch outcome {
        case .created: say("Created the setup link for \(link.tenant) / \(link.product).")
        case .existing: say("A valid setup link for \(link.tenant) / \(link.product) already exists; it is unchanged (use --regenerate for a new token).")
        case .regenerated: say("Regenerated the setup link for \(link.tenant) / \(link.product): the old token no longer works.")
        }
        say(linkSection(link))
    }

    func linkList(_ c: ParsedCommand) throws {
        if let t = c["--tenant"] { try Validation.tenantOrProduct(t, what: "tenant") }
        if let p = c["--product"] { try Validation.tenantOrProduct(p, what: "product") }
        let links = try service.links(tenant: c["--tenant"], product: c["--product"])
        if json {
            emit([("links", .array(links.map { .object(linkJSON($0)) }))])
            return
        }
        if links.isEmpty {
            let filtered = c["--tenant"] != nil || c["--product"] != nil
            say((filtered ? "No setup links match." : "No setup links yet.") + " Create one with: link create --tenant T --product P --webhook-url URL --webhook-secret S")
            return
        }
        var t = TextTable(headers: ["ID", "Tenant", "Product", "Valid till", "Status"])
        let now = service.now()
        for l in links { t.append([l.id, l.tenant, l.product, Self.display(l.validTill), l.status(now: now)]) }
        say(t.render())
    }

    func linkShow(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        if json { emit(linkJSON(l)) } else { say(linkSection(l)) }
    }

    func linkCopy(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        if json { emit([("url", .string(l.url(externalURL: service.externalURL)))]) } else { say(l.url(externalURL: service.externalURL)) }
    }

    func linkRegenerate(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        guard confirmed(c, "Regenerate the setup link for \(l.tenant) / \(l.product)? The current URL stops working at once.") else {
            say("Not regenerated.")
            return
        }
        let n = try service.regenerateLink(id: l.id)
        if json { emit([("result", .string("regenerated"))] + linkJSON(n)) } else {
            say("Regenerated: the old token no longer works.")
            say(linkSection(n))
        }
    }

    func linkDelete(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        guard confirmed(c, "Delete the setup link for \(l.tenant) / \(l.product)? Its URL stops working; its directories stay.") else {
            say("Not deleted.")
            return
        }
        try service.deleteLink(id: l.id)
        if json { emit([("result", .string("deleted")), ("id", .string(l.id))]) } else {
            say("Deleted the setup link for \(l.tenant) / \(l.product).")
        }
    }
}
