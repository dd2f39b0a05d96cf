import Foundation
import TestSupport
import Testing
import Replica
import Storage
@testable import SetupLinks

/// A service on a fresh replica, with a clock the test can move.
final class Fixture: @unchecked Sendable {
    let store: ReplicaStore
    let service: SetupLinkService
    var clock = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        let dir = testFolderPath("links")
        store = try ReplicaStore(path: dir + "/r.sqlite")
        service = try SetupLinkService(store: store, externalURL: "https://sso.example.com/")
        service.now = { [unowned self] in self.clock }
    }

    func link(_ tenant: String = "acme", _ product: String = "crm", regenerate: Bool = false, days: Int? = nil) throws -> (SetupLink, SetupLinkService.CreateOutcome) {
        try service.createLink(tenant: tenant, product: product, webhookURL: "https://hooks.example.com/x",
                               webhookSecret: "s3cret", expiryDays: days, regenerate: regenerate)
    }
}

@Suite struct SetupLinkServiceTests {
    @Test func createIsOnePerTenantAndProduct() throws {
        let f = try Fixture()
        let (a, o1) = try f.link()
        #expect(o1 == .created)
        #expect(a.token.count == 48 && a.token.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(a.url(externalURL: f.service.externalURL) == "https://sso.example.com/setup/\(a.token)")
        #expect(a.id == SetupLinkService.linkID(tenant: "acme", product: "crm"))
        #expect(a.validTill == f.clock.addingTimeInterval(3 * 86_400))
        let (b, o2) = try f.link()
        #expect(o2 == .existing && b == a)
        let (c, o3) = try f.link(regenerate: true)
        #expect(o3 == .regenerated && c.id == a.id && c.token != a.token)
        #expect(try f.service.links().count == 1)
    }

    @Test func anExpiredLinkIsRegeneratedOnCreate() throws {
        let f = try Fixture()
        let (a, _) = try f.link(days: 1)
        f.clock = f.clock.addingTimeInterval(2 * 86_400)
        #expect(try f.service.link(id: a.id).status(now: f.clock) == "expired")
        #expect(throws: SetupLinkError.setupLinkExpired) { try f.service.open(a.token) }
        let (b, o) = try f.link(days: 1)
        #expect(o == .regenerated && b.token != a.token && b.status(now: f.clock) == "active")
    }

    @Test func regenerateKillsTheOldTokenAtOnce() throws {
        let f = try Fixture()
        let (a, _) = try f.link()
        let page = try f.service.open(a.url(externalURL: f.service.externalURL))
        let b = try f.service.regenerateLink(id: a.id)
        #expect(b.token != a.token)
        #expect(throws: SetupLinkError.setupLinkNotFound) { try f.service.open(a.token) }
        #expect(throws: SetupLinkError.setupLinkNotFound) { try page.directories() }
        #expect(try f.service.open(b.token).link.id == a.id)
    }

    @Test func deleteKillsTheTokenButKeepsDirectories() throws {
        let f = try Fixture()
        let (a, _) = try f.link()
        let d = try f.service.open(a.token).createDirectory()
        try f.service.deleteLink(id: a.id)
        #expect(throws: SetupLinkError.setupLinkNotFound) { try f.service.open(a.token) }
        #expect(throws: SetupLinkError.unknownLink(a.id)) { try f.service.link(id: a.id) }
        #expect(try f.service.directory(id: d.id).id == d.id)
        // Creating again after the delete brings the link back with a new token.
        let (b, o) = try f.link()
        #expect(o == .created && b.token != a.token)
    }

    @Test func directoriesFollowTheSpec() throws {
        let f = try Fixture()
        let (a, _) = try f.link()
        let page = try f.service.open(a.token)
        let d = try page.createDirectory()
        #expect(d.type == .azure && !d.deactivated)
        #expect(d.name == "scim-acme-crm")
        #expect(d.scimPath == "/api/scim/v2.0/\(d.id)")
        #expect(d.scimEndpoint(externalURL: f.service.externalURL) == "https://sso.example.com/api/scim/v2.0/\(d.id)/?aadOptscim062020")
        #expect(d.scimToken.count == 22 && !d.scimToken.contains("="))
        #expect(UUID(uuidString: d.id) != nil)
        let okta = try page.createDirectory(type: .okta)
        #expect(okta.scimEndpoint(externalURL: "http://h") == "http://h/api/scim/v2.0/\(okta.id)")
        let g = try page.createDirectory(type: .google)
        #expect(g.scimPath.isEmpty && g.scimToken.isEmpty && g.scimEndpoint(externalURL: "http://h").isEmpty)
        #expect(d.webhookURL == a.webhookURL && d.webhookSecret == a.webhookSecret)
        try page.setDeactivated(true, id: d.id)
        #expect(try page.directory(id: d.id).deactivated)
        try page.setDeactivated(false, id: d.id)
        #expect(try !page.directory(id: d.id).deactivated)
        try page.deleteDirectory(id: d.id)
        #expect(try page.directories().map(\.id).sorted() == [okta.id, g.id].sorted())
    }

    @Test func aTenantSeesOnlyItsOwnDirectories() throws {
        let f = try Fixture()
        let (a, _) = try f.link("acme", "crm")
        let (b, _) = try f.link("globex", "crm")
        let other = try f.service.open(b.token).createDirectory()
        let page = try f.service.open(a.token)
        #expect(try page.directories().isEmpty)
        #expect(throws: SetupLinkError.unknownDirectory(other.id)) { try page.directory(id: other.id) }
        #expect(throws: SetupLinkError.unknownDirectory(other.id)) { try page.deleteDirectory(id: other.id) }
        #expect(throws: SetupLinkError.unknownDirectory(other.id)) { try page.setDeactivated(true, id: other.id) }
        #expect(try !f.service.directory(id: other.id).deactivated)
    }

    @Test func badInputIsRefusedAndChangesNothing() throws {
        let f = try Fixture()
        let before = try f.store.digest()
        let cases: [(String, String, String, String, String)] = [
            ("", "crm", "https://h/x", "s", "tenant must not be empty"),
            ("a:b", "crm", "https://h/x", "s", "must not contain ':'"),
            ("a\u{7}b", "crm", "https://h/x", "s", "control characters"),
            (String(repeating: "x", count: 257), "crm", "https://h/x", "s", "at most 256"),
            ("acme", "crm", "ftp://h/x", "s", "not an absolute http(s) URL"),
            ("acme", "crm", "/relative", "s", "not an absolute http(s) URL"),
            ("acme", "crm", "https://h/x", "", "webhook secret must not be empty"),
        ]
        for (t, p, u, s, message) in cases {
            #expect { try f.service.createLink(tenant: t, product: p, webhookURL: u, webhookSecret: s) } throws: {
                "\($0)".contains(message)
            }
        }
        #expect { try f.link(days: 0) } throws: { "\($0)".contains("not a positive whole number") }
        #expect(try f.store.digest() == before)
        #expect(throws: SetupLinkError.setupLinkNotFound) { try f.service.open("https://x/setup/deadbeef") }
        #expect("\(SetupLinkError.setupLinkNotFound)" == "Setup link is not found. Please contact your administrator to get a new setup link.")
    }

    @Test func tokensAreRandomAndWellFormed() {
        let tokens = Set((0..<200).map { _ in Secrets.linkToken() })
        #expect(tokens.count == 200)
        let scim = Set((0..<200).map { _ in Secrets.scimToken() })
        #expect(scim.count == 200 && scim.allSatisfy { $0.count == 22 && !$0.contains("+") && !$0.contains("/") })
        #expect(SetupLinkService.token(fromURLOrToken: "http://localhost:8080/setup/abc/") == "abc")
        #expect(SetupLinkService.token(fromURLOrToken: "abc") == "abc")
    }
}
