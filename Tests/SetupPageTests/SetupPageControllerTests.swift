import Foundation
import TestSupport
import Testing
import Storage
@testable import SetupLinks
@testable import SetupPage

/// A controller on a fresh replica, with a clock the test can move.
final class PageFixture: @unchecked Sendable {
    let store: ReplicaStore
    let service: SetupLinkService
    let controller: SetupPageController
    var clock = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        let dir = testFolderPath("page")
        store = try SetupLinkService.openStore(path: dir + "/r.sqlite")
        service = try SetupLinkService(store: store, externalURL: "https://sso.example.com")
        controller = try SetupPageController(service: service)
        service.now = { [unowned self] in self.clock }
    }

    func link(_ tenant: String = "acme", _ product: String = "crm", name: String? = nil, days: Int? = nil) throws -> SetupLink {
        try service.createLink(tenant: tenant, product: product, webhookURL: "https://hooks.example.com/x",
                               webhookSecret: "s3cret", name: name, expiryDays: days).0
    }

    func csrf(_ link: SetupLink) -> String { controller.csrf.token(forLinkToken: link.token) }

    func html(_ reply: PageReply) -> String { reply.html?.markup ?? "" }

    func post(_ link: SetupLink, _ fields: [(String, String)], csrf: String? = nil) -> PageReply {
        var form = fields.map { (name: $0.0, value: $0.1) }
        form.insert((name: "csrf", value: csrf ?? self.csrf(link)), at: 0)
        return controller.post(token: link.token, form: form)
    }
}

@Suite struct SetupPageControllerTests {
    @Test func thePageShowsTheLinkAndAFormWithFiveSCIMProvidersEntraFirst() throws {
        let f = try PageFixture()
        let l = try f.link()
        let r = f.controller.get(token: l.token, query: [])
        let page = f.html(r)
        #expect(r.status == 200)
        #expect(page.contains("<dd>acme</dd>") && page.contains("<dd>crm</dd>"))
        #expect(page.contains(PageRenderer.display(l.validTill)) && page.contains("2027-01-18 08:00 UTC"))
        // Google only on a hub with a Google OAuth client (`GoogleSyncTests` has that case).
        for t in DirectoryType.allCases where t != .google { #expect(page.contains(">\(t.label)</option>")) }
        #expect(!page.contains("value=\"google\"") && page.contains("Google Workspace is not offered here"))
        #expect(page.contains("<option value=\"azure-scim-v2\" selected>Entra ID SCIM v2.0</option>"))
        #expect(page.components(separatedBy: " selected>").count == 2, "one option preselected")
        #expect(page.contains("<label for=\"new-name\">") && page.contains("<label for=\"new-type\">"))
        #expect(page.contains("name=\"csrf\" value=\"\(f.csrf(l))\""))
        #expect(page.contains("No directories yet"))
    }

    @Test func createMakesADirectoryThroughTheTenantFlowAndRedirects() throws {
        let f = try PageFixture()
        let l = try f.link()
        let r = f.post(l, [("action", "create"), ("name", "  Acme Okta  "), ("type", "okta-scim-v2")])
        #expect(r.status == 303)
        let ds = try f.service.directories()
        #expect(ds.count == 1)
        let d = try #require(ds.first)
        #expect(d.name == "Acme Okta" && d.type == .okta && d.tenant == "acme" && d.product == "crm")
        #expect(d.created == f.clock)
        #expect(r.location == "?done=created&directory=\(d.id)#dir-\(d.id)")
        let after = f.html(f.controller.get(token: l.token, query: [("done", "created"), ("directory", d.id)]))
        #expect(after.contains("Directory “Acme Okta” created."))
        #expect(after.contains(">https://sso.example.com/api/scim/v2.0/\(d.id)</textarea>"))
        #expect(after.contains(">\(d.scimToken)</textarea>"))
        #expect(after.contains("class=\"card dir is-new\" id=\"dir-\(d.id)\""))
        #expect(after.contains(">Okta SCIM v2.0</dd>") && after.contains(PageRenderer.display(f.clock)))
    }

    @Test func aBlankNameTakesTheLinksNameOrTheDefault() throws {
        let f = try PageFixture()
        let l = try f.link()
        _ = f.post(l, [("action", "create"), ("name", "   "), ("type", "azure-scim-v2")])
        #expect(try f.service.directories().map(\.name) == ["scim-acme-crm"])
        let named = try f.link("globex", "hr", name: "Globex HR")
        _ = f.post(named, [("action", "create"), ("name", ""), ("type", "jumpcloud-scim-v2")])
        #expect(try f.service.directories(tenant: "globex").map(\.name) == ["Globex HR"])
        // Without a Google OAuth client, the form offers no Google and refuses one.
        let refused = f.post(named, [("action", "create"), ("name", "G"), ("type", "google")])
        #expect(refused.status == 400 && f.html(refused).contains("Google Workspace is not offered here"))
        #expect(!f.html(refused).contains("value=\"google\""))
        #expect(try f.service.directories(tenant: "globex").count == 1)
        // A Google directory made elsewhere (a laptop) shows no SCIM values and why it cannot be authorized here.
        let g = try f.service.open(named.token).createDirectory(type: .google)
        #expect(g.name == "Globex HR" && g.type == .google && g.scimToken.isEmpty)
        let page = f.html(f.controller.get(token: named.token, query: []))
        #expect(page.contains("Google directories have no SCIM endpoint"))
        #expect(!page.contains("\(g.id)-endpoint"))
    }

    @Test func refusedFormsChangeNothing() throws {
        let f = try PageFixture()
        let l = try f.link()
        let other = try f.link("globex", "hr")
        let before = try f.store.digest()
        let noCSRF = f.controller.post(token: l.token, form: [(name: "action", value: "create"), (name: "type", value: "okta-scim-v2")])
        #expect(noCSRF.status == 403 && f.html(noCSRF).contains("Nothing was changed"))
        #expect(f.post(l, [("action", "create"), ("type", "okta-scim-v2")], csrf: f.csrf(other)).status == 403)
        #expect(f.post(l, [("action", "create"), ("type", "okta-scim-v2")], csrf: "").status == 403)
        let badType = f.post(l, [("action", "create"), ("name", "x"), ("type", "ldap")])
        #expect(badType.status == 400 && f.html(badType).contains("Choose an identity provider"))
        let longName = f.post(l, [("action", "create"), ("name", String(repeating: "n", count: 300)), ("type", "okta-scim-v2")])
        #expect(longName.status == 400 && f.html(longName).contains("at most 256"))
        #expect(f.html(longName).contains("<option value=\"okta-scim-v2\" selected>"), "the form keeps what was chosen")
        #expect(f.post(l, [("action", "explode")]).status == 400)
        #expect(try f.store.digest() == before)
    }

    @Test func deactivateActivateAndAnIdempotentRepeatThatWritesNothing() throws {
        let f = try PageFixture()
        let l = try f.link()
        let d = try f.service.open(l.token).createDirectory()
        #expect(f.post(l, [("action", "deactivate"), ("directory", d.id)]).location == "?done=deactivated&directory=\(d.id)")
        #expect(try f.service.directory(id: d.id).deactivated)
        let digest = try f.store.digest()
        #expect(f.post(l, [("action", "deactivate"), ("directory", d.id)]).location == "?done=unchanged&directory=\(d.id)")
        #expect(try f.store.digest() == digest)
        let page = f.html(f.controller.get(token: l.token, query: [("done", "unchanged"), ("directory", d.id)]))
        #expect(page.contains("was already inactive; nothing changed") && page.contains(">Inactive</span>"))
        #expect(page.contains("name=\"action\" value=\"activate\""))
        #expect(f.post(l, [("action", "activate"), ("directory", d.id)]).location == "?done=activated&directory=\(d.id)")
        #expect(try !f.service.directory(id: d.id).deactivated)
    }

    @Test func deleteAsksForConfirmationFirst() throws {
        let f = try PageFixture()
        let l = try f.link()
        let d = try f.service.open(l.token).createDirectory(name: "To go")
        let ask = f.post(l, [("action", "delete"), ("directory", d.id)])
        #expect(ask.status == 303 && ask.location == "?confirm=delete&directory=\(d.id)")
        #expect(try f.service.directories().count == 1)
        let confirm = f.controller.get(token: l.token, query: [("confirm", "delete"), ("directory", d.id)])
        #expect(confirm.status == 200 && f.html(confirm).contains("Delete To go?"))
        #expect(f.html(confirm).contains("name=\"confirm\" value=\"yes\""))
        let done = f.post(l, [("action", "delete"), ("directory", d.id), ("confirm", "yes")])
        #expect(done.location == "?done=deleted&name=To%20go")
        #expect(try f.service.directories().isEmpty)
        #expect(f.html(f.controller.get(token: l.token, query: [("done", "deleted"), ("name", "To go")])).contains("Directory “To go” deleted."))
        #expect(f.html(f.controller.get(token: l.token, query: [("done", "deleted")])).contains("Directory deleted."))
    }

    @Test func anotherTenantsDirectoryIsNeitherShownNorChanged() throws {
        let f = try PageFixture()
        let acme = try f.link()
        let globex = try f.link("globex", "crm")
        let sameTenantOtherProduct = try f.link("acme", "hr")
        let theirs = try f.service.open(globex.token).createDirectory(name: "Globex secret dir")
        let alsoTheirs = try f.service.open(sameTenantOtherProduct.token).createDirectory(name: "Acme HR dir")
        let before = try f.store.digest()
        for victim in [theirs, alsoTheirs] {
            let page = f.html(f.controller.get(token: acme.token, query: [("done", "created"), ("directory", victim.id)]))
            #expect(!page.contains(victim.name) && !page.contains(victim.id) && !page.contains(victim.scimToken))
            let confirm = f.controller.get(token: acme.token, query: [("confirm", "delete"), ("directory", victim.id)])
            #expect(confirm.status == 404 && !f.html(confirm).contains(victim.name))
            for action in ["deactivate", "activate", "delete"] {
                let r = f.post(acme, [("action", action), ("directory", victim.id), ("confirm", "yes")])
                #expect(r.status == 404 && f.html(r).contains("not on this setup page"))
            }
        }
        #expect(try f.store.digest() == before)
    }

    @Test func unknownRegeneratedDeletedAndExpiredLinks() throws {
        let f = try PageFixture()
        let l = try f.link(days: 1)
        for token in ["", "nope", String(repeating: "a", count: 48), String(repeating: "f", count: 5000)] {
            let r = f.controller.get(token: token, query: [])
            #expect(r.status == 404 && f.html(r).contains("Setup link is not found"))
        }
        #expect(f.controller.get(token: l.token.uppercased(), query: []).status == 200)
        let fresh = try f.service.regenerateLink(id: l.id)
        for r in [f.controller.get(token: l.token, query: []), f.post(l, [("action", "create"), ("type", "google")])] {
            #expect(r.status == 404)
            #expect(f.html(r).contains("<h1>Setup link is not found</h1>"))
            #expect(f.html(r).contains("<p>Please contact your administrator to get a new setup link.</p>"))
        }
        f.clock = f.clock.addingTimeInterval(86_401)
        let expired = f.controller.get(token: fresh.token, query: [])
        #expect(expired.status == 401 && f.html(expired).contains("<h1>Setup link is expired</h1>"))
        #expect(f.html(expired).contains("Please contact your administrator to get a new setup link."))
        try f.service.deleteLink(id: l.id)
        #expect(f.controller.get(token: fresh.token, query: []).status == 404)
        #expect(try f.service.directories().isEmpty)
    }

    @Test func everyValueIsEscaped() throws {
        let f = try PageFixture()
        let evil = "<script>alert(1)</script>"
        let l = try f.link(evil, "\"><img src=x onerror=alert(2)>", name: "'><b>bold</b>")
        let d = try f.service.open(l.token).createDirectory(name: "<i>dir</i>&")
        for r in [f.controller.get(token: l.token, query: [("done", "created"), ("directory", d.id)]),
                  f.controller.get(token: l.token, query: [("confirm", "delete"), ("directory", d.id)])] {
            let page = f.html(r)
            #expect(r.status == 200)
            #expect(!page.contains("<script>alert") && !page.contains("<img") && !page.contains("<b>bold") && !page.contains("<i>dir"))
            #expect(page.contains("&lt;i&gt;dir&lt;/i&gt;&amp;"))
            #expect(page.components(separatedBy: "<script>").count == 2, "only the page's own script")
        }
        let main = f.html(f.controller.get(token: l.token, query: []))
        #expect(main.contains("<dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>"))
        #expect(main.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(main.contains("&#39;&gt;&lt;b&gt;bold&lt;/b&gt;"))
    }

    @Test func theCSRFSecretIsKeptWithTheReplica() throws {
        let f = try PageFixture()
        let l = try f.link()
        let again = try SetupPageController(service: f.service)
        #expect(again.csrf.token(forLinkToken: l.token) == f.csrf(l))
        let hex = try #require(try f.store.settings.value(SetupPageController.secretSetting))
        #expect(hex.count == 64)
    }

    @Test func theCSPHashesMatchTheInlineBlocks() throws {
        let f = try PageFixture()
        let l = try f.link()
        let page = f.html(f.controller.get(token: l.token, query: []))
        func block(_ tag: String) -> String? {
            guard let a = page.range(of: "<\(tag)>"), let b = page.range(of: "</\(tag)>", range: a.upperBound..<page.endIndex) else { return nil }
            return String(page[a.upperBound..<b.lowerBound])
        }
        let css = try #require(block("style")), js = try #require(block("script"))
        #expect(PageAssets.contentSecurityPolicy.contains("style-src '\(PageAssets.hash(css))'"))
        #expect(PageAssets.contentSecurityPolicy.contains("script-src '\(PageAssets.hash(js))'"))
        #expect(!page.contains(" style=\""), "inline style attributes would need 'unsafe-inline'")
        #expect(!page.contains(" onclick="))
    }

    /// Issue 27.6: the refusal pages keep Jackson's sentences and say what still works.
    @Test func expiredAndNotFoundPagesKeepJacksonsSentencesAndSayWhatStillWorks() throws {
        let f = try PageFixture()
        let l = try f.link(days: 1)
        f.clock = f.clock.addingTimeInterval(86_401)
        let expired = f.controller.get(token: l.token, query: [])
        let notFound = f.controller.get(token: String(repeating: "0", count: 48), query: [])
        for (r, title, status) in [(expired, "Setup link is expired", 401), (notFound, "Setup link is not found", 404)] {
            let page = f.html(r)
            #expect(r.status == status)
            #expect(page.contains("<h1>\(title)</h1>\n<p>Please contact your administrator to get a new setup link.</p>"), "\(page)")
            #expect(page.contains("Directories you already created keep working"))
            #expect(page.contains("Ask the administrator who sent you this link for a new one"))
        }
    }

    /// Issue 27.6: each SCIM directory's card has its provider's steps, in the provider's words, and its documentation.
    @Test func eachDirectoryCardHasItsProvidersStepsAndDocumentation() throws {
        let f = try PageFixture()
        let l = try f.link()
        let page = try f.service.open(l.token)
        let expected: [(DirectoryType, [String], String)] = [
            (.okta, ["SCIM connector base URL", "HTTP Header", "userName"], "https://help.okta.com/"),
            (.azure, ["Tenant URL", "Secret Token"], "https://learn.microsoft.com/"),
            (.onelogin, ["SCIM Base URL", "SCIM Bearer Token"], "https://developers.onelogin.com/"),
            (.jumpcloud, ["Base URL", "Token Key"], "https://jumpcloud.com/"),
            (.generic, ["SCIM base URL", "bearer token"], "https://datatracker.ietf.org/doc/html/rfc7644"),
        ]
        for (type, _, _) in expected { _ = try page.createDirectory(type: type, name: type.label) }
        let html = f.html(f.controller.get(token: l.token, query: []))
        let cards = html.components(separatedBy: "<article ").dropFirst()
        #expect(cards.count == expected.count)
        for (type, words, docs) in expected {
            let card = try #require(cards.first { $0.contains("<dd>\(type.label)</dd>") }, "\(type)")
            for w in words { #expect(card.contains(HTML.escape(w)), "\(type.label) lacks “\(w)”") }
            #expect(card.contains("<details class=\"guide\""))
            #expect(card.contains("href=\"\(docs)"), "\(type.label) links its documentation")
            #expect(card.contains("rel=\"noopener noreferrer\""))
        }
    }
}
