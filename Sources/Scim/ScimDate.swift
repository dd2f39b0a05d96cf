/// `xsd:dateTime` values (RFC 7643 §2.3.5): parsed for chronological filter
/// comparisons and written for `meta.created` / `meta.lastModified`.
public enum ScimDate {
    /// Milliseconds since 1970 of `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, or `nil`.
    ///
    /// Strict on shape and ranges (month 1–12, day valid for the month, hour
    /// 0–23, minute 0–59, second 0–60), years 0001–9999; fractions beyond
    /// milliseconds are truncated.
    public static func milliseconds(_ s: String) -> Int64? {
        let b = Array(s.utf8)
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

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since 1970.
    public static func format(milliseconds ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = Int(ms - seconds * 1000)
        var days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secOfDay = Int(seconds - Int64(days) * 86_400)
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        // Every create and change writes two of these: digits into bytes, no string building.
        var out: [UInt8] = []
        out.reserveCapacity(24)
        /// `v` (≥ 0) in decimal, zero-padded to at least `width` digits.
        func put(_ v: Int, _ width: Int) {
            var length = 1, rest = v
            while rest >= 10 { rest /= 10; length += 1 }
            let end = out.count + max(length, width)
            out.append(contentsOf: repeatElement(UInt8(48), count: end - out.count))
            var v = v, k = end - 1
            repeat {
                out[k] = UInt8(48 + v % 10)
                v /= 10
                k -= 1
            } while v > 0
        }
        if y < 0 { out.append(0x2D) }
        put(abs(y), 4); out.append(0x2D); put(m, 2); out.append(0x2D); put(d, 2); out.append(0x54)
        put(secOfDay / 3600, 2); out.append(0x3A); put(secOfDay / 60 % 60, 2); out.append(0x3A)
        put(secOfDay % 60, 2); out.append(0x2E); put(millis, 3); out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
