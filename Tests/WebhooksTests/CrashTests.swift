import Events
import Foundation
import Glibc
import JSON
import Scim
import SetupLinks
import Storage
import TestSupport
import Testing
import Webhooks

/// `kill -9` of a serving hub between a SCIM write and its delivery: after the
/// restart every event is delivered and none is lost.
@Suite struct CrashTests {
    /// `setuplink --db path serve --port 0`, its output in files of `folder`.
    static func serve(_ path: String, folder: String, run: Int) throws -> Process {
        let p = Process()
        p.executableURL = setuplinkBinary()
        p.arguments = ["--db", path, "serve", "--port", "0"]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SETUPLINK_") }
        env["SETUPLINK_TOKEN"] = "crash-test-token"
        p.environment = env
        let out = folder + "/serve-\(run).out", err = folder + "/serve-\(run).err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        try p.run()
        try #require(poll(until: {
            ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("listening on ") || !p.isRunning
        }, deadline: .seconds(15)), "timed out waiting for serve to listen")
        #expect(p.isRunning, "serve ended: \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        return p
    }

    @Test func killDashNineBetweenWriteAndDeliveryLosesNothing() throws {
        let receiver = try WebhookReceiver()
        // The receiver takes the first request and never answers: it is in flight when the hub dies.
        receiver.route("/crash", secret: "crash-secret", mode: "hang")
        let folder = temporaryFolder()
        let path = folder + "/hub.sqlite"
        var expected: [DirectoryEvent] = []
        let d: Directory
        do {
            let service = try SetupLinkService(store: try SetupLinkService.openStore(path: path))
            defer { service.store.close() }
            let (link, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: receiver.url("/crash"),
                                                   webhookSecret: "crash-secret")
            d = try service.open(link.token).createDirectory(type: .okta)
            let scim = ScimWriter(store: service.store, directory: d, sink: Outbox.sink(waking: nil))
            for i in 0..<3 { expected += try scim.createUser("before\(i)@acme.test").events }
        }
        let first = try Self.serve(path, folder: folder, run: 1)
        try #require(poll(until: { receiver.received("/crash").count == 1 }, deadline: .seconds(15)), "timed out waiting for the first event in flight")
        // A change written while the hub is busy (by another process on the same file).
        do {
            let service = try SetupLinkService(store: try SetupLinkService.openStore(path: path))
            defer { service.store.close() }
            let scim = ScimWriter(store: service.store, directory: d, sink: Outbox.sink(waking: nil))
            expected += try scim.createUser("during@acme.test").events
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        receiver.route("/crash", secret: "crash-secret")
        let second = try Self.serve(path, folder: folder, run: 2)
        defer {
            kill(second.processIdentifier, SIGTERM)
            second.waitUntilExit()
        }
        try #require(try poll(until: {
            let store = try ReplicaStore(path: path)
            defer { store.close() }
            return try store.outbox.counts(directory: d.id).delivered == expected.count
        }, deadline: .seconds(15)), "timed out waiting for every event delivered after the restart")
        let got = receiver.received("/crash")
        let delivered = got.filter { $0.status == 200 }
        // At least once: the event in flight at the kill came again; each arrived exactly once with a 200.
        #expect(delivered.count == expected.count)
        #expect(delivered.allSatisfy { $0.rawOK })
        DeliveryTests.expectPayloads(delivered.map(\.body), expected, d)
        #expect(got.first?.ids == delivered.first?.ids, "the cut-off event was sent again, with the same id")
        let log = try String(contentsOfFile: folder + "/serve-2.err", encoding: .utf8)
        #expect(log.contains("delivered, HTTP 200"))
    }
}
