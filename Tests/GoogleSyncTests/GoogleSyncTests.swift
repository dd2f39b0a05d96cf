import Foundation
import GoogleSync
import HTTP
import Hub
import JSON
import PeerSync
import SetupLinks
import Storage
import Testing
import TestSupport

/// Google Workspace directories against a local fake of Google's OAuth endpoints and
/// Directory API (`FakeGoogle/fake_google.py`), with hubs served in process.
@Suite struct GoogleSyncTests {
    static let ann = FakeGoogle.user("1001", "ann@acme.test", "Ann", "Lee")
    static let bob = FakeGoogle.user("1002", "bob@acme.test", "Bob", "Ray")
    static let cyd = FakeGoogle.user("1003", "cyd@acme.test", "Cyd", "Oh")
    static let dan = FakeGoogle.user("1004", "dan@acme.test", "Dan", "Wu")
    static let eng = FakeGoogle.group("g01", "eng@acme.test", "Engineering")

    /// Authorizes `directory` on `hub` through the page and the fake consent, and waits for the first sync.
    static func authorizeAndFirstSync(_ hub: GoogleHub, _ link: SetupLink, _ d: Directory) throws {
        let answer = try Browser().authorize(hub: hub, link: link, directory: d.id)
        #expect(answer.status == 303)
        #expect(answer.headers["location"] == hub.url + "/setup/" + link.token + "?done=google-authorized&directory=\(d.id)#dir-\(d.id)")
        try #require(try poll(until: { try hub.lastSync(d.id) != nil }, deadline: .seconds(30)), "the first sync ran")
        #expect(try hub.lastSync(d.id)?.ok == true)
    }

    @Test func authorizeSyncChangeSyncAndWebhookEvents() throws {
        let google = try FakeGoogle(), receiver = try Receiver()
        try google.setDirectory(users: [Self.ann, Self.bob, Self.cyd], groups: [Self.eng],
                                members: ["g01": ["ann@acme.test", "bob@acme.test"]])
        let hub = try GoogleHub(google: google.configuration(poll: .seconds(1)))
        let (link, d) = try hub.googleDirectory(webhook: receiver.hookURL)
        let before = try Browser().page(hub.url + "/setup/" + link.token)
        #expect(before.contains("Not authorized yet") && before.contains(">Authorize with Google</a>"))

        try Self.authorizeAndFirstSync(hub, link, d)
        let page = try Browser().page(hub.url + "/setup/" + link.token + "?done=google-authorized&directory=" + d.id)
        #expect(page.contains("Authorized by <strong>admin@acme.test</strong>"))
        #expect(page.contains(">Re-authorize</a>") && page.contains("is authorized with Google"))
        let state = try hub.state(d.id)
        #expect(state.authorizedBy == "admin@acme.test" && state.domain == "acme.test" && state.holder == hub.store.replicaID.hex)
        #expect(Set(try hub.users(d.id).keys) == ["ann@acme.test", "bob@acme.test", "cyd@acme.test"])
        #expect(try hub.groups(d.id) == ["Engineering": ["ann@acme.test", "bob@acme.test"]])
        let ann = try #require(try hub.users(d.id)["ann@acme.test"])
        #expect(ann["externalId"] == .string("1001") && ann["name"]?["givenName"] == .string("Ann") && ann["active"] == .bool(true))

        let first = ["user.created", "user.created", "user.created", "group.created", "group.user_added", "group.user_added"]
        try #require(poll(until: { receiver.names.count >= first.count }, deadline: .seconds(20)))
        #expect(receiver.names == first)
        #expect(receiver.allVerified, "every event is signed with the link's secret")
        #expect(receiver.events()[0].data["email"] == .string("ann@acme.test") && receiver.events()[0].data["first_name"] == .string("Ann"))

        // A sync that finds nothing new writes nothing and sends nothing.
        let digest = try hub.store.digest()
        let quiet = try #require(hub.hub.google).syncNow(d.id)
        #expect(quiet.eventCount == 0 && quiet.googleUsers == 3 && quiet.googleMembers == 2)
        #expect(try hub.store.digest() == digest)

        // In Google: bob removed, cyd suspended, dan added to Engineering, which is renamed Platform.
        try google.setDirectory(users: [Self.ann, FakeGoogle.user("1003", "cyd@acme.test", "Cyd", "Oh", suspended: true), Self.dan],
                                groups: [FakeGoogle.group("g01", "eng@acme.test", "Platform")],
                                members: ["g01": ["ann@acme.test", "dan@acme.test"]])
        // The poller (every second here) picks it up on its own.
        let second = ["group.user_removed", "user.deleted", "user.updated", "user.created", "group.updated", "group.user_added"]
        try #require(poll(until: { receiver.names.count >= first.count + second.count }, deadline: .seconds(30)))
        #expect(Array(receiver.names.dropFirst(first.count)) == second)
        let removed = receiver.events()[first.count + 1]
        #expect(removed.data["email"] == .string("bob@acme.test"))
        #expect(receiver.events()[first.count + 2].data["active"] == .bool(false))
        #expect(receiver.events()[first.count + 4].data["name"] == .string("Platform"))
        #expect(Set(try hub.users(d.id).keys) == ["ann@acme.test", "cyd@acme.test", "dan@acme.test"])
        #expect(try hub.groups(d.id) == ["Platform": ["ann@acme.test", "dan@acme.test"]])
        // bob is a deleted user: a tombstone, not a live record.
        #expect(try hub.store.record(id: removed.data["id"]!.stringValue!)?.isDeleted == true)

        // The refresh token never leaves the hub's local settings: not in a record, not in a log line, not on the page.
        let token = try #require(try hub.store.settings.value("google.refresh-token." + d.id))
        #expect(token.hasPrefix("1//"))
        let record = try #require(try hub.store.record(id: d.id))
        #expect(!record.fields.contains { f in f.register.versions.contains { $0.value.contains("1//") } })
        #expect(!hub.logLines.withLock { $0 }.contains { $0.contains("1//") || $0.contains("ya29.") })
        #expect(!(try Browser().page(hub.url + "/setup/" + link.token)).contains("1//"))
        // Nothing was asked of the Directory API without the access token.
        #expect(!google.requests().contains { $0.status == 401 })
    }

    @Test func pagingAcrossSeveralPages() throws {
        let google = try FakeGoogle(), receiver = try Receiver()
        let users = (1...7).map { FakeGoogle.user("20\($0)", "u\($0)@acme.test", "U\($0)", "Test") }
        let groups = (1...3).map { FakeGoogle.group("p\($0)", "team\($0)@acme.test", "Team \($0)") }
        try google.setDirectory(users: users, groups: groups,
                                members: ["p1": (1...5).map { "u\($0)@acme.test" }, "p2": ["u6@acme.test"]], pageSize: 2)
        let hub = try GoogleHub(google: google.configuration())
        let (link, d) = try hub.googleDirectory(webhook: receiver.hookURL)
        try Self.authorizeAndFirstSync(hub, link, d)
        #expect(try hub.users(d.id).count == 7)
        #expect(try hub.groups(d.id) == ["Team 1": (1...5).map { "u\($0)@acme.test" }, "Team 2": ["u6@acme.test"], "Team 3": []])
        let userPages = google.requests().filter { $0.path == "/admin/directory/v1/users" }
        #expect(userPages.count == 4, "7 users, 2 a page")
        #expect(userPages.dropFirst().allSatisfy { $0.query["pageToken"]?.stringValue?.isEmpty == false })
        #expect(userPages.allSatisfy { $0.query["customer"] == .string("my_customer") })
        #expect(google.requests().filter { $0.path == "/admin/directory/v1/groups" }.count == 2)
        #expect(google.requests().filter { $0.path == "/admin/directory/v1/groups/p1/members" }.count == 3)
        try #require(poll(until: { receiver.names.count >= 7 + 3 + 6 }, deadline: .seconds(20)))
        #expect(receiver.names.filter { $0 == "group.user_added" }.count == 6)
    }

    @Test func rateLimitsAreWaitedOut() throws {
        let google = try FakeGoogle(), receiver = try Receiver()
        try google.setDirectory(users: [Self.ann], groups: [Self.eng], members: ["g01": ["ann@acme.test"]])
        let hub = try GoogleHub(google: google.configuration())
        let (link, d) = try hub.googleDirectory(webhook: receiver.hookURL)
        try Self.authorizeAndFirstSync(hub, link, d)

        // A 429 with Retry-After on users, a 403 rateLimitExceeded (no Retry-After) on groups: both retried.
        try google.setDirectory(users: [Self.ann, Self.bob], groups: [Self.eng], members: ["g01": ["ann@acme.test", "bob@acme.test"]])
        try google.control("""
            {"throttle":[{"prefix":"/admin/directory/v1/users","count":1,"status":429,"retry_after":"1"},
                         {"prefix":"/admin/directory/v1/groups","count":1,"status":403}]}
            """)
        let report = try #require(hub.hub.google).syncNow(d.id)
        #expect(report.events == ["user.created": 1, "group.user_added": 1])
        let statuses = google.requests().filter { $0.path.hasPrefix("/admin/directory/v1/") }.map(\.status)
        #expect(statuses.contains(429) && statuses.contains(403))
        let users = google.requests().filter { $0.path == "/admin/directory/v1/users" }.map(\.status)
        #expect(users.suffix(2) == [429, 200], "the throttled page was asked again and answered")

        // Throttled for longer than the retries: the sync fails, writes nothing, and the next one catches up.
        try google.setDirectory(users: [Self.ann, Self.bob, Self.cyd], groups: [Self.eng], members: ["g01": ["ann@acme.test"]])
        try google.control("""
            {"throttle":[{"prefix":"/admin/directory/v1/users","count":100,"status":429}]}
            """)
        let digest = try hub.store.digest()
        #expect(throws: GoogleSyncError.google(.rateLimited(attempts: 4))) { try hub.hub.google!.syncNow(d.id) }
        #expect(try hub.store.digest() == digest)
        #expect(try hub.lastSync(d.id)?.ok == false)
        #expect(try hub.state(d.id).needsReauthorization == false)
        try google.control("{\"throttle\":[]}")
        #expect(try hub.hub.google!.syncNow(d.id).events == ["user.created": 1, "group.user_removed": 1])
    }

    @Test func aRevokedAuthorizationNeedsReauthorizationAndEmitsNothing() throws {
        let google = try FakeGoogle(), receiver = try Receiver()
        try google.setDirectory(users: [Self.ann])
        let hub = try GoogleHub(google: google.configuration())
        let (link, d) = try hub.googleDirectory(webhook: receiver.hookURL)
        try Self.authorizeAndFirstSync(hub, link, d)
        try #require(poll(until: { receiver.names == ["user.created"] }, deadline: .seconds(20)))

        // Revoked on Google's side (the admin removed the app's access), and a change meanwhile.
        try google.control("{\"revoked\":true}")
        try google.setDirectory(users: [Self.ann, Self.bob])
        let outbox = try hub.store.outbox.counts(directory: d.id)
        let digestBefore = try hub.store.digest()
        #expect(throws: GoogleSyncError.self) { try hub.hub.google!.syncNow(d.id) }
        let state = try hub.state(d.id)
        #expect(state.needsReauthorization && state.authorizedBy == "admin@acme.test")
        #expect(try hub.store.digest() != digestBefore, "the directory record says so (replicated)")
        #expect(try hub.store.outbox.counts(directory: d.id) == outbox, "no event")
        #expect(try hub.users(d.id).keys.sorted() == ["ann@acme.test"])
        #expect(try GoogleCredentials.holds(hub.store, d.id) == false, "the useless token is forgotten")
        let page = try Browser().page(hub.url + "/setup/" + link.token)
        #expect(page.contains("Needs re-authorization") && page.contains("given by admin@acme.test"))
        let show = try runChild(setuplinkBinary(), ["--db", hub.path, "directory", "show", d.id])
        #expect(show.stdout.contains("needs re-authorization"), "\(show.stdout) \(show.stderr)")
        let shown = try runChild(setuplinkBinary(), ["--db", hub.path, "--json", "directory", "show", d.id])
        #expect(shown.stdout.contains("\"google_status\":\"needs-reauthorization\""))
        #expect(receiver.names == ["user.created"])

        // Authorizing again brings the directory back, and the change arrives.
        try google.control("{\"revoked\":false}")
        let again = try Browser().authorize(hub: hub, link: link, directory: d.id)
        #expect(again.status == 303)
        try #require(try poll(until: { try hub.users(d.id).count == 2 }, deadline: .seconds(30)))
        #expect(try hub.state(d.id).needsReauthorization == false)
        try #require(poll(until: { receiver.names == ["user.created", "user.created"] }, deadline: .seconds(20)))
    }

    @Test func aSecondHubSyncsTheRecordsButSendsNoEventsAndDoesNotPoll() throws {
        let google = try FakeGoogle(), receiver = try Receiver()
        try google.setDirectory(users: [Self.ann, Self.bob], groups: [Self.eng], members: ["g01": ["ann@acme.test"]])
        let hub = try GoogleHub(google: google.configuration())
        let (link, d) = try hub.googleDirectory(webhook: receiver.hookURL)
        try Self.authorizeAndFirstSync(hub, link, d)
        try #require(poll(until: { receiver.names.count == 4 }, deadline: .seconds(20)))

        // A second hub, configured for Google too, polling every second.
        let second = try GoogleHub(google: google.configuration(poll: .seconds(1)))
        _ = try SyncClient().sync(store: second.store, url: hub.url, token: "peer-token-for-tests")
        #expect(Set(try second.users(d.id).keys) == ["ann@acme.test", "bob@acme.test"])
        #expect(try second.groups(d.id) == ["Engineering": ["ann@acme.test"]])
        #expect(try second.state(d.id).holder == hub.store.replicaID.hex)
        let page = try Browser().page(second.url + "/setup/" + link.token)
        #expect(page.contains("Authorized by <strong>admin@acme.test</strong>"))
        #expect(throws: GoogleSyncError.self) { try second.hub.google!.syncNow(d.id) }

        // A change in Google, synced by the first hub, reaches the second as records only.
        try google.setDirectory(users: [Self.ann, Self.bob, Self.cyd], groups: [Self.eng], members: ["g01": ["ann@acme.test"]])
        try hub.hub.google!.syncNow(d.id)
        _ = try SyncClient().sync(store: second.store, url: hub.url, token: "peer-token-for-tests")
        #expect(try second.users(d.id).count == 3)
        try #require(poll(until: { receiver.names.count == 5 }, deadline: .seconds(20)))
        // Give the second hub's poller and sender a few rounds: they send and ask nothing.
        Thread.sleep(forTimeInterval: 2.5)
        #expect(second.hub.google!.requestCount.load(ordering: .relaxed) == 0)
        #expect(try second.store.outbox.counts(directory: d.id) == OutboxCounts())
        #expect(receiver.names.count == 5)
    }

    @Test func refusedAuthorizationsAreClearPagesAndChangeNothing() throws {
        let google = try FakeGoogle(), receiver = try Receiver()
        try google.setDirectory(users: [Self.ann])
        let hub = try GoogleHub(google: google.configuration())
        let (link, d) = try hub.googleDirectory(webhook: receiver.hookURL)
        let browser = Browser()
        let digest = try hub.store.digest()

        // Unknown or reused state.
        let unknown = try browser.get(hub.url + GoogleConfiguration.callbackPath + "?state=made-up&code=4/abc")
        #expect(unknown.status == 400 && String(decoding: unknown.body, as: UTF8.self).contains("This authorization has expired"))
        #expect(try browser.get(hub.url + GoogleConfiguration.callbackPath).status == 400)
        #expect(try browser.get(hub.url + GoogleConfiguration.callbackPath + "?state=&error=access_denied").status == 400)

        // Denied on the consent screen.
        try google.control("{\"deny\":true}")
        let denied = try browser.authorize(hub: hub, link: link, directory: d.id)
        #expect(denied.status == 400 && String(decoding: denied.body, as: UTF8.self).contains("Google authorization was denied"))

        // A consent started by one browser (an attacker's, on their own setup page) and finished
        // by another (the victim administrator's, sent the consent URL): refused, nothing stored.
        try google.control("{\"deny\":false}")
        let started = try browser.get(hub.url + "/setup/" + link.token + "?google=authorize&directory=" + d.id)
        #expect(started.headers["set-cookie"]?.contains("HttpOnly; SameSite=Lax") == true)
        let sentToVictim = try #require(started.headers["location"])
        let atGoogle = try browser.get(sentToVictim)
        let victims = try browser.get(try #require(atGoogle.headers["location"]))  // no cookie
        #expect(victims.status == 403 && String(decoding: victims.body, as: UTF8.self).contains("started in another browser"),
                "\(String(decoding: victims.body, as: UTF8.self))")
        #expect(try hub.store.digest() == digest)
        #expect(try GoogleCredentials.holds(hub.store, d.id) == false)

        // A personal account (no hosted domain).
        try google.control("{\"deny\":false,\"account\":{\"email\":\"someone@gmail.com\"}}")
        let personal = try browser.authorize(hub: hub, link: link, directory: d.id)
        #expect(personal.status == 403 && String(decoding: personal.body, as: UTF8.self).contains("Not a Google Workspace account"))
        #expect(try hub.store.digest() == digest)
        #expect(try GoogleCredentials.holds(hub.store, d.id) == false)

        // A used callback cannot be replayed; another domain cannot take over an authorized directory.
        try google.control("{\"account\":{\"email\":\"admin@acme.test\",\"hd\":\"acme.test\"}}")
        try Self.authorizeAndFirstSync(hub, link, d)
        try google.control("{\"account\":{\"email\":\"boss@globex.test\",\"hd\":\"globex.test\"}}")
        let wrong = try browser.authorize(hub: hub, link: link, directory: d.id)
        #expect(wrong.status == 403 && String(decoding: wrong.body, as: UTF8.self).contains("Wrong Google Workspace domain"))
        #expect(try hub.state(d.id).authorizedBy == "admin@acme.test")

        // Not a Google directory, not on this page, inactive.
        let okta = try hub.service.open(link.token).createDirectory(type: .okta)
        #expect(try browser.get(hub.url + "/setup/" + link.token + "?google=authorize&directory=" + okta.id).status == 404)
        _ = try hub.service.open(link.token).setDeactivated(true, id: d.id)
        let inactive = try browser.get(hub.url + "/setup/" + link.token + "?google=authorize&directory=" + d.id)
        #expect(inactive.status == 409 && String(decoding: inactive.body, as: UTF8.self).contains("is inactive"))
        #expect(throws: GoogleSyncError.self) { try hub.hub.google!.syncNow(d.id) }
        // The callback answers GET only.
        #expect(try HTTPClient().send(method: "POST", url: hub.url + GoogleConfiguration.callbackPath, body: []).status == 405)
        // Reloading "Authorize" keeps at most a few consents of one directory waiting: many
        // reloads on one tenant's page do not stop another tenant's authorization.
        for _ in 0..<40 { _ = try browser.get(hub.url + "/setup/" + link.token + "?google=authorize&directory=" + d.id) }
        #expect(hub.hub.google!.waitingConsents <= 5)
        _ = try hub.service.open(link.token).setDeactivated(false, id: d.id)
        let (otherLink, other) = try hub.googleDirectory(webhook: receiver.hookURL, tenant: "globex")
        #expect(try browser.get(hub.url + "/setup/" + otherLink.token + "?google=authorize&directory=" + other.id).status == 303)
    }

    @Test func withoutGoogleConfiguredGoogleIsNotOffered() throws {
        let hub = try GoogleHub(google: nil)
        let (link, _) = try hub.service.createLink(tenant: "acme", product: "crm", webhookURL: "https://hooks.example.test/x",
                                                   webhookSecret: "s")
        let page = try Browser().page(hub.url + "/setup/" + link.token)
        #expect(!page.contains("value=\"google\""))
        #expect(page.contains("Google Workspace is not offered here"))
        #expect(try Browser().get(hub.url + GoogleConfiguration.callbackPath).status == 404)
        let providers = try runChild(setuplinkBinary(), ["--db", hub.path, "providers"])
        #expect(!providers.lines.contains { $0.hasPrefix("google") && $0.contains("Google") && !$0.contains("not offered") })
        #expect(providers.stdout.contains("okta-scim-v2") && providers.stdout.contains("google (Google Workspace) is not offered here"))
        let json = try runChild(setuplinkBinary(), ["--db", hub.path, "--json", "providers"])
        #expect(!json.stdout.contains("\"id\":\"google\""))
    }
}
