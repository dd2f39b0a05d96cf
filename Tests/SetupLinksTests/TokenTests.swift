import Foundation
import Testing
import Replica
import Storage
@testable import SetupLinks

/// A token opens at most one live link, whatever peers sent (Contract.md §2): a regenerate or
/// delete kills every copy of the old token, and two live links that share a token are
/// both refused until one is regenerated.
@Suite struct TokenTests {
    /// Writes, as a peer's page would leave it, a link of `tenant`/`product` holding `token`.
    static func arrived(_ f: Fixture, _ tenant: String, _ product: String, token: String) throws {
        try f.store.write { tx in
            _ = try tx.write(id: SetupLinkService.linkID(tenant: tenant, product: product), kind: .link, [
                "tenant": tenant, "product": product, "token": token, "webhook_url": "https://hooks.example.com/y",
                "webhook_secret": "s", "valid_till": "2099-01-01T00:00:00Z", "expiry_days": "3", "service": "dsync", "name": "",
            ], revive: true)
        }
    }

    @Test func twoLiveLinksThatShareATokenAreBothRefusedUntilRegenerated() throws {
        let f = try Fixture()
        let (a, _) = try f.link()
        _ = try f.service.open(a.token)
        try Self.arrived(f, "globex", "crm", token: a.token)
        for t in [a.token, a.token.uppercased(), "https://sso.example.com/setup/\(a.token)"] {
            #expect(throws: SetupLinkError.sharedToken(2)) { try f.service.open(t) }
        }
        #expect(SetupLinkError.sharedToken(2).description.contains("held by 2 setup links"))
        // The admin regenerates one: its new token works; the old one opens neither (it was retired).
        let fresh = try f.service.regenerateLink(id: a.id)
        #expect(try f.service.open(fresh.token).link.id == a.id)
        #expect(throws: SetupLinkError.setupLinkNotFound) { try f.service.open(a.token) }
        let other = try f.service.link(id: SetupLinkService.linkID(tenant: "globex", product: "crm"))
        #expect(other.token == a.token, "the copy still holds it, and it opens nothing")
        let otherFresh = try f.service.regenerateLink(id: other.id)
        #expect(try f.service.open(otherFresh.token).link.tenant == "globex")
    }

    @Test func aRegeneratedOrDeletedTokenStaysDeadWhateverArrivesLater() throws {
        let f = try Fixture()
        let (a, _) = try f.link()
        let page = try f.service.open(a.token)
        _ = try f.service.regenerateLink(id: a.id)
        #expect(throws: SetupLinkError.setupLinkNotFound) { try f.service.open(a.token) }
        #expect(throws: SetupLinkError.setupLinkNotFound) { try page.directories() }
        // A peer that still held the link with the old token sends it later: still dead.
        try Self.arrived(f, "initech", "crm", token: a.token)
        #expect(throws: SetupLinkError.setupLinkNotFound) { try f.service.open(a.token) }
        // Delete: the token dies with the link, and stays dead in any copy.
        let (b, _) = try f.link("umbrella", "hr")
        try f.service.deleteLink(id: b.id)
        try Self.arrived(f, "umbrella", "hr", token: b.token)
        #expect(throws: SetupLinkError.setupLinkNotFound) { try f.service.open(b.token) }
        // The retired tokens are records of their own, replicated like the rest.
        #expect(try f.store.record(id: RetiredToken.id(a.token))?.kind == .retiredToken)
        #expect(try f.store.record(id: RetiredToken.id(b.token)) != nil)
        #expect(try f.store.record(id: RetiredToken.id(a.token))?.fields.contains { $0.register.value == a.token } == false,
                "the token itself is not stored")
    }
}
