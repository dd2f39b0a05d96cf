import AppAPI
import Foundation
import Glibc
import GoogleSync
import HTTP
import PeerSync
import Scim
import SetupLinks
import SetupPage
import Storage
import Synchronization
import Webhooks

/// `setuplink serve`: one HTTP(S) server for a replica, with every protocol's
/// routes mounted on it (the peer protocol, every directory's SCIM service, the
/// tenant setup page and the app API), the webhook sender, their start and graceful stop,
/// and the stop signals.
///
/// Usage from a `main`: `Hub.blockStopSignals()` first, before any thread
/// starts; then `start()`, `Hub.waitForStopSignal()`, `stop()`.
public final class Hub: Sendable {
    /// The replica served.
    public let store: ReplicaStore
    /// The server, with every route mounted.
    public let server: HTTPServer
    /// The webhook sender: delivers the replica's outbox while the hub runs.
    /// `webhooks.eventSink` is the sink SCIM routes give each accepted change's events to.
    public let webhooks: WebhookDelivery
    /// Google Workspace directories (authorization and the poller), when the hub has a Google OAuth client.
    public let google: GoogleSync?

    /// Mounts the routes for `service`'s replica on a server configured by `configuration`.
    ///
    /// `log` receives one entry per request and per connection cut off (for
    /// `serve`, a line on stderr); `webhookLog` one line per webhook attempt.
    /// Throws if the setup page's CSRF key cannot be read or stored in the replica.
    public init(service: SetupLinkService, token: PeerToken, configuration: HTTPServerConfiguration,
                webhooks: WebhookConfiguration = WebhookConfiguration(), google: GoogleConfiguration? = nil,
                log: (@Sendable (HTTPLogEntry) -> Void)? = nil, webhookLog: (@Sendable (String) -> Void)? = nil) throws {
        let store = service.store
        self.store = store
        // A local first: the SCIM routes take `delivery.eventSink` as their event sink.
        let delivery = WebhookDelivery(store: store, configuration: webhooks, log: webhookLog)
        self.webhooks = delivery
        let source = TokenSource(token, store: store)
        // Google directories write their syncs' events through the same sink as SCIM changes.
        let googleSync = google.map { GoogleSync(service: service, configuration: $0, eventSink: delivery.eventSink, log: webhookLog) }
        self.google = googleSync
        var routes: [any HTTPRoutes] = [
            SyncRoutes(store: store, maxBodyBytes: configuration.maxBodyBytes, token: { source.current() }),
            // Each accepted change's events are logged as records (the change feed) and go to
            // the webhook outbox, in the change's transaction.
            // SCIM and app API answers hold personal data: `Cache-Control: no-store` on each.
            ScimRoutes(service: service, eventSink: delivery.eventSink).notStored(),
            try SetupPageRoutes(service: service, google: googleSync),
            AppAPIRoutes(service: service).notStored(),
        ]
        if let googleSync { routes.append(GoogleCallbackRoutes(google: googleSync)) }
        let server = HTTPServer(configuration: configuration, routes: routes, log: log)
        self.server = server
        // Change feed requests that wait are checked again after every commit to the replica.
        store.addCommitObserver { server.wakeWaiting() }
    }

    /// Binds and starts serving, then starts the webhook sender; returns the bound port.
    @discardableResult
    public func start() throws(HTTPServerError) -> UInt16 {
        let port = try server.start()
        webhooks.start()
        google?.start()
        return port
    }

    /// Refuses new requests (503), lets requests in flight finish, closes every
    /// connection; then stops the webhook sender (a request it has in flight is
    /// cut off and stays pending for the next start).
    public func stop() {
        server.stop()
        google?.stop()
        webhooks.stop()
    }

    // MARK: Signals

    /// The signals that stop a hub.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM]

    /// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
    /// it starts afterwards (libmicrohttpd's included), so they stay pending
    /// for `waitForStopSignal`. Call it first thing, before any thread exists:
    /// a thread that does not block them would be killed by them instead.
    public static func blockStopSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits on the calling thread until SIGINT or SIGTERM arrives; returns it.
    public static func waitForStopSignal() -> Int32 {
        var set = signalSet()
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in stopSignals { sigaddset(&set, s) }
        return set
    }
}

/// Where the hub's peer token comes from.
public enum PeerToken: Sendable, Equatable {
    /// A fixed token (from `--token-file` or `SETUPLINK_TOKEN`).
    case fixed(String)
    /// The token stored with the replica (`serve token show|rotate`), re-read
    /// at most once a second so a rotation takes effect without a restart.
    case stored
}

/// The peer token stored with a replica: created on first serve, shown and
/// replaced by `serve token show|rotate`.
public enum StoredPeerToken {
    /// The settings key it is stored under.
    static let key = "serve-token"

    /// The stored token, or `nil` if none was ever generated.
    public static func current(_ store: ReplicaStore) throws -> String? {
        try store.settings.value(key)
    }

    /// The stored token, generating and storing one first if there is none;
    /// `generated` says which.
    public static func ensure(_ store: ReplicaStore) throws -> (token: String, generated: Bool) {
        if let token = try current(store) { return (token, false) }
        return (try rotate(store), true)
    }

    /// Replaces the stored token with a new one from the CSPRNG and returns it.
    /// The old token stops working (a running hub notices within a second).
    public static func rotate(_ store: ReplicaStore) throws -> String {
        let token = Secrets.linkToken()
        try store.settings.set(key, to: token)
        return token
    }
}

/// The token the peer routes compare against, cached for a second when it
/// comes from the replica (reading it is an SQLite query).
final class TokenSource: Sendable {
    private let fixed: String?
    private let store: ReplicaStore
    private let cache = Mutex<(token: String, read: ContinuousClock.Instant)?>(nil)

    init(_ token: PeerToken, store: ReplicaStore) {
        if case .fixed(let t) = token { fixed = t } else { fixed = nil }
        self.store = store
    }

    /// The token in force; empty (refusing every sync request) if none can be read.
    func current() -> String {
        if let fixed { return fixed }
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0 }), now - cached.read < .seconds(1) { return cached.token }
        let token = (try? StoredPeerToken.current(store)) ?? nil
        cache.withLock { $0 = (token ?? "", now) }
        return token ?? ""
    }
}
