import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks

extension ConsoleSession {
    /// A link as JSON: the SPEC §1 field names; the webhook secret is never included.
    func linkJSON(_ l: SetupLink) -> [(String, JSONValue)] {
        var o: [(String, JSONValue)] = [("id", .string(l.id)), ("tenant", .string(l.tenant)), ("product", .string(l.product))]
        o.append(("name", l.name.map(JSONValue.string) ?? .null))
        o += [("webhook_url", .string(l.webhookURL)), ("token", .string(l.token)),
              ("url", .string(l.url(externalURL: service.externalURL))),
              ("valid_till", .string(Format.iso(l.validTill))), ("status", .string(l.status(now: service.now()))),
              ("expiry_days", .int(Int64(l.expiryDays)))]
        if !l.conflictingTokens.isEmpty { o.append(("conflicting_tokens", .array(l.conflictingTokens.map(JSONValue.string)))) }
        return o
    }

    /// A link's info section.
    func linkSection(_ l: SetupLink, title: String = "Setup link") -> String {
        let status = l.status(now: service.now())
        var rows: [(String, String)] = [
            ("ID", l.id), ("Tenant", l.tenant), ("Product", l.product), ("Name", l.name ?? "-"),
            ("Webhook URL", l.webhookURL), ("URL", l.url(externalURL: service.externalURL)),
            ("Valid till", Format.date(l.validTill)), ("Status", io.style.status(status)),
        ]
        if !l.conflictingTokens.isEmpty {
            rows.append(("Conflicts", "\(l.conflictingTokens.count) concurrent token(s) lost; see: conflicts"))
        }
        return renderSection(title: title, rows: rows)
    }

    /// `link create …`: one link per tenant and product.
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
        case .existing: say("A valid setup link for \(link.tenant) / \(link.product) already exists; it is unchanged (use --regenerate for a new token, link update to change it).")
        case .regenerated: say("Regenerated the setup link for \(link.tenant) / \(link.product): the old token no longer works.")
        }
        say(linkSection(link))
    }

    /// `link list`: streamed from the index, a page at a time; the first rows show at once.
    func linkList(_ c: ParsedCommand) throws {
        let tenant = c["--tenant"], product = c["--product"]
        let now = service.now()
        if json {
            emit([("links", .array(try service.links(tenant: tenant, product: product).map { .object(linkJSON($0)) }))])
            return
        }
        // A small first page shows something at once; later pages are larger.
        var page = try service.linkPage(tenant: tenant, product: product, limit: 100)
        if page.items.isEmpty && page.next != nil {
            // Rows skipped by the exact-product check: read on until something shows.
            while page.items.isEmpty, let next = page.next {
                page = try service.linkPage(tenant: tenant, product: product, after: next, limit: 1000)
            }
        }
        if page.items.isEmpty {
            let filtered = tenant != nil || product != nil
            say((filtered ? "No setup links match." : "No setup links yet.") + " Create one with: link create --tenant T --product P --webhook-url URL --webhook-secret S")
            return
        }
        func rows(_ links: [SetupLink]) -> [[String]] {
            links.map { [$0.id, $0.tenant, $0.product, Format.date($0.validTill), $0.status(now: now)] }
        }
        var cursor = page.next
        try streamTable(headers: ["ID", "Tenant", "Product", "Valid till", "Status"], statusColumns: [4],
                        first: rows(page.items)) {
            guard let after = cursor else { return nil }
            let next = try service.linkPage(tenant: tenant, product: product, after: after, limit: 1000)
            cursor = next.next
            return rows(next.items)
        }
    }

    /// `link show ID`.
    func linkShow(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        if json { emit(linkJSON(l)) } else { say(linkSection(l)) }
    }

    /// `link copy ID`: the URL alone.
    func linkCopy(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        if json { emit([("url", .string(l.url(externalURL: service.externalURL)))]) } else { say(l.url(externalURL: service.externalURL)) }
    }

    /// `link update ID [--name N] [--webhook-url URL] [--webhook-secret S]`.
    func linkUpdate(_ c: ParsedCommand) throws {
        guard c.has("--name") || c.has("--webhook-url") || c.has("--webhook-secret") else {
            throw ConsoleError.usage("link update needs at least one of --name, --webhook-url, --webhook-secret (usage: \(c.spec.usage))")
        }
        let (l, changed, directories) = try service.updateLink(id: c.arguments[0], name: c["--name"], webhookURL: c["--webhook-url"],
                                                               webhookSecret: c["--webhook-secret"])
        if json {
            emit([("result", .string(changed.isEmpty ? "unchanged" : "updated")), ("changed", .array(changed.map(JSONValue.string))),
                  ("directories", .array(directories.map(JSONValue.string)))] + linkJSON(l))
            return
        }
        if changed.isEmpty {
            say("The setup link for \(l.tenant) / \(l.product) already has these values; nothing changed.")
        } else {
            let names = changed.map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: ", ")
            say("Updated the setup link for \(l.tenant) / \(l.product): \(names).")
            if !directories.isEmpty {
                say("The webhook of its \(directories.count == 1 ? "directory" : "\(directories.count) directories") changed too:"
                    + " events not yet delivered go to the new URL, signed with the new secret.")
            }
            say(linkSection(l))
        }
    }

    /// `link regenerate ID [--yes]`: asks first on a terminal.
    func linkRegenerate(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        guard confirmed(c, "Regenerate the setup link for \(l.tenant) / \(l.product)? The current URL stops working at once.") else {
            reportDeclined(c, "Not regenerated.", id: l.id)
            return
        }
        let n = try service.regenerateLink(id: l.id)
        if json { emit([("result", .string("regenerated"))] + linkJSON(n)) } else {
            say("Regenerated: the old token no longer works.")
            say(linkSection(n))
        }
    }

    /// `link delete ID [--yes]`: asks first on a terminal.
    func linkDelete(_ c: ParsedCommand) throws {
        let l = try service.link(id: c.arguments[0])
        guard confirmed(c, "Delete the setup link for \(l.tenant) / \(l.product)? Its URL stops working; its directories stay.") else {
            reportDeclined(c, "Not deleted.", id: l.id)
            return
        }
        try service.deleteLink(id: l.id)
        if json { emit([("result", .string("deleted")), ("id", .string(l.id))]) } else {
            say("Deleted the setup link for \(l.tenant) / \(l.product).")
        }
    }
}
