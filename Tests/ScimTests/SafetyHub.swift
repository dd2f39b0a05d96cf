import Foundation
import HTTP
import Hub
import JSON
import PeerSync
import Scim
import SetupLinks
import Storage
import Testing
import TestSupport
import Webhooks

/// A real `Hub` (every route `serve` mounts, on port 0) over a replica holding
/// 10,000 records, for the attack tests of issue 26: while an attack runs, the
/// hub's other clients must still be served (`expectOthersServed`).
final class SafetyHub: Sendable {
    let store: ReplicaStore
    let service: SetupLinkService
    let hub: Hub
    let port: UInt16
    let log = Locked<[String]>([])
    static let peerToken = "peer-secret-for-safety-tests"
    /// Records written before the hub starts, which a sync must bring.
    static let bulk = 10_000

    init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(port: 0),
         webhooks: WebhookConfiguration = WebhookConfiguration()) throws {
        let dir = testFolderPath("safety-hub")
        store = try SetupLinkService.openStore(path: dir + "/hub.sqlite")
        service = try SetupLinkService(store: store, externalURL: "https://hub.example.test")
        try store.write { tx in
            for i in 0..<Self.bulk {
                // Records every replica's rules accept (a laptop refuses a malformed link).
                let hex = String(i, radix: 16)
                _ = try tx.write(id: SetupLinkService.linkID(tenant: "bulk\(i)", product: "p"), kind: .link,
                                 ["tenant": "bulk\(i)", "product": "p",
                                  "token": String(repeating: "0", count: 48 - hex.count) + hex])
            }
        }
        let log = self.log
        hub = try Hub(service: service, token: .fixed(Self.peerToken), configuration: configuration, webhooks: webhooks,
                      log: { entry in log.withLock { $0.append(entry.description) } })
        port = try hub.start()
    }

    deinit {
        hub.stop()
        store.close()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// A directory made through a setup link, as a tenant would.
    func directory(tenant: String = "acme", webhook: String = "https://hooks.example.com/x") throws -> Directory {
        let (link, _) = try service.createLink(tenant: tenant, product: "crm", webhookURL: webhook, webhookSecret: "s3cret-s3cret")
        return try service.open(link.token).createDirectory(type: .okta)
    }

    /// A SCIM client of `d` on this hub.
    func scim(_ d: Directory) -> ScimClient { ScimClient(base: url + d.scimPath, token: d.scimToken) }

    /// `/healthz` answers, and a laptop with an empty replica syncs every record (the
    /// 10,000 and whatever the test made) and converges. Asserts completion, never time.
    func expectOthersServed(sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let health = try HTTPClient(timeout: .seconds(60)).send(method: "GET", url: url + "/healthz")
            #expect(health.status == 200, "healthz answered", sourceLocation: sourceLocation)
            let laptop = try SetupLinkService.openStore(path: testFolderPath("safety-laptop") + "/laptop.sqlite")
            defer { laptop.close() }
            let report = try SyncClient().sync(store: laptop, url: url, token: Self.peerToken, peerName: nil, progress: nil)
            #expect(report.pulled >= Self.bulk, "the sync brought every record", sourceLocation: sourceLocation)
            #expect(try laptop.counts().links >= Self.bulk, sourceLocation: sourceLocation)
        } catch {
            Issue.record("the hub's other clients were not served: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Runs `attack` on `threads` threads until `body` returns, then waits for them.
    func whileAttacking(threads: Int = 4, _ attack: @escaping @Sendable (_ stop: @Sendable () -> Bool) -> Void,
                        _ body: () throws -> Void) rethrows {
        let stop = Locked(false)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            Thread {
                attack { stop.withLock { $0 } }
                done.signal()
            }.start()
        }
        defer {
            stop.withLock { $0 = true }
            for _ in 0..<threads { done.wait() }
        }
        try body()
    }
}
