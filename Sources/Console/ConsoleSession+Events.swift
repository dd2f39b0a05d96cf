import Foundation
import JSON
import SetupLinks

/// `directory events ID`: the webhook events of a directory in this replica's
/// outbox, and how their delivery went. Read from the replica file alone, so it
/// works offline, also while a hub serves the file.
extension ConsoleSession {
    /// `directory events ID [--status STATUS]`.
    func directoryEvents(_ c: ParsedCommand) throws {
        let id = try eventsDirectoryID(c.arguments[0])
        var status: OutboxService.Status?
        if let s = c["--status"] {
            let name = Validation.trimmed(s).lowercased()
            guard let parsed = OutboxService.Status(name: name) else {
                let names = OutboxService.Status.allCases.map(\.description)
                let hint = closestMatch(to: name, in: names).map { " — did you mean \($0)?" } ?? ""
                throw ConsoleError.usage("unknown event status \"\(s)\"\(hint) (one of: \(names.joined(separator: ", ")))")
            }
            status = parsed
        }
        let now = Date()
        if json {
            var all: [JSONValue] = []
            var after: Int64 = 0
            while true {
                let page = try outbox.events(directory: id, after: after, status: status, limit: 1000)
                all += page.map { .object(eventJSON($0)) }
                guard page.count == 1000, let last = page.last else { break }
                after = last.seq
            }
            let counts = try outbox.counts(directory: id)
            emit([("directory", .string(id)), ("events", .array(all)), ("pending", .int(Int64(counts.pending))),
                  ("delivered", .int(Int64(counts.delivered))), ("failed", .int(Int64(counts.failed))),
                  ("dropped", .int(Int64(counts.dropped)))])
            return
        }
        let first = try outbox.events(directory: id, status: status, limit: 100)
        guard !first.isEmpty else {
            if status != nil {
                say("No \(status!) webhook events for directory \(id) on this replica.")
            } else {
                say("No webhook events for directory \(id) on this replica. Events are kept, and sent, by the replica"
                    + " that accepted the SCIM change (the hub the identity provider calls): run this command there.")
            }
            return
        }
        var after = first.last!.seq
        var more = first.count == 100
        try streamTable(headers: ["Seq", "Time", "Event", "Status", "Attempts", "Next retry", "Last error"], statusColumns: [3],
                        first: first.map { eventRow($0, now: now) }) {
            guard more else { return nil }
            let page = try outbox.events(directory: id, after: after, status: status, limit: 1000)
            more = page.count == 1000
            after = page.last?.seq ?? after
            return page.isEmpty ? nil : page.map { eventRow($0, now: now) }
        }
        let counts = try outbox.counts(directory: id)
        say("\(counts.pending) pending, \(counts.delivered) delivered, \(counts.failed) failed, \(counts.dropped) dropped"
            + " (delivered, failed and dropped events are kept 7 days).")
    }

    /// The directory id `typed` names: a directory of this replica (on a setup
    /// page, that page's), else, in the admin view, one the outbox still holds
    /// events of (a directory deleted since).
    func eventsDirectoryID(_ typed: String) throws -> String {
        do {
            return try directoryArgument(typed).id
        } catch let e as SetupLinkError {
            guard page == nil, case .noDirectory = e else { throw e }
            let prefix = Validation.trimmed(typed).lowercased()
            guard !prefix.isEmpty else { throw e }
            let found = try outbox.directories(prefix: prefix, limit: 6)
            if found.contains(prefix) { return prefix }
            switch found.count {
            case 1: return found[0]
            case 0: throw e
            default: throw SetupLinkError.ambiguousID(kind: "directory", prefix: prefix, candidates: found)
            }
        }
    }

    /// One event as JSON: times in ISO 8601; never the payload (it holds people's data).
    func eventJSON(_ e: OutboxService.Event) -> [(String, JSONValue)] {
        func time(_ ms: UInt64?) -> JSONValue { ms.map { .string(Format.iso(Self.date($0))) } ?? .null }
        return [("seq", .int(e.seq)), ("time", time(e.created)), ("event", .string(e.event)),
                ("status", .string(e.status.description)), ("attempts", .int(Int64(e.attempts))),
                ("next_retry", e.status == .pending ? time(e.nextAttempt) : .null),
                ("last_attempt", time(e.lastAttempt)), ("last_status", e.lastStatus.map { .int(Int64($0)) } ?? .null),
                ("last_error", e.lastError.map(JSONValue.string) ?? .null), ("finished", time(e.finished))]
    }

    /// One event as a table row.
    func eventRow(_ e: OutboxService.Event, now: Date) -> [String] {
        var next = "-"
        if e.status == .pending {
            let wait = Self.date(e.nextAttempt).timeIntervalSince(now)
            next = wait <= 0 ? "due" : wait < 3_600 ? "in \(Self.roughDuration(wait))" : Format.date(Self.date(e.nextAttempt))
        }
        return [String(e.seq), Format.date(Self.date(e.created)), e.event, e.status.description, String(e.attempts), next,
                e.lastError ?? "-"]
    }

    /// Unix milliseconds as a date.
    static func date(_ ms: UInt64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    /// `8 s`, `12 min`.
    static func roughDuration(_ seconds: TimeInterval) -> String {
        seconds < 60 ? "\(max(1, Int(seconds.rounded(.up)))) s" : "\(Int((seconds / 60).rounded(.up))) min"
    }
}
