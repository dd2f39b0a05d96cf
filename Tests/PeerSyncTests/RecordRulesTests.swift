import Foundation
import HTTP
import TestSupport
import Replica
import SetupLinks
import Storage
import Testing
@testable import PeerSync

/// The meaning of a record is checked on merge, not only its clocks (Contract.md §1, §2): a
/// peer's record whose id, tenant, token, URL or type breaks the rules is refused with
/// 422 naming the field, in both directions and both encodings, and nothing changes.
@Suite struct RecordRulesTests {
    static let attacker = ReplicaID(high: 0xBAD, low: 0xBAD)

    /// A record of `kind` written by the attacker at `counter`.
    static func forged(_ id: String, _ kind: RecordKind, _ values: [String: String], counter: UInt64 = 1) -> Record {
        var r = Record(id: id, kind: kind)
        r.write(values, dot: Dot(replica: attacker, counter: counter), hlc: HLC(rawValue: HLC.wallMilliseconds() << 16))
        return r
    }

    /// A link of `tenant`/`product` as the flows write it, with `changes` applied.
    static func link(_ tenant: String, _ product: String, _ changes: [String: String] = [:], id: String? = nil) -> Record {
        var values = [
            "tenant": tenant, "product": product, "token": String(repeating: "ab", count: 24),
            "webhook_url": "https://hooks.example.com/x", "webhook_secret": "s3cret",
            "valid_till": "2030-01-01T00:00:00Z", "expiry_days": "3", "service": "dsync", "name": "",
        ]
        for (k, v) in changes { values[k] = v }
        return forged(id ?? SetupLinkService.linkID(tenant: tenant, product: product), .link, values)
    }

    /// Records that break a rule, and the words the refusal must contain.
    static let bad: [(Record, String)] = [
        (forged("m\u{0}1", .membership, ["present": "1"]), "page.records[0].id: a record id must not contain control characters"),
        (forged("m\u{7f}", .membership, ["present": "1"]), "page.records[0].id: a record id must not contain control characters"),
        (link("\u{7f}z3", "crm"), "page.records[0].fields.tenant: must be 1 to 256 characters"),
        (link("acme", "crm", id: "0123456789abcdef0123456789abcdef"), "page.records[0].id: is not the id its tenant and product derive"),
        (link("acme", "crm", ["token": "tok"]), "page.records[0].fields.token: must be 48 lowercase hex digits"),
        (link("acme", "crm", ["webhook_url": "javascript:alert(1)"]), "page.records[0].fields.webhook_url"),
        (forged("not-a-uuid", .directory, ["tenant": "acme", "product": "crm", "type": "okta-scim-v2"]), "page.records[0].id: must be a lowercase UUID"),
        (forged("0b8e3a4c-1f2d-4c5e-8a9b-0c1d2e3f4a5b", .directory, ["tenant": "acme", "product": "crm", "name": "d", "type": "evil"]),
         "page.records[0].fields.type: must be one of"),
        (forged("zz", .replica, ["intro.x": "1"]), "page.records[0].id: must be 32 lowercase hex digits"),
        (forged("0b8e3a4c-1f2d-4c5e-8a9b-0c1d2e3f4a5b", .directory, ["tenant": "acme", "product": "crm", "name": "d", "type": "google",
                                                                   "google_status": "owned"]),
         "page.records[0].fields.google_status: must be authorized or reauthorize"),
        (forged("0b8e3a4c-1f2d-4c5e-8a9b-0c1d2e3f4a5b", .directory, ["tenant": "acme", "product": "crm", "name": "d", "type": "google",
                                                                   "google_holder": "me"]),
         "page.records[0].fields.google_holder: must be a replica id"),
    ]

    static func hub() throws -> ServedReplica {
        try ServedReplica(try SetupLinkService.openStore(path: testFolder("rules") + "/hub.sqlite"))
    }

    @Test(arguments: PageEncoding.allCases)
    func aPushWithARecordThatBreaksTheRulesGets422NamingTheField(encoding: PageEncoding) throws {
        let served = try Self.hub()
        for (record, message) in Self.bad {
            let before = try served.store.digest()
            let page = ChangePage(records: [record], coverage: VectorClock([(Self.attacker, UInt64(1))]), more: false, base: VectorClock())
            let m = PageMessage(sender: Self.attacker, clock: page.coverage, purgeFloor: nil, page: page)
            let body = encoding == .binary ? BinaryPage.encode(m) : try WireFormat.encode(m)
            let r = try HTTPClient().send(method: "POST", url: served.url + "/sync/v1/push",
                                          headers: ["Authorization": "Bearer \(testToken)", "Content-Type": encoding.mediaType], body: body)
            #expect(r.status == 422, "\(record.id): \(r.status)")
            let text = String(decoding: r.body, as: UTF8.self)
            #expect(text.contains(message), "\(text)")
            #expect(try served.store.digest() == before, "nothing was stored")
            #expect(try served.store.record(id: record.id) == nil)
        }
        // A real sync works afterwards.
        let laptop = try SetupLinkService.openStore(path: testFolder("rules") + "/laptop.sqlite")
        _ = try SetupLinkService(store: laptop).createLink(tenant: "acme", product: "crm", webhookURL: "https://h.example.com", webhookSecret: "s")
        try sync(laptop, with: served)
        #expect(try laptop.digest() == served.store.digest())
    }

    @Test func aPullAnswerWithARecordThatBreaksTheRulesIsRefusedAndNothingStored() throws {
        let laptop = try SetupLinkService.openStore(path: testFolder("rules") + "/laptop.sqlite")
        for (record, message) in Self.bad.prefix(5) {
            let page = ChangePage(records: [record], coverage: VectorClock([(Self.attacker, UInt64(1))]), more: false, base: VectorClock())
            let answer = try ClientAttackTests.answer(page, .binary,
                                                     clock: VectorClock([(ClientAttackTests.peer, UInt64(1)), (Self.attacker, UInt64(1))]))
            let fake = try ClientAttackTests.fake { answer }
            let before = try laptop.digest()
            do {
                _ = try SyncClient().sync(store: laptop, url: fake.url, token: testToken)
                Issue.record("a record that breaks the rules was accepted: \(record.id)")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
                #expect(!error.description.contains("\n"))
            }
            #expect(try laptop.digest() == before)
        }
    }

    @Test func recordsTheFlowsWriteFollowTheRules() throws {
        // Every record the flows write on one replica is accepted by another that checks them.
        let a = try SetupLinkService.openStore(path: testFolder("rules") + "/a.sqlite")
        let service = try SetupLinkService(store: a)
        let (l, _) = try service.createLink(tenant: "Acme Inc.", product: "CRM", webhookURL: "https://hooks.example.com/acme",
                                            webhookSecret: "secret", name: "Acme's CRM")
        _ = try service.open(l.token).createDirectory(type: .okta, name: "Okta")
        _ = try service.open(l.token).createDirectory(type: .google)
        _ = try service.regenerateLink(id: l.id)
        let b = try ServedReplica(try SetupLinkService.openStore(path: testFolder("rules") + "/b.sqlite"))
        try sync(a, with: b)
        #expect(try a.digest() == b.store.digest())
    }
}
