import Bytes
import Testing

@Suite struct UTF8ValidationTests {
    /// What the standard library says, for comparison.
    static func stdlib(_ bytes: [UInt8]) -> Bool { String(validating: bytes, as: UTF8.self) != nil }

    static func check(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { UTF8Validation.isValid($0) } }

    @Test func agreesWithTheStandardLibraryOnEveryOneAndTwoByteInput() {
        for a in UInt8.min...UInt8.max {
            #expect(Self.check([a]) == Self.stdlib([a]))
            for b in UInt8.min...UInt8.max where Self.check([a, b]) != Self.stdlib([a, b]) {
                Issue.record("disagree on \([a, b])")
            }
        }
    }

    @Test func agreesOnThreeAndFourByteSequencesAtTheirBoundaries() {
        let edges: [UInt8] = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
        for lead in UInt8(0xE0)...UInt8(0xFF) {
            for second in UInt8.min...UInt8.max {
                for third in edges {
                    let three = [lead, second, third]
                    if Self.check(three) != Self.stdlib(three) { Issue.record("disagree on \(three)") }
                    for fourth in edges {
                        let four = [lead, second, third, fourth]
                        if Self.check(four) != Self.stdlib(four) { Issue.record("disagree on \(four)") }
                    }
                }
            }
        }
    }

    @Test func longASCIIRunsAndAFaultAfterThem() {
        let ascii = [UInt8](repeating: 0x61, count: 37)
        #expect(Self.check(ascii))
        #expect(Self.check(ascii + Array("é€😀".utf8) + ascii))
        #expect(!Self.check(ascii + [0xED, 0xA0, 0x80]))   // a surrogate
        #expect(!Self.check(ascii + [0xC0, 0xAF]))          // an overlong '/'
        #expect(!Self.check(ascii + [0xF4, 0x90, 0x80, 0x80]))   // above U+10FFFF
        #expect(!Self.check(ascii + [0xE2, 0x82]))          // truncated
    }

    @Test func namesWhatIsWrongWithASequence() {
        func sequence(_ bytes: [UInt8]) -> UTF8Validation.Sequence {
            bytes.withUnsafeBytes { UTF8Validation.sequence($0.baseAddress!, at: 0, end: $0.count) }
        }
        #expect(sequence([0xE2, 0x82, 0xAC]) == .valid(length: 3))
        #expect(sequence([0x80]) == .invalidLead)
        #expect(sequence([0xE2, 0x82]) == .truncated)
        #expect(sequence([0xE0, 0x80, 0x80]) == .invalid)
    }
}
