import Dates
import Foundation
import Testing

@Suite struct DateTimeTests {
    @Test func parsesStrictly() {
        #expect(DateTime.milliseconds("1970-01-01T00:00:00Z") == 0)
        #expect(DateTime.milliseconds("2000-02-29T12:00:00.5+01:00") == 951_822_000_500)
        #expect(DateTime.milliseconds("2026-12-02t19:44:05z") == 1_796_240_645_000)
        #expect(DateTime.milliseconds("2001-02-29T00:00:00Z") == nil)
        #expect(DateTime.milliseconds("2024-13-01T00:00:00Z") == nil)
        #expect(DateTime.milliseconds("2024-01-01 00:00:00Z") == nil)
        #expect(DateTime.milliseconds("2024-01-01T00:00:00") == nil)
        #expect(DateTime.milliseconds("2024-01-01T24:00:00Z") == nil)
        #expect(DateTime.milliseconds("0000-01-01T00:00:00Z") == nil)
        #expect(DateTime.milliseconds(" 2024-01-01T00:00:00Z") == nil)
        #expect(DateTime.milliseconds("2024-01-01T00:00:00.123456789Z") == 1_704_067_200_123)
    }

    @Test func writesEachStyle() {
        #expect(DateTime.format(milliseconds: 951_822_000_500) == "2000-02-29T11:00:00.500Z")
        #expect(DateTime.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(DateTime.format(milliseconds: 1_796_240_645_999, .seconds) == "2026-12-02T19:44:05Z")
        #expect(DateTime.format(milliseconds: 1_796_240_645_999, .display) == "2026-12-02 19:44 UTC")
        #expect(DateTime.format(milliseconds: -1, .seconds) == "1969-12-31T23:59:59Z")
        // Beyond four digits of year (an HLC can reach them): the year grows, the rest keeps its width.
        #expect(DateTime.format(milliseconds: 253_402_300_800_007) == "10000-01-01T00:00:00.007Z")
        for ms: Int64 in [0, 1, 86_399_999, 1_704_067_200_123, 253_402_300_799_999] {
            #expect(DateTime.milliseconds(DateTime.format(milliseconds: ms)) == ms)
        }
    }

    /// Dates round down to the second (and to the millisecond), never up into the next one.
    @Test func datesRoundDown() {
        let d = Date(timeIntervalSince1970: 1_796_240_645.9996)
        #expect(DateTime.format(d, .seconds) == "2026-12-02T19:44:05Z")
        #expect(DateTime.format(d, .milliseconds) == "2026-12-02T19:44:05.999Z")
        #expect(DateTime.format(Date(timeIntervalSince1970: -0.5), .seconds) == "1969-12-31T23:59:59Z")
        #expect(DateTime.date("2026-12-02T19:44:05Z") == Date(timeIntervalSince1970: 1_796_240_645))
    }

    /// What records, JSON output and pages used to get from Foundation's formatters, for the dates they hold.
    @Test func writesWhatFoundationWrote() {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        for t in stride(from: 0.0, to: 4_102_444_800, by: 7_919_999.731) {
            let d = Date(timeIntervalSince1970: t)
            #expect(DateTime.format(d, .seconds) == iso.string(from: d))
            #expect(DateTime.date(iso.string(from: d)) == Date(timeIntervalSince1970: t.rounded(.down)))
            let c = utc.dateComponents([.year, .month, .day, .hour, .minute], from: d)
            let display = String(format: "%04d-%02d-%02d %02d:%02d UTC", c.year!, c.month!, c.day!, c.hour!, c.minute!)
            #expect(DateTime.format(d, .display) == display)
        }
    }
}
