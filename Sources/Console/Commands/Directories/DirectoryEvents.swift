import Foundation
import JSON
import Replica
import SetupLinks

/// `directory events ID [--status STATUS]`: the webhook events of a directory in this
/// replica's outbox, and how their delivery went. Read from the replica file alone, so
/// it works offline, also while a hub serves the file.
struct DirectoryEvents: ConsoleCommand {
    /// `directory events ID [--status STATUS]`.
    static let configuration = CommandConfiguration(
        "directory events", section: .directories, arguments: [id], flags: [status],
        summary: "a directory's webhook events on this replica: time, event, status, attempts, next retry, last error",
        example: "directory events 6c1e --status pending")
    private static let id = Argument.required("ID", completes: .record(.directory))
    private static let status = Flag.option("--status", "STATUS", "only events that are pending, delivered, failed or dropped")

    private let id: String
    private let status: String?

    /// The id and status typed.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        status = input[Self.status]
    }

    /// Lists the events, then how many are in each state.
    func run(in session: ConsoleSession) throws {
        let outbox = session.outbox
        let id = try Self.directoryID(id, in: session)
        var status: OutboxService.Status?
        if let s = self.status {
            let name = Validation.trimmed(s).lowercased()
            guard let parsed = OutboxService.Status(name: name) else {
                let names = OutboxService.Status.allCases.map(\.description)
                let hint = closestMatch(to: name, in: names).map { " — did you mean \($0)?" } ?? ""
                throw ConsoleError.usage("unknown event status \"\(s)\"\(hint) (one of: \(names.joined(separator: ", ")))")
            }
            status = parsed
        }
        let now = Date()
        // The replicated event record keeps the payload after the outbox emptied it on delivery.
        let replica = session.replica
        let payload: (String) -> [UInt8]? = { id in
            (try? replica.record(id: id))??[EventRecords.payloadField].map { Array($0.utf8) }
        }
        func row(_ e: OutboxService.Event) -> [String] {
            var r = e.row(now: now)
            r.insert(e.subject(payload: payload) ?? "-", at: 3)
            return r
        }
        if session.json {
            var all: [JSONValue] = []
            var after: Int64 = 0
            while true {
                let page = try outbox.events(directory: id, after: after, status: status, limit: 1000)
                all += page.map { e in .object(e.jsonFields + [("subject", e.subject(payload: payload).map(JSONValue.string) ?? .null)]) }
                guard page.count == 1000, let last = page.last else { break }
                after = last.seq
            }
            let counts = try outbox.counts(directory: id)
            session.emit([("directory", .string(id)), ("events", .array(all)), ("pending", .int(Int64(counts.pending))),
                          ("delivered", .int(Int64(counts.delivered))), ("failed", .int(Int64(counts.failed))),
                          ("dropped", .int(Int64(counts.dropped)))])
            return
        }
        let first = try outbox.events(directory: id, status: status, limit: 100)
        guard !first.isEmpty else {
            if status != nil {
                session.say("No \(status!) webhook events for directory \(id) on this replica.")
            } else {
                session.say("No webhook events for directory \(id) on this replica. Events are kept, and sent, by the replica"
                            + " that accepted the SCIM change (the hub the identity provider calls): run this command there.")
            }
            return
        }
        var after = first.last!.seq
        var more = first.count == 100
        try session.streamTable(headers: ["Seq", "Time", "Event", "Subject", "Status", "Attempts", "Next retry", "Last error"], statusColumns: [4],
                                first: first.map(row)) {
            guard more else { return nil }
            let page = try outbox.events(directory: id, after: after, status: status, limit: 1000)
            more = page.count == 1000
            after = page.last?.seq ?? after
            return page.isEmpty ? nil : page.map(row)
        }
        let counts = try outbox.counts(directory: id)
        session.say("\(counts.pending) pending, \(counts.delivered) delivered, \(counts.failed) failed, \(counts.dropped) dropped"
                    + " (delivered, failed and dropped events are kept 7 days).")
    }

    /// The directory id `typed` names: a directory of this replica (on a setup
    /// page, that page's), else, in the admin view, one the outbox still holds
    /// events of (a directory deleted since).
    static func directoryID(_ typed: String, in session: ConsoleSession) throws -> String {
        do {
            return try session.directory(typed).id
        } catch let e as SetupLinkError {
            guard session.page == nil, case .noDirectory = e else { throw e }
            let prefix = Validation.trimmed(typed).lowercased()
            guard !prefix.isEmpty else { throw e }
            let found = try session.outbox.directories(prefix: prefix, limit: 6)
            if found.contains(prefix) { return prefix }
            switch found.count {
            case 1: return found[0]
            case 0: throw e
            default: throw SetupLinkError.ambiguousID(kind: "directory", prefix: prefix, candidates: found)
            }
        }
    }
}
