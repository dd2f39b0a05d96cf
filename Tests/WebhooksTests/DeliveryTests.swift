import Events
import Foundation
import JSON
import Scim
import SetupLinks
import Storage
import Testing
import TestSupport
import Webhooks

/// A SCIM sequence written in process on a served hub (over HTTP: `ScimOverHTTPTests`),
/// delivered to a receiver (Python, checking
/// every signature as a receiver of Jackson's events does): once, in order,
/// with the webhook payload; through outages and 500s.
@Suite struct DeliveryTests {
    /// An Okta-shaped provisioning run: users, a group, members, a deactivation, deletes.
    static func provision(_ scim: ScimWriter) throws -> [DirectoryEvent] {
        var events: [DirectoryEvent] = []
        let alice = try scim.createUser("alice@acme.test", given: "Alice", family: "Liddell")
        let bob = try scim.createUser("bob@acme.test", given: "Bob", family: "Builder")
        events += alice.events + bob.events
        let group = try scim.write { d, s in
            try d.createGroup(json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"\#(alice.record.id)"}]}"#), in: s)
        }
        events += group.events
        let gid = group.record.id
        events += try scim.write { d, s in try d.patchGroup(gid, patch(#"[{"op":"add","path":"members","value":[{"value":"\#(bob.record.id)"}]}]"#), in: s) }.events
        events += try scim.write { d, s in try d.patchUser(alice.record.id, patch(#"[{"op":"replace","value":{"active":false}}]"#), in: s) }.events
        events += try scim.write { d, s in try d.patchGroup(gid, patch(#"[{"op":"remove","path":"members[value eq \"\#(bob.record.id)\"]"}]"#), in: s) }.events
        events += try scim.write { d, s in try d.patchGroup(gid, patch(#"[{"op":"replace","path":"displayName","value":"Eng (EU)"}]"#), in: s) }.events
        events += try scim.delete { d, s in try d.deleteUser(bob.record.id, in: s) }
        events += try scim.delete { d, s in try d.deleteGroup(gid, in: s) }
        return events
    }

    /// Checks that `got` are `expected`'s events, in order, as webhook payloads of `directory`.
    static func expectPayloads(_ got: [JSONValue], _ expected: [DirectoryEvent], _ directory: Directory) {
        #expect(got.count == expected.count)
        for (body, event) in zip(got, expected) {
            #expect(body["event"]?.stringValue == event.name)
            #expect(body["tenant"]?.stringValue == directory.tenant)
            #expect(body["product"]?.stringValue == directory.product)
            #expect(body["directory_id"]?.stringValue == directory.id)
            #expect(body["data"] == event.data)
            guard case .object(let members) = body else { Issue.record("not an object: \(body)"); continue }
            #expect(members.map(\.0) == ["event", "tenant", "product", "directory_id", "data"])
            let data = body["data"]
            if event.name.hasPrefix("user.") || event.name.hasPrefix("group.user_") {
                // Membership events carry the user's data too, with the group under `group`.
                for field in ["id", "email", "first_name", "last_name", "active", "raw"] { #expect(data?[field] != nil, "\(field)") }
                if event.name.hasPrefix("group.user_") {
                    for field in ["id", "name", "raw"] { #expect(data?["group"]?[field] != nil, "group.\(field)") }
                }
            } else {
                for field in ["id", "name", "raw"] { #expect(data?[field] != nil, "\(field)") }
            }
        }
    }

    @Test func aProvisioningRunArrivesSignedOnceAndInOrder() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/hooks/acme", secret: "whsec-acme")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(url: receiver.url("/hooks/acme"), secret: "whsec-acme")
        let expected = try Self.provision(hub.scim(d))
        #expect(expected.map(\.name) == ["user.created", "user.created", "group.created", "group.user_added", "group.user_added",
                                         "user.updated", "group.user_removed", "group.updated", "user.deleted", "group.deleted"])
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == expected.count }, deadline: .seconds(15)), "timed out waiting for every event delivered")
        let got = receiver.received("/hooks/acme")
        #expect(got.count == expected.count, "one request per event, none repeated")
        #expect(got.allSatisfy { $0.rawOK && $0.restringifiedOK && $0.status == 200 })
        #expect(got.allSatisfy { $0.contentType == "application/json" && $0.expect == nil })
        let ids = got.flatMap(\.ids)
        #expect(Set(ids).count == ids.count && ids.allSatisfy { $0.hasPrefix(hub.store.replicaID.hex + ":") })
        Self.expectPayloads(got.map(\.body), expected, d)
        // The event log says so.
        let log = try hub.events(d.id)
        #expect(log.map(\.event) == expected.map(\.name))
        #expect(log.allSatisfy { $0.status == .delivered && $0.attempts == 1 && $0.lastStatus == 200 && $0.lastError == nil })
        #expect(try hub.store.outbox.pendingCount() == 0)
    }

    @Test func batchesAreSignedArraysInOrder() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/batch", secret: "batch-secret", mode: "500")
        let hub = try WebhookHub(configuration: testConfiguration(batch: 4))
        try hub.start()
        let d = try hub.directory(url: receiver.url("/batch"), secret: "batch-secret")
        // Held back by 500s, ten events pile up, then leave four at a time.
        var expected: [DirectoryEvent] = []
        for i in 0..<10 { expected += try hub.scim(d).createUser("user\(i)@acme.test").events }
        try #require(try poll(until: { try hub.events(d.id).first?.attempts ?? 0 >= 1 }, deadline: .seconds(15)), "timed out waiting for a failed attempt")
        receiver.route("/batch", secret: "batch-secret")
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == 10 }, deadline: .seconds(15)), "timed out waiting for every event delivered")
        let ok = receiver.received("/batch").filter { $0.status == 200 }
        #expect(ok.allSatisfy { $0.rawOK && $0.restringifiedOK && $0.body.arrayValue != nil && $0.bodyText.hasPrefix("[") })
        #expect(ok.map(\.events.count) == [4, 4, 2])
        Self.expectPayloads(ok.flatMap(\.events), expected, d)
        #expect(ok.flatMap(\.ids).count == 10)
    }

    @Test func aReceiverDownThenUpGetsEverythingOnceInOrder() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/down", secret: "s")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(url: receiver.url("/down"), secret: "s")
        receiver.stop()
        var expected: [DirectoryEvent] = []
        for i in 0..<5 { expected += try hub.scim(d).createUser("down\(i)@acme.test").events }
        try #require(try poll(until: { try hub.events(d.id).first?.attempts ?? 0 >= 3 }, deadline: .seconds(15)), "timed out waiting for several refused attempts")
        let waiting = try hub.events(d.id)
        #expect(waiting.allSatisfy { $0.status == .pending })
        #expect(waiting[0].lastError?.contains("connection refused") == true)
        // Only the head is tried while the receiver is down: order holds.
        #expect(waiting.dropFirst().allSatisfy { $0.attempts == 0 })
        try receiver.start()
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == 5 }, deadline: .seconds(15)), "timed out waiting for every event delivered")
        let got = receiver.received("/down")
        #expect(got.count == 5 && got.allSatisfy { $0.rawOK })
        Self.expectPayloads(got.map(\.body), expected, d)
    }

    @Test func fiveHundredsAreRetriedWithBackoffThenDelivered() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/flaky", secret: "s", mode: "500")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(url: receiver.url("/flaky"), secret: "s")
        let expected = try hub.scim(d).createUser("flaky@acme.test").events + hub.scim(d).createUser("second@acme.test").events
        try #require(try poll(until: { try hub.events(d.id).first?.attempts ?? 0 >= 4 }, deadline: .seconds(15)), "timed out waiting for four failed attempts")
        let head = try hub.events(d.id)[0]
        #expect(head.status == .pending && head.lastStatus == 500 && head.lastError == "HTTP 500: receiver says no")
        #expect(head.nextAttempt > head.lastAttempt!, "a retry is scheduled after the failure")
        receiver.route("/flaky", secret: "s")
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == 2 }, deadline: .seconds(15)), "timed out waiting for both delivered")
        let got = receiver.received("/flaky")
        let attempts = try hub.events(d.id).map(\.attempts)
        // Every attempt reached the receiver; the first event took them all, the second one.
        #expect(got.count == attempts.reduce(0, +))
        #expect(attempts[0] >= 5 && attempts[1] == 1)
        #expect(got.filter { $0.status == 500 }.allSatisfy { $0.body == got.first!.body }, "retries resend the same event")
        Self.expectPayloads(got.filter { $0.status == 200 }.map(\.body), expected, d)
        // Each retry is signed afresh with the time it is sent.
        #expect(Set(got.compactMap(\.t)).count == got.count)
    }

    /// The sender is woken by writes, not by its poll: with a poll of a minute, an event
    /// leaves at once; events written behind a directory's failing head wait their turn
    /// (no wake-up needed) while another directory's new event still leaves at once.
    @Test func writesWakeTheSenderAndQueuedDirectoriesWaitTheirTurn() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/a", secret: "s")
        receiver.route("/b", secret: "s")
        var slowPoll = testConfiguration()
        slowPoll.pollInterval = .seconds(60)
        let hub = try WebhookHub(configuration: slowPoll)
        try hub.start()
        let a = try hub.directory(tenant: "a", url: receiver.url("/a"), secret: "s")
        let b = try hub.directory(tenant: "b", url: receiver.url("/b"), secret: "s")
        var expectedA = try hub.scim(a).createUser("first@a.test").events
        try #require(try poll(until: {
            try hub.store.outbox.counts(directory: a.id).delivered == 1
        }, deadline: .seconds(10)), "timed out waiting for the first event, well before a poll")
        receiver.route("/a", secret: "s", mode: "500")
        expectedA += try hub.scim(a).createUser("failing@a.test").events
        try #require(try poll(until: { try hub.events(a.id).last?.attempts ?? 0 >= 2 }, deadline: .seconds(15)), "timed out waiting for the head failing")
        for i in 0..<3 { expectedA += try hub.scim(a).createUser("queued\(i)@a.test").events }
        let expectedB = try hub.scim(b).createUser("other@b.test").events
        try #require(try poll(until: {
            try hub.store.outbox.counts(directory: b.id).delivered == 1
        }, deadline: .seconds(10)), "timed out waiting for the other directory's event, while /a is failing")
        #expect(try hub.events(a.id).dropFirst(2).allSatisfy { $0.attempts == 0 }, "only the head is tried")
        receiver.route("/a", secret: "s")
        try #require(try poll(until: {
            try hub.store.outbox.counts(directory: a.id).delivered == 5
        }, deadline: .seconds(10)), "timed out waiting for the queued events, after the head")
        Self.expectPayloads(receiver.received("/a").filter { $0.status == 200 }.map(\.body), expectedA, a)
        Self.expectPayloads(receiver.received("/b").map(\.body), expectedB, b)
    }

    @Test func concurrentWritersToManyDirectoriesKeepEachDirectorysOrder() throws {
        let receiver = try WebhookReceiver()
        let hub = try WebhookHub()
        try hub.start()
        var directories: [Directory] = []
        for i in 0..<6 {
            receiver.route("/d\(i)", secret: "s\(i)", mode: "flaky")
            directories.append(try hub.directory(tenant: "t\(i)", url: receiver.url("/d\(i)"), secret: "s\(i)"))
        }
        // Three writers, each creating users in every directory, while the senders run.
        let all = directories
        let writers = (0..<3).map { w in
            Thread {
                for n in 0..<10 {
                    for d in all { _ = try? hub.scim(d).createUser("w\(w)-\(n)@\(d.tenant).test") }
                }
            }
        }
        for t in writers { t.start() }
        try #require(try poll(until: { try hub.store.outbox.counts().delivered == 180 }, deadline: .seconds(40)), "timed out waiting for every event delivered")
        for (i, d) in directories.enumerated() {
            let enqueued = try hub.events(d.id)
            #expect(enqueued.count == 30)
            let delivered = receiver.received("/d\(i)").filter { $0.status == 200 }
            #expect(delivered.allSatisfy { $0.rawOK })
            // Once each, in the order the changes committed.
            #expect(delivered.flatMap(\.ids) == enqueued.map { "\(hub.store.replicaID.hex):\($0.seq)" })
        }
    }

    @Test func backoffDoublesUpToTheCapWithJitter() {
        let c = WebhookConfiguration(retryBase: .seconds(2), retryCap: .seconds(600))
        var random = SystemRandomNumberGenerator()
        for (failures, full) in [(1, 2_000), (2, 4_000), (3, 8_000), (9, 512_000), (10, 600_000), (60, 600_000)] {
            for _ in 0..<20 {
                let ms = c.retryDelay(afterFailures: failures, using: &random) / .milliseconds(1)
                #expect(ms >= Double(full / 2) && ms <= Double(full), "after \(failures) failures: \(ms) ms")
            }
        }
    }

    @Test func aWrongSecretFailsTheReceiversCheck() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/strict", secret: "the-receivers-secret")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(url: receiver.url("/strict"), secret: "not-the-receivers-secret")
        try hub.scim(d).createUser("x@acme.test")
        try #require(poll(until: { !receiver.received("/strict").isEmpty }, deadline: .seconds(15)), "timed out waiting for a refused attempt")
        let got = receiver.received("/strict")
        #expect(got.allSatisfy { !$0.rawOK && !$0.restringifiedOK && $0.status == 401 })
        try #require(try poll(until: { try hub.events(d.id).first?.lastStatus == 401 }, deadline: .seconds(15)), "timed out waiting for the attempt recorded")
        #expect(try hub.events(d.id)[0].status == .pending)
    }
    @Test func stoppingCutsARequestInFlightShortAndKeepsItsEvent() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/slow", secret: "s", mode: "hang")
        var c = testConfiguration()
        c.timeout = .seconds(60)
        let lines = LogLines()
        let hub = try WebhookHub(configuration: c, log: { lines.append($0) })
        try hub.start()
        let d = try hub.directory(url: receiver.url("/slow"), secret: "s")
        try hub.scim(d).createUser("slow@acme.test")
        try #require(poll(until: { receiver.received("/slow").count == 1 }, deadline: .seconds(15)), "timed out waiting for the request in flight")
        hub.hub.stop()
        // Cut off by the stop, not by the 60 s timeout: no attempt recorded, still pending.
        let e = try #require(try hub.events(d.id).first)
        #expect(e.status == .pending && e.attempts == 0 && e.lastError == nil)
        #expect(lines.all.contains { $0.contains("cut off by the stop; it stays pending") })
    }

    @Test func housekeepingDeletesFinishedEventsAndKeepsWaitingOnes() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/kept", secret: "s")
        receiver.route("/waiting", secret: "s", mode: "500")
        var c = testConfiguration()
        c.keepFinished = .milliseconds(1)
        c.housekeepingInterval = .milliseconds(100)
        let hub = try WebhookHub(configuration: c)
        try hub.start()
        let done = try hub.directory(tenant: "done", url: receiver.url("/kept"), secret: "s")
        let waiting = try hub.directory(tenant: "waiting", url: receiver.url("/waiting"), secret: "s")
        try hub.scim(done).createUser("a@acme.test")
        try hub.scim(waiting).createUser("b@acme.test")
        try #require(try poll(until: { try receiver.received("/kept").count == 1 && hub.events(done.id).isEmpty }, deadline: .seconds(15)), "timed out waiting for the delivered event purged")
        #expect(try hub.events(waiting.id).map(\.status) == [.pending])
    }
}

/// Log lines collected from the sender threads.
final class LogLines: @unchecked Sendable {
    // @unchecked Sendable: every access holds `lock`.
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
