import Events
import Foundation
import Glibc
import HTTP
import Hub
import JSON
import Scim
import SetupLinks
import Storage
import Testing
import TestSupport
import Webhooks

/// A fresh folder for one test.
func temporaryFolder() -> String {
    testFolder("webhooks")
}

/// Short times, so retries and timeouts fit in a test.
func testConfiguration(batch: Int? = nil) -> WebhookConfiguration {
    WebhookConfiguration(batchSize: batch, senders: 3, connectTimeout: .seconds(2), timeout: .seconds(2),
                         retryBase: .milliseconds(40), retryCap: .milliseconds(300), pollInterval: .milliseconds(200))
}

/// One request the receiver got.
struct Received: Sendable {
    var path: String
    var mode: String
    var status: Int
    /// The signature verified over the raw body with the receiver's secret.
    var rawOK: Bool
    /// It verified over the body re-serialized from its parsed JSON (receivers that hash `JSON.stringify(req.body)`).
    var restringifiedOK: Bool
    var ids: [String]
    /// The signature's `t`.
    var t: String?
    var contentType: String?
    var expect: String?
    var bodyText: String
    var body: JSONValue

    /// The events carried: the body, or each element of a batch.
    var events: [JSONValue] { body.arrayValue ?? [body] }
}

/// The Python receiver of `Receiver/receiver.py`, as a child process.
final class WebhookReceiver: @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time.
    let folder = temporaryFolder()
    private(set) var port: UInt16 = 0
    private var process: Process?
    private var routes: [String: (secret: String, mode: String)] = [:]

    var configPath: String { folder + "/config.json" }
    var logPath: String { folder + "/log.jsonl" }

    /// Starts a receiver on a free port (or `port`).
    init(port: UInt16 = 0) throws {
        try start(port: port)
    }

    deinit { stop() }

    /// Starts the receiver process (again, on the same port after `stop()`).
    func start(port: UInt16? = nil) throws {
        let python = try requires(.python3)
        let portFile = folder + "/port"
        try? FileManager.default.removeItem(atPath: portFile)
        writeConfig()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        let script = packageRoot().appendingPathComponent("Tests/WebhooksTests/Receiver/receiver.py").path
        p.arguments = [script, configPath, logPath, portFile, String(port ?? self.port)]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        try #require(poll(until: {
            guard let text = try? String(contentsOfFile: portFile, encoding: .utf8), let n = UInt16(text) else {
                #expect(p.isRunning, "the receiver process ended")
                return !p.isRunning
            }
            self.port = n
            return true
        }, deadline: .seconds(10)), "timed out waiting for the receiver to listen")
        #expect(p.isRunning)
    }

    /// Stops the receiver: its port refuses connections until `start()`.
    func stop() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// The URL of a hook path.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Sets how `path` answers and the secret it checks signatures with.
    func route(_ path: String, secret: String, mode: String = "ok") {
        routes[path] = (secret, mode)
        writeConfig()
    }

    private func writeConfig() {
        var members: [(String, JSONValue)] = []
        for (path, r) in routes.sorted(by: { $0.key < $1.key }) {
            members.append((path, .object([("secret", .string(r.secret)), ("mode", .string(r.mode))])))
        }
        let tmp = configPath + ".tmp"
        _ = FileManager.default.createFile(atPath: tmp, contents: Data(JSONWriter.write(.object(members))))
        _ = rename(tmp, configPath)
    }

    /// Every request received so far (across restarts), in arrival order.
    func received(_ path: String? = nil) -> [Received] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> Received? in
            guard let o = try? JSONParser.parse(Array(line.utf8), maxDepth: 64) else { return nil }
            let bodyText = o["body"]?.stringValue ?? ""
            let r = Received(path: o["path"]?.stringValue ?? "", mode: o["mode"]?.stringValue ?? "",
                             status: Int(o["status"]?.int64Value ?? 0), rawOK: o["raw_ok"] == .bool(true),
                             restringifiedOK: o["restringified_ok"] == .bool(true),
                             ids: (o["ids"]?.stringValue).map { Self.ids($0) } ?? [], t: o["t"]?.stringValue,
                             contentType: o["content_type"]?.stringValue, expect: o["expect"]?.stringValue,
                             bodyText: bodyText,
                             body: (try? JSONParser.parse(Array(bodyText.utf8), maxDepth: 64)) ?? .null)
            return path == nil || r.path == path ? r : nil
        }
    }

    /// `replica:1,2` as `["replica:1", "replica:2"]`.
    static func ids(_ header: String) -> [String] {
        let parts = header.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { return [header] }
        return parts[1].split(separator: ",").map { "\(parts[0]):\($0)" }
    }
}

/// A replica with a link and directories, served by a `Hub` whose webhook
/// sender delivers its outbox. `scim(_:)` makes SCIM changes in process
/// (`ScimDirectory` in one `store.write` with the outbox sink, as `ScimRoutes`
/// runs them); the hub's SCIM routes are served at `port` too (`ScimOverHTTPTests`).
final class WebhookHub: @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time.
    let folder: String
    let path: String
    let service: SetupLinkService
    var store: ReplicaStore { service.store }
    let hub: Hub
    private(set) var port: UInt16 = 0

    init(folder: String = temporaryFolder(), configuration: WebhookConfiguration = testConfiguration(),
         log: (@Sendable (String) -> Void)? = nil) throws {
        self.folder = folder
        path = folder + "/hub.sqlite"
        service = try SetupLinkService(store: try SetupLinkService.openStore(path: path), externalURL: "https://hub.example.test")
        hub = try Hub(service: service, token: .fixed("peer-token-for-tests"),
                      configuration: HTTPServerConfiguration(bindAddress: "127.0.0.1", port: 0),
                      webhooks: configuration, webhookLog: log)
    }

    deinit {
        hub.stop()
        store.close()
    }

    /// Serves and starts the webhook sender.
    func start() throws { port = try hub.start() }

    /// A link for `tenant` whose webhook is `url` with `secret`, and one directory made through it.
    func directory(tenant: String = "acme", product: String = "crm", url: String, secret: String,
                   type: DirectoryType = .okta) throws -> Directory {
        let (link, _) = try service.createLink(tenant: tenant, product: product, webhookURL: url, webhookSecret: secret)
        return try service.open(link.token).createDirectory(type: type)
    }

    /// The SCIM flows of `directory`, writing through the outbox sink.
    func scim(_ directory: Directory) -> ScimWriter {
        ScimWriter(store: store, directory: directory, sink: hub.webhooks.eventSink)
    }

    /// The outbox of one directory, in order.
    func events(_ directory: String) throws -> [OutboxEvent] { try store.outbox.events(directory: directory, limit: 10_000) }
}

/// SCIM writes on one directory, each one transaction with its events sent to the sink.
struct ScimWriter {
    let store: ReplicaStore
    let directory: Directory
    let sink: DirectoryEventSink
    var flows: ScimDirectory { ScimDirectory(id: directory.id, baseURL: "https://hub.example.test/api/scim/v2.0/\(directory.id)") }

    /// Runs a flow that returns an outcome; returns it.
    @discardableResult
    func write(_ flow: (ScimDirectory, ScimStore) throws -> ScimOutcome) throws -> ScimOutcome {
        try store.write { tx in
            let outcome = try flow(flows, ScimReplicaTransaction(store: store, tx: tx))
            if !outcome.events.isEmpty { try sink(tx, outcome.events) }
            return outcome
        }
    }

    /// Runs a flow that returns events (deletes); returns them.
    @discardableResult
    func delete(_ flow: (ScimDirectory, ScimStore) throws -> [DirectoryEvent]) throws -> [DirectoryEvent] {
        try store.write { tx in
            let events = try flow(flows, ScimReplicaTransaction(store: store, tx: tx))
            if !events.isEmpty { try sink(tx, events) }
            return events
        }
    }

    /// Creates a user; returns its id and events.
    @discardableResult
    func createUser(_ userName: String, given: String = "Ada", family: String = "Lovelace") throws -> ScimOutcome {
        try write { d, s in
            try d.createUser(json("""
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\(userName)",
                 "name":{"givenName":"\(given)","familyName":"\(family)"},
                 "emails":[{"value":"\(userName)","type":"work","primary":true}],"active":true}
                """), in: s)
        }
    }
}

/// Parses JSON text written in a test.
func json(_ text: String) -> JSONValue {
    try! JSONParser.parse(Array(text.utf8), maxDepth: 64)
}

/// A PATCH body.
func patch(_ operations: String) -> JSONValue {
    json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(operations)}"#)
}
