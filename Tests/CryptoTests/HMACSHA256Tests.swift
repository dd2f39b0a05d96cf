import Bytes
import Crypto
import Testing

@Suite struct HMACSHA256Tests {
    /// RFC 4231, test cases 1 and 2.
    @Test func matchesTheRFC4231Vectors() {
        #expect(Hex.encode(HMACSHA256.mac(key: [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Hex.encode(HMACSHA256.mac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func twoPartsAuthenticateTheirConcatenation() {
        let key = Array("k".utf8)
        let whole = HMACSHA256.mac(key: key, Array("1700000000000.{\"a\":1}".utf8))
        #expect(HMACSHA256.mac(key: key, Array("1700000000000.".utf8), Array("{\"a\":1}".utf8)) == whole)
        #expect(HMACSHA256.mac(key: [], [], []).count == 32)
    }
}
