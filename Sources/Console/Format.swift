import Dates
import Foundation
import JSON

/// How values are written for people: one date format everywhere, human sizes, masked secrets.
///
/// Tables and sections show dates as `2026-12-02 19:44 UTC`; JSON carries ISO 8601
/// (`2026-12-02T19:44:05Z`). Both are written by `DateTime`, which is
/// thread-safe and fast enough for a list of 100,000 rows (a `DateFormatter` per
/// row is not).
public enum Format {
    /// `2026-12-02 19:44 UTC`: the date format of tables and sections.
    public static func date(_ d: Date) -> String { DateTime.format(d, .display) }

    /// `1 group`, `2 groups`: a count and its noun, plural when it is not 1.
    public static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// `2026-12-02T19:44:05Z`: the date format of JSON.
    public static func iso(_ d: Date) -> String { DateTime.format(d, .seconds) }

    /// A stored ISO 8601 timestamp shown in the table format; other text unchanged.
    public static func displayIfTimestamp(_ s: String) -> String {
        guard s.count == 20, s.hasSuffix("Z"), s.dropFirst(10).first == "T" else { return s }
        return DateTime.date(s).map(date) ?? s
    }

    /// One JSON object on one line: what `--json` prints per command.
    static func jsonLine(_ object: [(String, JSONValue)]) -> String {
        String(decoding: JSONWriter.write(.object(object)), as: UTF8.self)
    }

    /// A byte count for people, in binary units: `812 B`, `1.2 KiB`, `49.9 MiB`, `3.0 GiB`.
    public static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        var value = Double(n) / 1024
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            if value < 1024 || unit == "TiB" { return String(format: "%.1f %@", value, unit) }
            value /= 1024
        }
        return "\(n) B"
    }

    /// Whether a field holds a secret that is never printed (webhook secrets, passwords).
    public static func isSecretField(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.contains("secret") || n.contains("password")
    }

    /// What a secret field's value shows as: never the value, not even its length.
    public static let masked = "(hidden)"

}

/// Colour for status words and errors, on a terminal only.
///
/// On when the stream is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>); `TERM=dumb` also turns it off.
public struct Style: Sendable {
    /// Whether escapes are written at all.
    public let enabled: Bool

    /// A style that writes escapes only when `enabled`.
    public init(enabled: Bool) { self.enabled = enabled }

    /// Whether colour is wanted on file descriptor `fd` with `environment`.
    public static func wanted(fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if let v = environment["NO_COLOR"], !v.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return isatty(fd) == 1
    }

    /// No colour.
    public static let plain = Style(enabled: false)

    /// `text` in the SGR colour `code` (31 red, 32 green, 33 yellow, 1 bold).
    public func paint(_ text: String, _ code: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// A status word coloured by meaning: `active` and `delivered` green, `inactive`,
    /// `pending` and `dropped` yellow, `expired`, `deleted` and `failed` red; other words unchanged.
    public func status(_ word: String) -> String {
        switch word {
        case "active", "ok", "delivered": paint(word, "32")
        case "inactive", "never", "pending", "dropped": paint(word, "33")
        case "expired", "deleted", "failed": paint(word, "31")
        default: word
        }
    }

    /// `error:` in bold red.
    public var errorLabel: String { paint("error:", "1;31") }
}
