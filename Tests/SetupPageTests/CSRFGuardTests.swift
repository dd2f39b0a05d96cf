import Testing
@testable import SetupPage

@Suite struct CSRFGuardTests {
    let guardA = CSRFGuard(secret: Array(repeating: 7, count: 32))

    @Test func aPageTokenVerifiesForItsOwnLinkOnly() {
        let t = guardA.token(forLinkToken: "aa11")
        #expect(t.count == 43)
        #expect(guardA.verify(t, forLinkToken: "aa11"))
        #expect(guardA.verify(t, forLinkToken: "AA11"), "links open whatever the case typed")
        #expect(!guardA.verify(t, forLinkToken: "aa12"), "another page's token")
        #expect(!guardA.verify(nil, forLinkToken: "aa11"))
        #expect(!guardA.verify("", forLinkToken: "aa11"))
        #expect(!guardA.verify(String(t.dropLast()), forLinkToken: "aa11"))
        #expect(!guardA.verify(String(t.dropLast()) + (t.last == "A" ? "B" : "A"), forLinkToken: "aa11"))
    }

    @Test func anotherReplicasSecretGivesAnotherToken() {
        let guardB = CSRFGuard(secret: Array(repeating: 8, count: 32))
        #expect(guardA.token(forLinkToken: "aa11") != guardB.token(forLinkToken: "aa11"))
        #expect(!guardB.verify(guardA.token(forLinkToken: "aa11"), forLinkToken: "aa11"))
    }

    /// HMAC-SHA256 from libcrypto, checked against a value computed independently
    /// (Python: `hmac.new(b"\x07"*32, b"setuplink setup page csrf v1\x00aa11", "sha256")`, base64url).
    @Test func theTokenIsHMACSHA256OfTheLinkToken() {
        #expect(guardA.token(forLinkToken: "aa11") == "p6MFwCnzV6KV8Mq9Y9cJg-8Q1yJl6TqR233Wcc6y2kM")
    }
}
