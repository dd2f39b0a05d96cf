import Crypto
import Testing

@Suite struct SecureRandomTests {
    @Test func givesTheBytesAskedForAndNeverTheSameTwice() {
        #expect(SecureRandom.bytes(0).isEmpty)
        let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
        #expect(a.count == 32 && b.count == 32)
        #expect(a != b)
    }
}
