import Console
import Foundation
import JSON
import Scim
import SetupLinks
import Storage
import TestSupport
import Testing
import Webhooks

/// `directory events ID`, `status`'s pending count, `link update` and
/// `serve --webhook-batch` as people use them: in the REPL and as one-shot commands.
@Suite struct DirectoryEventsTests {
    /// Lines a session printed.
    final class Lines: @unchecked Sendable {
        // @unchecked Sendable: appended by the session's one thread, read after.
        var all: [String] = []
        var text: String { all.joined(separator: "\n") }
    }

    static func session(_ service: SetupLinkService, json: Bool = false) -> (ConsoleSession, Lines) {
        let lines = Lines()
        return (ConsoleSession(service: service, json: json, io: ConsoleIO(out: { lines.all.append($0) }, confirm: nil)), lines)
    }

    /// A replica whose directory has three events: delivered, failed once, waiting.
    static func replicaWithEvents() throws -> (WebhookHub, Directory) {
        let hub = try WebhookHub()
        let d = try hub.directory(url: "http://127.0.0.1:9/hook", secret: "s")
        for i in 0..<3 { try hub.scim(d).createUser("u\(i)@acme.test") }
        let seqs = try hub.events(d.id).map(\.seq)
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        try hub.store.outbox.recordDelivered([seqs[0]], status: 204, at: now)
        try hub.store.outbox.recordFailedAttempt([seqs[1]], status: 500, error: "HTTP 500: no", at: now, nextAttempt: now + 90_000)
        return (hub, d)
    }

    @Test func eventsAreListedWithTheirDeliveryState() throws {
        let (hub, d) = try Self.replicaWithEvents()
        let (session, out) = Self.session(hub.service)
        #expect(session.run(line: "directory events \(d.id.prefix(8))") == .ok)
        let lines = out.all.joined(separator: "\n").split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            == "Seq Time Event Subject Status Attempts Next retry Last error")
        #expect(lines.filter { $0.contains("user.created") }.count == 3)
        // Each event names whom it concerns, the delivered one too (its outbox body was emptied).
        for i in 0..<3 { #expect(lines.contains { $0.contains("user.created") && $0.contains("u\(i)@acme.test") }, "\(lines)") }
        #expect(lines.contains { $0.contains("delivered") && $0.contains(" 1 ") })
        #expect(lines.contains { $0.contains("pending") && $0.contains("in 2 min") && $0.contains("HTTP 500: no") })
        #expect(lines.contains { $0.contains("pending") && $0.contains("due") })
        #expect(lines.last == "2 pending, 1 delivered, 0 failed, 0 dropped (delivered, failed and dropped events are kept 7 days).")

        out.all.removeAll()
        #expect(session.run(line: "directory events \(d.id) --status pending") == .ok)
        #expect(out.text.split(separator: "\n").filter { $0.contains("user.created") }.count == 2)
        #expect(session.run(line: "directory events \(d.id) --status pendin") == .failed("unknown event status \"pendin\" — did you mean pending? (one of: pending, delivered, failed, dropped)"))

        out.all.removeAll()
        #expect(session.run(line: "status") == .ok)
        #expect(out.text.contains("Webhook events  2 pending (see: directory events ID)"))

        let (jsonSession, jsonOut) = Self.session(hub.service, json: true)
        #expect(jsonSession.run(line: "directory events \(d.id)") == .ok)
        let o = json(jsonOut.all[0])
        #expect(o["directory"]?.stringValue == d.id && o["pending"]?.int64Value == 2 && o["delivered"]?.int64Value == 1)
        let events = try #require(o["events"]?.arrayValue)
        #expect(events.map { $0["status"]?.stringValue } == ["delivered", "pending", "pending"])
        #expect(events[0]["attempts"]?.int64Value == 1 && events[0]["last_status"]?.int64Value == 204)
        #expect(events[0]["next_retry"] == .null && events[1]["next_retry"]?.stringValue?.hasSuffix("Z") == true)
        #expect(events[1]["last_error"]?.stringValue == "HTTP 500: no")
        #expect(events.allSatisfy { $0["event"]?.stringValue == "user.created" && $0["time"]?.stringValue != nil })
        #expect(events.allSatisfy { $0["data"] == nil && $0["body"] == nil }, "the payload (people's data) is not listed")
        #expect(events.map { $0["subject"]?.stringValue } == ["u0@acme.test", "u1@acme.test", "u2@acme.test"], "only whom it concerns")
        #expect(jsonSession.run(line: "status") == .ok)
        #expect(json(jsonOut.all[1])["events_pending"]?.int64Value == 2)

        // A deleted directory's events stay listed until housekeeping.
        try hub.service.deleteDirectory(id: d.id)
        out.all.removeAll()
        #expect(session.run(line: "directory events \(d.id.prefix(10))") == .ok)
        #expect(out.text.contains("user.created"))
    }

    @Test func aReplicaThatDidNotAcceptTheChangesHasNoEvents() throws {
        let (hub, d) = try Self.replicaWithEvents()
        let other = try WebhookHub()
        while true {
            let page = try hub.store.changes(since: try other.store.clock(), limit: 100)
            try other.store.apply(page)
            if !page.more { break }
        }
        let (session, out) = Self.session(other.service)
        #expect(session.run(line: "directory events \(d.id)") == .ok)
        #expect(out.text.hasPrefix("No webhook events for directory \(d.id) on this replica."))
        #expect(try other.store.outbox.pendingCount() == 0)
        #expect(session.run(line: "directory events ffffffff") == .failed("no directory with id ffffffff (see: directory list)"))
    }

    @Test func oneShotCommandsWorkOnTheFileOffline() throws {
        let (hub, d) = try Self.replicaWithEvents()
        let path = hub.path
        let events = try runSetuplink(["--db", path, "--json", "directory", "events", d.id])
        #expect(events.status == 0)
        #expect(json(events.stdout)["events"]?.arrayValue?.count == 3)
        let status = try runSetuplink(["--db", path, "status"])
        #expect(status.status == 0 && status.stdout.contains("2 pending"))
        // A link update moves the webhook of its directories, and says so.
        let link = try #require(try hub.service.links().first)
        let update = try runSetuplink(["--db", path, "link", "update", link.id, "--webhook-url", "https://new.example.test/hook"])
        #expect(update.status == 0)
        #expect(update.stdout.contains("The webhook of its directory changed too: events not yet delivered go to the new URL"))
        #expect(try hub.service.directory(id: d.id).webhookURL == "https://new.example.test/hook")
        for bad in ["0", "1001", "x"] {
            let serve = try runSetuplink(["--db", path, "serve", "--webhook-batch", bad])
            #expect(serve.status == 2 && serve.stderr.contains("--webhook-batch needs a number of events from 1 to 1000"))
        }
    }

    /// Runs the built `setuplink` and waits for it.
    func runSetuplink(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = setuplinkBinary()
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SETUPLINK_") }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
