import Foundation
import JSON
import SetupLinks

/// How a webhook event is shown by `directory events`.
extension OutboxService.Event {
    /// The event as JSON: times in ISO 8601; never the payload (it holds people's data).
    var jsonFields: [(String, JSONValue)] {
        func time(_ ms: UInt64?) -> JSONValue { ms.map { .string(Format.iso(Self.date($0))) } ?? .null }
        return [("seq", .int(seq)), ("time", time(created)), ("event", .string(event)),
                ("status", .string(status.description)), ("attempts", .int(Int64(attempts))),
                ("next_retry", status == .pending ? time(nextAttempt) : .null),
                ("last_attempt", time(lastAttempt)), ("last_status", lastStatus.map { .int(Int64($0)) } ?? .null),
                ("last_error", lastError.map(JSONValue.string) ?? .null), ("finished", time(finished))]
    }

    /// The event as a table row; the next retry is `due`, `in 12 min` or a date.
    func row(now: Date) -> [String] {
        var next = "-"
        if status == .pending {
            let wait = Self.date(nextAttempt).timeIntervalSince(now)
            next = wait <= 0 ? "due" : wait < 3_600 ? "in \(Self.roughDuration(wait))" : Format.date(Self.date(nextAttempt))
        }
        return [String(seq), Format.date(Self.date(created)), event, status.description, String(attempts), next,
                lastError ?? "-"]
    }

    /// Unix milliseconds as a date.
    static func date(_ ms: UInt64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    /// `8 s`, `12 min`.
    static func roughDuration(_ seconds: TimeInterval) -> String {
        seconds < 60 ? "\(max(1, Int(seconds.rounded(.up)))) s" : "\(Int((seconds / 60).rounded(.up))) min"
    }
}
