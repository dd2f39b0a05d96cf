import Foundation
import JSON
import Replica
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

    /// Whom the event concerns, from its payload: `ann@acme.com` for a user, `group Engineering`
    /// for a group, `ann@acme.com in Engineering` for a membership; `payload` reads the
    /// replicated event record when the outbox emptied the body after delivery. `nil` if unknown.
    func subject(payload: (String) -> [UInt8]?) -> String? {
        let bytes = body.isEmpty ? eventID.flatMap(payload) : body
        guard let bytes, !bytes.isEmpty, let json = try? JSONParser.parse(bytes), let data = json["data"] else { return nil }
        func user(_ d: JSONValue) -> String? {
            if let e = d["email"]?.stringValue, !e.isEmpty { return e }
            let name = [d["first_name"]?.stringValue, d["last_name"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }
            if !name.isEmpty { return name.joined(separator: " ") }
            return d["id"]?.stringValue.map { "user \($0)" }
        }
        func group(_ d: JSONValue) -> String? {
            if let n = d["name"]?.stringValue, !n.isEmpty { return "group \(n)" }
            return d["id"]?.stringValue.map { "group \($0)" }
        }
        if event.hasPrefix("group.user_") {
            let g = data["group"].flatMap(group)
            return [user(data), g].compactMap { $0 }.joined(separator: event == "group.user_added" ? " → " : " ✕ ")
        }
        return event.hasPrefix("group.") ? group(data) : user(data)
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
