import Foundation
import HTTP
import Events
import JSON
import Replica
import Scim
import SetupLinks
import Storage
import Synchronization
import Webhooks

/// Seconds since an arbitrary point, monotonic.
func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// A receiver that answers `200 ok` at once and counts requests: libmicrohttpd in this process.
final class BenchReceiver: Sendable {
    let server: HTTPServer
    let port: UInt16

    init() throws {
        let counter = Counter()
        server = HTTPServer(configuration: HTTPServerConfiguration(bindAddress: "127.0.0.1", port: 0), routes: [Answer(counter: counter)])
        port = try server.start()
        self.counter = counter
    }

    private let counter: Counter
    var count: Int { counter.value.load(ordering: .relaxed) }
    func stop() { server.stop() }

    final class Counter: Sendable { let value = Atomic<Int>(0) }

    struct Answer: HTTPRoutes {
        let counter: Counter
        func handles(_ head: HTTPHead) -> Bool { true }
        func admit(_ head: HTTPHead) -> Admission { .accept(maxBodyBytes: 64 * 1024 * 1024) }
        func respond(_ request: HTTPRequest) -> HTTPResponse {
            counter.value.add(1, ordering: .relaxed)
            return .text("ok")
        }
        func loggedPath(_ head: HTTPHead) -> String { head.path }
    }
}

enum Workloads {
    /// A replica at `folder` with `count` links and one Okta directory each, webhooks at `url(i)`.
    static func replica(_ folder: String, directories count: Int, url: (Int) -> String) throws -> (SetupLinkService, [Directory]) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let service = try SetupLinkService(store: try SetupLinkService.openStore(path: folder + "/bench.sqlite"))
        var ds: [Directory] = []
        for i in 0..<count {
            let (link, _) = try service.createLink(tenant: "tenant\(i)", product: "crm", webhookURL: url(i), webhookSecret: "secret-\(i)")
            ds.append(try service.open(link.token).createDirectory(type: .okta))
        }
        return (service, ds)
    }

    /// An Okta-shaped user.
    static func user(_ i: Int) -> JSONValue {
        try! JSONParser.parse(Array("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user\(i)@example.com",
             "name":{"givenName":"Given\(i)","familyName":"Family\(i)"},
             "emails":[{"primary":true,"value":"user\(i)@example.com","type":"work"}],
             "displayName":"Given\(i) Family\(i)","locale":"en-US","externalId":"00u\(i)","groups":[],"active":true}
            """.utf8), maxDepth: 32)
    }

    /// SCIM creates per second without and with the outbox sink, each create one
    /// `store.write` as the SCIM routes run it (the directory read in the transaction
    /// first, as the routes check it there). The two variants run on two fresh
    /// replica files in alternating chunks of 50 creates, so a busy machine slows
    /// both alike.
    static func scimCreates(_ n: Int, folder: String) throws -> (plain: Double, outbox: Double) {
        let sink = Outbox.sink(waking: nil)
        var replicas: [(SetupLinkService, Directory, ScimDirectory)] = []
        for variant in ["plain", "outbox"] {
            let (service, ds) = try replica(folder + "/" + variant, directories: 1) { _ in "http://127.0.0.1:9/hook" }
            replicas.append((service, ds[0], ScimDirectory(id: ds[0].id, baseURL: "https://hub.example/api/scim/v2.0/\(ds[0].id)")))
        }
        defer { for r in replicas { r.0.store.close() } }
        let bodies = (0..<n).map(user)
        var elapsed = [0.0, 0.0]
        var done = 0
        while done < n {
            let chunk = min(50, n - done)
            for v in (done / 50) % 2 == 0 ? [0, 1] : [1, 0] {
                let (service, d, flows) = replicas[v]
                let store = service.store
                let start = seconds()
                for body in bodies[done..<(done + chunk)] {
                    try store.write { tx in
                        guard let r = try tx.record(d.id), r.isLive else { fail("the directory is gone") }
                        let out = try flows.createUser(body, in: ScimReplicaTransaction(store: store, tx: tx))
                        if v == 1 { try sink(tx, out.events) }
                    }
                }
                elapsed[v] += seconds() - start
            }
            done += chunk
        }
        for (v, expected) in [(0, 0), (1, n)] {
            let pending = try replicas[v].0.store.outbox.pendingCount()
            guard pending == expected else { fail("expected \(expected) events in the outbox, found \(pending)") }
        }
        return (Double(n) / elapsed[0], Double(n) / elapsed[1])
    }

    /// Delivers `n` events spread over `directories` from a full outbox; events per second and requests made.
    static func delivery(_ n: Int, directories: Int, batch: Int?, receiver: BenchReceiver,
                         folder: String) throws -> (perSecond: Double, requests: Int) {
        let (service, ds) = try replica(folder, directories: directories) { "http://127.0.0.1:\(receiver.port)/hook/\($0)" }
        defer { service.store.close() }
        let store = service.store
        var i = 0
        while i < n {
            try store.write { tx in
                for _ in 0..<min(500, n - i) {
                    let d = ds[i % ds.count]
                    let data = EventData.user(user(i))
                    let body = EventPayload.event("user.created", tenant: d.tenant, product: d.product, directoryID: d.id, data: data)
                    try tx.enqueueEvent(directory: d.id, event: "user.created", body: body)
                    i += 1
                }
            }
        }
        let before = receiver.count
        let delivery = WebhookDelivery(store: store, configuration: WebhookConfiguration(batchSize: batch))
        let start = seconds()
        delivery.start()
        while try store.outbox.pendingCount() > 0 { usleep(5_000) }
        let elapsed = seconds() - start
        delivery.stop()
        let counts = try store.outbox.counts()
        guard counts.delivered == n else { fail("expected \(n) delivered events, found \(counts)") }
        return (Double(n) / elapsed, receiver.count - before)
    }

    /// WAL frames (pages) each SCIM create writes at its commit, without and with the
    /// outbox: the deterministic part of the enqueue's cost (each frame is a page
    /// written to the WAL file). Measured on 600 creates after 100, well before a
    /// checkpoint could restart the WAL.
    static func walFrames(folder: String) throws -> (plain: Double, outbox: Double) {
        var out: [Double] = []
        for variant in [false, true] {
            let dir = folder + "/wal-\(variant)"
            let (service, ds) = try replica(dir, directories: 1) { _ in "http://127.0.0.1:9/hook" }
            defer { service.store.close() }
            let store = service.store
            let d = ds[0]
            let flows = ScimDirectory(id: d.id, baseURL: "https://hub.example/api/scim/v2.0/\(d.id)")
            let sink = Outbox.sink(waking: nil)
            func create(_ i: Int) throws {
                try store.write { tx in
                    let o = try flows.createUser(user(i), in: ScimReplicaTransaction(store: store, tx: tx))
                    if variant { try sink(tx, o.events) }
                }
            }
            func walBytes() -> Int {
                ((try? FileManager.default.attributesOfItem(atPath: dir + "/bench.sqlite-wal"))?[.size] as? Int) ?? 0
            }
            for i in 0..<100 { try create(i) }
            let before = walBytes()
            for i in 100..<700 { try create(i) }
            // A frame is a 24-byte header and a 4096-byte page.
            out.append(Double(walBytes() - before) / 600 / 4120)
        }
        return (out[0], out[1])
    }
}
