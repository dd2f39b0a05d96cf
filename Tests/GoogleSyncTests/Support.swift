import Foundation
import Glibc
import GoogleSync
import HTTP
import Hub
import JSON
import Scim
import SetupLinks
import Storage
import Testing
import TestSupport
import Webhooks

/// The OAuth client the fake Google knows.
let clientID = "1234-test.apps.googleusercontent.com"
let clientSecret = "GOCSPX-test-secret"

/// `FakeGoogle/fake_google.py` as a child process: Google's OAuth endpoints and the
/// Directory API on a loopback port. `control` replaces parts of its state.
final class FakeGoogle: @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time.
    let folder = testFolder("google-fake")
    private(set) var port: UInt16 = 0
    private var process: Process?
    var logPath: String { folder + "/log.jsonl" }
    var url: String { "http://127.0.0.1:\(port)" }

    init() throws {
        let python = try requires(.python3)
        let portFile = folder + "/port"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [packageRoot().appendingPathComponent("Tests/GoogleSyncTests/FakeGoogle/fake_google.py").path,
                       clientID, clientSecret, portFile, logPath]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        try #require(poll(until: {
            guard let text = try? String(contentsOfFile: portFile, encoding: .utf8), let n = UInt16(text) else { return !p.isRunning }
            self.port = n
            return true
        }, deadline: .seconds(10)), "the fake Google did not start")
        #expect(p.isRunning)
    }

    deinit {
        if let p = process, p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }

    /// Replaces the state's keys given in `json`.
    func control(_ json: String) throws {
        let r = try HTTPClient().send(method: "POST", url: url + "/_control", headers: ["Content-Type": "application/json"],
                                      body: Array(json.utf8))
        #expect(r.status == 200)
    }

    /// The directory: users, groups, members.
    func setDirectory(users: [JSONValue], groups: [JSONValue] = [], members: [String: [String]] = [:], pageSize: Int = 500) throws {
        let byEmail = Dictionary(uniqueKeysWithValues: users.map { ($0["primaryEmail"]!.stringValue!, $0["id"]!.stringValue!) })
        let m: [(String, JSONValue)] = members.sorted { $0.key < $1.key }.map { gid, emails in
            (gid, .array(emails.map { Self.member(id: byEmail[$0] ?? "unknown-\($0)", email: $0) }))
        }
        let state: JSONValue = .object([("users", .array(users)), ("groups", .array(groups)), ("members", .object(m)),
                                        ("page_size", .int(Int64(pageSize)))])
        try control(String(decoding: JSONWriter.write(state), as: UTF8.self))
    }

    /// A Directory API `User` resource.
    static func user(_ id: String, _ email: String, _ given: String, _ family: String, suspended: Bool = false) -> JSONValue {
        .object([("kind", .string("admin#directory#user")), ("id", .string(id)), ("etag", .string("\"e\(id)\"")),
                 ("primaryEmail", .string(email)),
                 ("name", .object([("givenName", .string(given)), ("familyName", .string(family)), ("fullName", .string("\(given) \(family)"))])),
                 ("isAdmin", .bool(false)), ("suspended", .bool(suspended)), ("archived", .bool(false)),
                 ("emails", .array([.object([("address", .string(email)), ("primary", .bool(true))])])),
                 ("customerId", .string("C03az79cb")), ("orgUnitPath", .string("/")),
                 ("lastLoginTime", .string("2026-12-0\(Int.random(in: 1...5))T10:00:00.000Z"))])
    }

    /// A Directory API `Group` resource.
    static func group(_ id: String, _ email: String, _ name: String) -> JSONValue {
        .object([("kind", .string("admin#directory#group")), ("id", .string(id)), ("etag", .string("\"g\(id)\"")),
                 ("email", .string(email)), ("name", .string(name)), ("description", .string("")),
                 ("adminCreated", .bool(true))])
    }

    /// A Directory API `Member` resource.
    static func member(id: String, email: String, type: String = "USER") -> JSONValue {
        .object([("kind", .string("admin#directory#member")), ("etag", .string("\"m\(id)\"")), ("id", .string(id)),
                 ("email", .string(email)), ("role", .string("MEMBER")), ("type", .string(type)), ("status", .string("ACTIVE"))])
    }

    /// Every request it answered: method, path, query, status.
    func requests() -> [(method: String, path: String, query: JSONValue, status: Int)] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONParser.parse(Array(line.utf8), maxDepth: 16) else { return nil }
            return (o["method"]?.stringValue ?? "", o["path"]?.stringValue ?? "", o["query"] ?? .null, Int(o["status"]?.int64Value ?? 0))
        }
    }

    /// The Google configuration of a hub that talks to this fake.
    func configuration(poll: Duration = .seconds(600)) -> GoogleConfiguration {
        var c = GoogleConfiguration(clientID: clientID, clientSecret: clientSecret)
        c.authorizationURL = url + "/o/oauth2/v2/auth"
        c.tokenURL = url + "/token"
        c.apiBaseURL = url
        c.pollInterval = poll
        c.backoffBase = .milliseconds(20)
        c.backoffCap = .seconds(2)
        c.maxRetries = 3
        c.connectTimeout = .seconds(5)
        c.requestTimeout = .seconds(10)
        return c
    }
}

/// The webhook receiver of the webhook tests (`Tests/WebhooksTests/Receiver/receiver.py`),
/// answering `/hook` with the directory's secret.
final class Receiver: @unchecked Sendable {
    let folder = testFolder("google-receiver")
    private(set) var port: UInt16 = 0
    private var process: Process?
    static let secret = "s3cret-google"

    init() throws {
        let python = try requires(.python3)
        let config = folder + "/config.json", portFile = folder + "/port"
        _ = FileManager.default.createFile(atPath: config, contents: Data("{\"/hook\":{\"secret\":\"\(Self.secret)\",\"mode\":\"ok\"}}".utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [packageRoot().appendingPathComponent("Tests/WebhooksTests/Receiver/receiver.py").path, config,
                       folder + "/log.jsonl", portFile, "0"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        try #require(poll(until: {
            guard let text = try? String(contentsOfFile: portFile, encoding: .utf8), let n = UInt16(text) else { return !p.isRunning }
            self.port = n
            return true
        }, deadline: .seconds(10)), "the receiver did not start")
    }

    deinit {
        if let p = process, p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }

    var hookURL: String { "http://127.0.0.1:\(port)/hook" }

    /// Every event received, in arrival order, with whether its signature verified.
    func events() -> [(name: String, data: JSONValue, verified: Bool)] {
        guard let text = try? String(contentsOfFile: folder + "/log.jsonl", encoding: .utf8) else { return [] }
        var out: [(String, JSONValue, Bool)] = []
        for line in text.split(separator: "\n") {
            guard let o = try? JSONParser.parse(Array(line.utf8), maxDepth: 64), let body = o["body"]?.stringValue,
                  let b = try? JSONParser.parse(Array(body.utf8), maxDepth: 64) else { continue }
            for e in b.arrayValue ?? [b] {
                out.append((e["event"]?.stringValue ?? "", e["data"] ?? .null, o["raw_ok"] == .bool(true)))
            }
        }
        return out
    }

    /// Whether every event's signature verified with the link's secret.
    var allVerified: Bool { events().allSatisfy { $0.verified } }

    /// The event names received, in order.
    var names: [String] { events().map(\.name) }
}

/// A replica with a link (webhook to `receiver`) and a Google directory, served in process
/// by a `Hub` configured for `google` (or not), on a loopback port that is its external URL.
final class GoogleHub: @unchecked Sendable {
    let folder: String
    let path: String
    let service: SetupLinkService
    var store: ReplicaStore { service.store }
    let hub: Hub
    let port: UInt16
    var url: String { "http://127.0.0.1:\(port)" }
    let logLines = Locked<[String]>([])

    init(google: GoogleConfiguration?, folder: String = testFolder("google-hub")) throws {
        self.folder = folder
        path = folder + "/hub.sqlite"
        service = try SetupLinkService(store: try SetupLinkService.openStore(path: path), externalURL: "http://127.0.0.1:1")
        let lines = logLines
        hub = try Hub(service: service, token: .fixed("peer-token-for-tests"),
                      configuration: HTTPServerConfiguration(bindAddress: "127.0.0.1", port: 0),
                      webhooks: WebhookConfiguration(batchSize: nil, senders: 2, connectTimeout: .seconds(2), timeout: .seconds(2),
                                                     retryBase: .milliseconds(40), retryCap: .milliseconds(300),
                                                     pollInterval: .milliseconds(100)),
                      google: google, webhookLog: { line in lines.withLock { $0.append(line) } })
        port = try hub.start()
        try service.useExternalURL("http://127.0.0.1:\(port)")
    }

    deinit {
        hub.stop()
        store.close()
    }

    /// A link for acme/crm whose webhook is `url`, and a Google directory made through it.
    func googleDirectory(webhook url: String, tenant: String = "acme") throws -> (SetupLink, Directory) {
        let (link, _) = try service.createLink(tenant: tenant, product: "crm", webhookURL: url, webhookSecret: Receiver.secret)
        return (link, try service.open(link.token).createDirectory(type: .google, name: "Acme Google"))
    }

    /// The users of `directory` as the replica holds them: userName → record.
    func users(_ directory: String) throws -> [String: JSONValue] {
        let scim = ScimDirectory(id: directory, baseURL: url)
        let list = try scim.listUsers(ListRequest.fromQuery([("count", "1000")]), in: ScimReplicaReader(store: store))
        var out: [String: JSONValue] = [:]
        for u in list["Resources"]?.arrayValue ?? [] { out[u["userName"]?.stringValue ?? ""] = u }
        return out
    }

    /// The groups of `directory`: displayName → member userNames (sorted).
    func groups(_ directory: String) throws -> [String: [String]] {
        let scim = ScimDirectory(id: directory, baseURL: url)
        let reader = ScimReplicaReader(store: store)
        let list = try scim.listGroups(ListRequest.fromQuery([("count", "1000")]), in: reader)
        let users = try self.users(directory)
        let names = Dictionary(uniqueKeysWithValues: users.map { ($0.value["id"]!.stringValue!, $0.key) })
        var out: [String: [String]] = [:]
        for g in list["Resources"]?.arrayValue ?? [] {
            out[g["displayName"]?.stringValue ?? ""] = (g["members"]?.arrayValue ?? []).compactMap { names[$0["value"]?.stringValue ?? ""] }.sorted()
        }
        return out
    }

    /// The directory's Google state, as replicated.
    func state(_ directory: String) throws -> GoogleDirectoryState {
        GoogleDirectoryState(record: try #require(try store.record(id: directory)))
    }

    /// The last sync recorded here.
    func lastSync(_ directory: String) throws -> GoogleSyncStatus? { try GoogleCredentials.lastSync(store, directory) }
}

/// A browser without cookies or scripts: one request, no redirects followed.
struct Browser {
    let http = HTTPClient()

    func get(_ url: String) throws -> HTTPClientResponse { try http.send(method: "GET", url: url) }

    /// The text of a page.
    func page(_ url: String) throws -> String { String(decoding: try get(url).body, as: UTF8.self) }

    /// The setup page's "Authorize with Google" for `directory`, followed through the fake
    /// consent screen and back to the hub's callback; returns the callback's answer.
    func authorize(hub: GoogleHub, link: SetupLink, directory: String) throws -> HTTPClientResponse {
        try authorize(hubURL: hub.url, linkToken: link.token, directory: directory)
    }

    func authorize(hubURL: String, linkToken: String, directory: String) throws -> HTTPClientResponse {
        let page = try self.page(hubURL + "/setup/" + linkToken)
        let href = "?google=authorize&amp;directory=" + directory
        #expect(page.contains("href=\"\(href)\""), "the card links to Authorize with Google")
        let start = try get(hubURL + "/setup/" + linkToken + "?google=authorize&directory=" + directory)
        #expect(start.status == 303)
        let consent = try #require(start.headers["location"])
        // The browser keeps the cookie that ties the consent to it, and sends it back to the callback.
        let cookie = try #require(start.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        let back = try get(consent)
        #expect(back.status == 302, "the fake consent screen redirects back")
        let callback = try #require(back.headers["location"])
        #expect(callback.hasPrefix(hubURL + GoogleConfiguration.callbackPath + "?"))
        return try http.send(method: "GET", url: callback, headers: ["Cookie": cookie])
    }
}

/// Parses JSON text written in a test.
func json(_ text: String) -> JSONValue {
    try! JSONParser.parse(Array(text.utf8), maxDepth: 64)
}
