import Foundation

/// Timestamps as text, in UTC: the one parser and the one formatter of the
/// package (records, SCIM's `xsd:dateTime`, JSON output, the server log,
/// tables and pages).
///
/// Both work on bytes with calendar arithmetic (Howard Hinnant's civil-date
/// algorithms, proleptic Gregorian): no `DateFormatter`, no shared state, no
/// locale. A list of 100,000 links parses 100,000 of them, and every SCIM
/// create and change writes two.
public enum DateTime {
    /// How a timestamp is written.
    public enum Style: Sendable {
        /// `2026-12-02T19:44:05.123Z`: SCIM's `meta.created` and `meta.lastModified`, the server log.
        case milliseconds
        /// `2026-12-02T19:44:05Z`: what records store and JSON output carries.
        case seconds
        /// `2026-12-02 19:44 UTC`: what tables and pages show people.
        case display
    }

    // MARK: Parsing

    /// Milliseconds since 1970 of `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`
    /// (ISO 8601's extended form, as RFC 3339 and `xsd:dateTime` write it), or `nil`.
    ///
    /// Strict on shape and ranges (month 1–12, day valid for the month, hour
    /// 0–23, minute 0–59, second 0–60), years 0001–9999; `T` and `Z` in
    /// either case; fractions beyond milliseconds are truncated.
    public static func milliseconds(_ text: String) -> Int64? {
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ parse($0) }) { return parsed }
        return Array(text.utf8).withUnsafeBufferPointer { parse($0) }
    }

    /// The instant `text` names (see `milliseconds(_:)`), or `nil`.
    public static func date(_ text: String) -> Date? {
        milliseconds(text).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), year >= 1, expect(0x2D), let month = digits(2), (1...12).contains(month),
              expect(0x2D), let day = digits(2), day >= 1, day <= daysIn(month: month, year: year),
              i < b.count, b[i] == 0x54 || b[i] == 0x74 else { return nil }
        i += 1
        guard let hour = digits(2), hour <= 23, expect(0x3A), let minute = digits(2), minute <= 59,
              expect(0x3A), let second = digits(2), second <= 60 else { return nil }
        var millis = 0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if n < 3 { millis = millis * 10 + Int(b[i] - 0x30) }
                n += 1
                i += 1
            }
            guard n > 0, n <= 12 else { return nil }
            if n < 3 { for _ in n..<3 { millis *= 10 } }
        }
        var offsetMinutes = 0
        guard i < b.count else { return nil }
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            let sign = b[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = digits(2), oh <= 23, expect(0x3A), let om = digits(2), om <= 59 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    // MARK: Formatting

    /// Milliseconds since 1970 of `date`: whole seconds rounded down, then the
    /// milliseconds of what remains, truncated (never rounded up into the next second).
    public static func milliseconds(of date: Date) -> Int64 {
        let interval = date.timeIntervalSince1970
        let seconds = interval.rounded(.down)
        return Int64(seconds) * 1000 + Int64((interval - seconds) * 1000)
    }

    /// `date` written in `style`.
    public static func format(_ date: Date, _ style: Style) -> String {
        format(milliseconds: milliseconds(of: date), style)
    }

    /// Milliseconds since 1970 written in `style` (`.milliseconds` unless told).
    public static func format(milliseconds ms: Int64, _ style: Style = .milliseconds) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = Int(ms - seconds * 1000)
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (y, m, d) = civilFromDays(days)
        // Digits straight into the string's storage: no string building per field.
        return String(unsafeUninitializedCapacity: 40) { out in
            var k = 0
            /// `v` (≥ 0) in decimal, zero-padded to at least `width` digits.
            func put(_ v: Int, _ width: Int) {
                var length = 1, rest = v
                while rest >= 10 { rest /= 10; length += 1 }
                let end = k + max(length, width)
                var v = v, at = end - 1
                while at >= k {
                    out[at] = UInt8(48 + v % 10)
                    v /= 10
                    at -= 1
                }
                k = end
            }
            func put(_ byte: UInt8) {
                out[k] = byte
                k += 1
            }
            if y < 0 { put(0x2D) }
            put(abs(y), 4); put(0x2D); put(m, 2); put(0x2D); put(d, 2)
            put(style == .display ? 0x20 : 0x54)
            put(secondOfDay / 3600, 2); put(0x3A); put(secondOfDay / 60 % 60, 2)
            switch style {
            case .milliseconds:
                put(0x3A); put(secondOfDay % 60, 2); put(0x2E); put(millis, 3); put(0x5A)
            case .seconds:
                put(0x3A); put(secondOfDay % 60, 2); put(0x5A)
            case .display:
                for c in " UTC".utf8 { put(c) }
            }
            return k
        }
    }

    // MARK: Calendar arithmetic

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    private static func civilFromDays(_ count: Int) -> (year: Int, month: Int, day: Int) {
        let days = count + 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
