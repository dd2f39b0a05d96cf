import Foundation
import HTTP
import SetupLinks
import Testing
import TestSupport

/// The setup page over HTTP, served by a real hub.
@Suite struct SetupPageHTTPTests {
    @Test func thePageAndItsHeaders() throws {
        let h = try ServedHub()
        let l = try h.link()
        let r = try h.get("/setup/\(l.token)")
        #expect(r.status == 200)
        #expect(r.headers["content-type"] == "text/html; charset=utf-8")
        expectSecurityHeaders(r)
        #expect(r.body.contains("<dd>acme</dd>") && r.body.contains("<dd>crm</dd>") && r.body.contains("Link valid till"))
        #expect(r.body.contains("<option value=\"azure-scim-v2\" selected>Entra ID SCIM v2.0</option>"))
        #expect(ServedHub.csrf(in: r.body) != nil)
        let slash = try h.get("/setup/\(l.token)/")
        #expect(slash.status == 200, "a trailing slash opens the same page")
        // HEAD with curl: the raw client would wait for the body that HEAD announces but never sends.
        let head = try run("/usr/bin/curl", ["-sS", "-I", "--max-time", "10", "http://127.0.0.1:\(h.port)/setup/\(l.token)"])
        #expect(head.status == 0 && head.stdout.hasPrefix("HTTP/1.1 200"))
        #expect(head.stdout.contains("X-Frame-Options: DENY") && head.stdout.contains("Content-Security-Policy: default-src 'none'"))
    }

    @Test func everyFormCreateDeactivateActivateDeleteWithPostRedirectGet() throws {
        let h = try ServedHub()
        let l = try h.link()
        let page = "/setup/\(l.token)"
        let csrf = try #require(ServedHub.csrf(in: try h.get(page).body))

        let created = try h.post(page, [("csrf", csrf), ("action", "create"), ("name", "Acme Okta"), ("type", "okta-scim-v2")])
        #expect(created.status == 303)
        expectSecurityHeaders(created)
        let d = try #require(try h.service.directories(tenant: "acme", product: "crm").first)
        #expect(d.name == "Acme Okta" && d.type == .okta && d.created != nil)
        let location = try #require(created.headers["location"])
        #expect(location == "?done=created&directory=\(d.id)#dir-\(d.id)")
        // The browser follows the relative Location against the page's URL.
        let shown = try h.get(page + location.prefix { $0 != "#" })
        #expect(shown.status == 200 && shown.body.contains("Directory “Acme Okta” created."))
        #expect(shown.body.contains(">https://hub.example.test/api/scim/v2.0/\(d.id)</textarea>"))
        #expect(shown.body.contains(">\(d.scimToken)</textarea>"))
        #expect(shown.body.contains("data-copy=\"dir-\(d.id)-endpoint\"") && shown.body.contains("data-copy=\"dir-\(d.id)-token\""))

        let off = try h.post(page, [("csrf", csrf), ("action", "deactivate"), ("directory", d.id)])
        #expect(off.status == 303 && off.headers["location"] == "?done=deactivated&directory=\(d.id)")
        #expect(try h.service.directory(id: d.id).deactivated)
        #expect(try h.get(page + "?done=deactivated&directory=\(d.id)").body.contains("“Acme Okta” is now inactive."))
        let on = try h.post(page, [("csrf", csrf), ("action", "activate"), ("directory", d.id)])
        #expect(on.status == 303 && on.headers["location"] == "?done=activated&directory=\(d.id)")
        #expect(try !h.service.directory(id: d.id).deactivated)

        let ask = try h.post(page, [("csrf", csrf), ("action", "delete"), ("directory", d.id)])
        #expect(ask.status == 303 && ask.headers["location"] == "?confirm=delete&directory=\(d.id)")
        let confirm = try h.get(page + "?confirm=delete&directory=\(d.id)")
        #expect(confirm.status == 200 && confirm.body.contains("<h1>Delete Acme Okta?</h1>"))
        expectSecurityHeaders(confirm)
        #expect(try h.service.directories().count == 1, "asking is not deleting")
        let gone = try h.post(page, [("csrf", csrf), ("action", "delete"), ("directory", d.id), ("confirm", "yes")])
        #expect(gone.status == 303 && gone.headers["location"] == "?done=deleted&name=Acme%20Okta")
        #expect(try h.service.directories().isEmpty)
        #expect(try h.get(page + "?done=deleted&name=Acme%20Okta").body.contains("Directory “Acme Okta” deleted."))
    }

    @Test func aPostWithoutTheCSRFTokenOrWithAnotherPagesIsRefusedAndChangesNothing() throws {
        let h = try ServedHub()
        let acme = try h.link()
        let globex = try h.link("globex", "crm")
        let d = try h.service.open(acme.token).createDirectory()
        let theirs = try #require(ServedHub.csrf(in: try h.get("/setup/\(globex.token)").body))
        let before = try h.store.digest()
        for csrf in [nil, "", theirs, "x" + theirs.dropFirst()] {
            for fields in [[("action", "create"), ("type", "okta-scim-v2")], [("action", "deactivate"), ("directory", d.id)],
                           [("action", "delete"), ("directory", d.id), ("confirm", "yes")]] {
                let r = try h.post("/setup/\(acme.token)", (csrf.map { [("csrf", $0)] } ?? []) + fields)
                #expect(r.status == 403 && r.body.contains("Nothing was changed"))
                expectSecurityHeaders(r)
            }
        }
        #expect(try h.store.digest() == before)
        #expect(try h.service.directories().count == 1)
    }

    @Test func aTenantNamedLikeAScriptShowsAsText() throws {
        let h = try ServedHub()
        let l = try h.link("<script>alert(1)</script>", "crm\"><img src=x onerror=alert(2)>")
        let page = "/setup/\(l.token)"
        let csrf = try #require(ServedHub.csrf(in: try h.get(page).body))
        let r = try h.post(page, [("csrf", csrf), ("action", "create"), ("name", "</textarea><script>alert(3)</script>"), ("type", "okta-scim-v2")])
        let d = try #require(try h.service.directories().first)
        let body = try h.get(page + (r.headers["location"] ?? "").prefix { $0 != "#" }).body
        #expect(body.contains("<dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>"))
        #expect(body.contains("crm&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(body.contains("&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;"))
        #expect(!body.contains("<script>alert") && !body.contains("<img") && !body.contains("</textarea><script>"))
        #expect(body.components(separatedBy: "<script>").count == 2, "the page's own script only")
        #expect(d.name == "</textarea><script>alert(3)</script>", "stored as typed, escaped when shown")
    }

    @Test func unknownRegeneratedDeletedAndExpiredLinksGetTheirPages() throws {
        let h = try ServedHub()
        let l = try h.link(days: 1)
        let sentence = "Please contact your administrator to get a new setup link."
        for target in ["/setup/" + String(repeating: "0", count: 48), "/setup/nope", "/setup", "/setup/", "/setup/\(l.token)/extra",
                       "/setup/%00", "/setup/" + String(repeating: "f", count: 3000)] {
            let r = try h.get(target)
            #expect(r.status == 404, "\(target)")
            #expect(r.body.contains("<h1>Setup link is not found</h1>") && r.body.contains("<p>\(sentence)</p>"), "\(target)")
            expectSecurityHeaders(r)
        }
        let regenerated = try h.service.regenerateLink(id: l.id)
        let old = try h.get("/setup/\(l.token)")
        #expect(old.status == 404 && old.body.contains("Setup link is not found") && old.body.contains(sentence))
        #expect(try h.get("/setup/\(regenerated.token)").status == 200)

        h.advance(86_401)
        let expired = try h.get("/setup/\(regenerated.token)")
        #expect(expired.status == 401)
        #expect(expired.body.contains("<h1>Setup link is expired</h1>") && expired.body.contains("<p>\(sentence)</p>"))
        expectSecurityHeaders(expired)
        #expect(!expired.body.contains("acme"), "an expired page shows nothing of the link")
    }

    @Test func aDeletedLinksPageStopsAtOnceEvenForAFormAlreadyLoaded() throws {
        let h = try ServedHub()
        let l = try h.link()
        let page = "/setup/\(l.token)"
        let csrf = try #require(ServedHub.csrf(in: try h.get(page).body))
        try h.service.deleteLink(id: l.id)
        #expect(try h.get(page).status == 404)
        let r = try h.post(page, [("csrf", csrf), ("action", "create"), ("type", "okta-scim-v2")])
        #expect(r.status == 404 && r.body.contains("Setup link is not found"))
        #expect(try h.service.directories().isEmpty)
    }

    @Test func oneTenantsPageNeverShowsOrChangesAnothersDirectory() throws {
        let h = try ServedHub()
        let acme = try h.link()
        let globex = try h.link("globex", "crm")
        let theirs = try h.service.open(globex.token).createDirectory(name: "Globex private")
        let mine = try h.service.open(acme.token).createDirectory(name: "Acme own")
        let page = "/setup/\(acme.token)"
        let body = try h.get(page).body
        #expect(body.contains("Acme own") && !body.contains("Globex private") && !body.contains(theirs.id) && !body.contains(theirs.scimToken))
        let csrf = try #require(ServedHub.csrf(in: body))
        let before = try h.store.digest()
        for (method, target, fields) in [
            ("GET", page + "?confirm=delete&directory=\(theirs.id)", []),
            ("GET", page + "?done=created&directory=\(theirs.id)", []),
            ("POST", page, [("action", "deactivate"), ("directory", theirs.id)]),
            ("POST", page, [("action", "delete"), ("directory", theirs.id), ("confirm", "yes")]),
        ] as [(String, String, [(String, String)])] {
            let r = method == "GET" ? try h.get(target) : try h.post(target, [("csrf", csrf)] + fields)
            #expect(!r.body.contains("Globex private") && !r.body.contains(theirs.scimToken), "\(method) \(target)")
            if method == "POST" || target.contains("confirm") { #expect(r.status == 404) }
        }
        #expect(try h.store.digest() == before)
        #expect(try h.service.directory(id: theirs.id).deactivated == false)
        #expect(try h.service.directories().map(\.id).sorted() == [mine.id, theirs.id].sorted())
    }

    @Test func refusalsBeforeTheBodyIsRead() throws {
        let h = try ServedHub()
        let l = try h.link()
        // A POST to a dead link is answered from its head alone: the body is never sent.
        let client = try RawClient(port: h.port)
        client.send("POST /setup/\(String(repeating: "a", count: 48)) HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
        let dead = try #require(client.readResponse(timeout: .seconds(10)))
        #expect(dead.status == 404 && dead.body.contains("Setup link is not found"))
        expectSecurityHeaders(dead)

        let json = try h.request("POST", "/setup/\(l.token)", headers: [("Content-Type", "application/json")], body: "{}")
        #expect(json.status == 415)
        expectSecurityHeaders(json)
        let big = try h.request("POST", "/setup/\(l.token)", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                body: "name=" + String(repeating: "x", count: 20_000))
        #expect(big.status == 413)
        let put = try h.request("PUT", "/setup/\(l.token)", body: "x")
        #expect(put.status == 405 && put.headers["allow"] == "GET, HEAD, POST")
        expectSecurityHeaders(put)
        let garbage = try h.request("POST", "/setup/\(l.token)", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                    body: "csrf=%zz&action=create")
        #expect(garbage.status == 400)
        #expect(try h.service.directories().isEmpty)
    }

    @Test func theAccessLogNeverHoldsTheToken() throws {
        let h = try ServedHub()
        let l = try h.link()
        let page = "/setup/\(l.token)"
        let csrf = try #require(ServedHub.csrf(in: try h.get(page).body))
        _ = try h.post(page, [("csrf", csrf), ("action", "create"), ("type", "okta-scim-v2")])
        _ = try h.post(page, [("action", "create")])
        _ = try h.get(page + "?done=created")
        _ = try h.request("DELETE", page)
        _ = try h.service.regenerateLink(id: l.id)
        _ = try h.get(page)
        #expect(poll { h.log.withLock { $0.count } >= 6 })
        let lines = h.log.withLock { $0 }
        for line in lines {
            #expect(!line.contains(l.token) && !line.contains(String(l.token.prefix(7))), "\(line)")
            #expect(!line.contains(csrf))
        }
        #expect(lines.contains { $0.contains("GET /setup/\(l.token.prefix(6))… 200") })
        #expect(lines.contains { $0.contains("POST /setup/\(l.token.prefix(6))… 403") && $0.contains("without a CSRF token") })
        #expect(lines.contains { $0.contains("GET /setup/\(l.token.prefix(6))… 404") })
    }

    @Test func thePeerProtocolStillAnswersBesideThePage() throws {
        let h = try ServedHub()
        #expect(try h.get("/healthz").status == 200)
        #expect(try h.get("/sync/v1/summary").status == 401)
        #expect(try h.get("/nothing-here").status == 404)
    }
}

/// A token two live links share (copies a peer sent) opens neither page; a regenerated one
/// opens nothing, even when a copy of the old link arrives later.
@Suite struct SharedTokenPageTests {
    @Test func aSharedOrRetiredTokenGetsTheNotFoundPage() throws {
        let h = try ServedHub()
        let l = try h.link()
        #expect(try h.get("/setup/\(l.token)").status == 200)
        try h.store.write { tx in
            _ = try tx.write(id: SetupLinkService.linkID(tenant: "globex", product: "crm"), kind: .link, [
                "tenant": "globex", "product": "crm", "token": l.token, "webhook_url": "https://hooks.example.com/y",
                "webhook_secret": "s", "valid_till": "2099-01-01T00:00:00Z", "expiry_days": "3", "service": "dsync", "name": "",
            ], revive: true)
        }
        let shared = try h.get("/setup/\(l.token)")
        #expect(shared.status == 404)
        #expect(shared.body.contains("Setup link is not found") && shared.body.contains("held by more than one setup link"))
        #expect(!shared.body.contains("globex") && !shared.body.contains("<dd>acme</dd>"), "neither tenant is shown")
        let fresh = try h.service.regenerateLink(id: l.id)
        #expect(try h.get("/setup/\(fresh.token)").status == 200)
        let old = try h.get("/setup/\(l.token)")
        #expect(old.status == 404 && old.body.contains("Setup link is not found"))
    }
}
