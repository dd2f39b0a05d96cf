import Crypto
import Testing

/// Secret comparison for bearer tokens and CSRF tokens.
@Suite struct ConstantTimeTests {
    @Test func equalsComparesContentAndLength() {
        #expect(constantTimeEquals(Array("secret".utf8), Array("secret".utf8)))
        #expect(!constantTimeEquals(Array("secret".utf8), Array("secreT".utf8)))
        #expect(!constantTimeEquals(Array("secret".utf8), Array("secret2".utf8)))
        #expect(!constantTimeEquals(Array("secret2".utf8), Array("secret".utf8)))
        #expect(!constantTimeEquals([], [0]))
        #expect(!constantTimeEquals([0], []))
        #expect(constantTimeEquals([], []))
    }
}
