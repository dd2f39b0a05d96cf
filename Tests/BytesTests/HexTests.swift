import Bytes
import Testing

@Suite struct HexTests {
    @Test func encodesLowercaseTwoDigitsPerByte() {
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.encode([0xc3, 0x0a], uppercase: true) == "C30A")
        #expect(Hex.encode(Array(0...255)).count == 512)
    }

    @Test func decodesEitherCaseAndRefusesAnythingElse() {
        #expect(Hex.decode("000fA5Ff") == [0x00, 0x0f, 0xa5, 0xff])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("0g") == nil)
        #expect(Hex.decode("+f") == nil)
        #expect(Hex.decode(" 0f") == nil)
        let all = Array(UInt8.min...UInt8.max)
        #expect(Hex.decode(Hex.encode(all)) == all)
        #expect(Hex.decode(Hex.encode(all, uppercase: true)) == all)
    }

    @Test func digitsAndValuesAreInverse() {
        for v in UInt8(0)..<16 {
            #expect(Hex.value(Hex.digit(v)) == v)
            #expect(Hex.value(Hex.digit(v, uppercase: true)) == v)
        }
        #expect(Hex.value(UInt8(ascii: "g")) == nil)
        #expect(Hex.value(UInt8(ascii: "/")) == nil)
    }

    @Test func writesSixteenBytesAsAUUID() {
        let bytes: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]
        #expect(Hex.uuid(bytes) == "12345678-9abc-4def-8001-020304050607")
    }
}
