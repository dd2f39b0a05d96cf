import Crypto
import Testing

@Suite struct SHA256HasherTests {
    /// FIPS 180-2 examples.
    @Test func matchesTheKnownDigests() {
        #expect(SHA256Hasher.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hasher.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func feedingInPiecesIsFeedingTheWhole() {
        var h = SHA256Hasher()
        h.update(Array("a".utf8))
        h.update(Array("bc".utf8))
        #expect(h.finalizeHex() == SHA256Hasher.hex(of: "abc"))
    }
}
