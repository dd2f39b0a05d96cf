import Bytes
import Foundation
import Testing

@Suite struct Base64URLTests {
    @Test func isBase64WithTheURLAlphabetAndNoPadding() {
        #expect(Base64URL.encode([]) == "")
        #expect(Base64URL.encode(Array("f".utf8)) == "Zg")
        #expect(Base64URL.encode(Array("fo".utf8)) == "Zm8")
        #expect(Base64URL.encode(Array("foo".utf8)) == "Zm9v")
        #expect(Base64URL.encode([0xfb, 0xff, 0xbf]) == "-_-_")
        for length in 0...64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ length &* 151) }
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == foundation, "\(length) bytes")
        }
    }

    @Test func tokenLengthsAreWhatTheirUsersPromise() {
        #expect(Base64URL.encode([UInt8](repeating: 0xAB, count: 16)).count == 22)
        #expect(Base64URL.encode([UInt8](repeating: 0xAB, count: 32)).count == 43)
    }
}

@Suite struct Base64URLDecodeTests {
    @Test func decodesWhatEncodeMakesAndNothingElse() {
        var rng = SystemRandomNumberGenerator()
        for length in 0...80 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes, "\(length) bytes")
        }
        // Not base64url: another alphabet, padding, a length no encoding has, spaces, non-ASCII.
        for bad in ["a", "ab+c", "ab/c", "Zg==", "Zm9v=", "Zm9vY", "Zm 9v", "Zé9v", "\u{0}"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
        #expect(Base64URL.decode("") == [])
    }
}
