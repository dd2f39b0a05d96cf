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
    /// The loops that keep the followed peers in sync while the hub runs.
    public let follower: PeerFollower
    /// The metrics counted while the hub runs (served at `/metrics` with a metrics token).
    public let metrics: HubMetrics
    /// Google Workspace directories (authorization and the poller), when the hub has a Google OAuth client.
    public let google: GoogleSync?

    /// Mounts the routes for `service`'s replica on a server configured by `configuration`.
    ///
    /// `log` receives one entry per request and per connection cut off (for
    /// `serve`, a line on stderr); `webhookLog` one line per webhook attempt.
    /// Throws if the setup page's CSRF key cannot be read or stored in the replica.
    ///
    /// `follow` names peers to follow beside those marked (`serve --follow`); `followOptions`
    /// times the follow loops; `followLog` gets their lines. `metricsToken` serves `/metrics`
    /// behind that bearer token (no `/metrics` without it).
    public init(service: SetupLinkService, token: PeerToken, configuration: HTTPServerConfiguration,
                webhooks: WebhookConfiguration = WebhookConfiguration(), google: GoogleConfiguration? = nil,
                follow: Set<String> = [], followOptions: PeerFollower.Options = PeerFollower.Options(),
                metricsToken: String? = nil,
                log: (@Sendable (HTTPLogEntry) -> Void)? = nil, webhookLog: (@Sendable (String) -> Void)? = nil,
                followLog: (@Sendable (String) -> Void)? = nil) throws {
        let store = service.store
        self.store = store
        // A local first: the SCIM routes take `delivery.eventSink` as their event sink.
        let delivery = WebhookDelivery(store: store, configuration: webhooks, log: webhookLog)
        self.webhooks = delivery
        let metrics = HubMetrics()
        self.metrics = metrics
        let authenticator = PeerAuthenticator(defaultToken: TokenSource(token, store: store), store: store)
        // Google directories write their syncs' events through the same sink as SCIM changes.
        let googleSync = google.map { GoogleSync(service: service, configuration: $0, eventSink: delivery.eventSink, log: webhookLog) }
        self.google = googleSync
        var routes: [any HTTPRoutes] = [
            SyncRoutes(store: store, maxBodyBytes: configuration.maxBodyBytes, authenticate: { authenticator.authenticate($0) }),
            // Each accepted change's events are logged as records (the change feed) and go to
            // the webhook outbox, in the change's transaction.
            // SCIM and app API answers hold personal data: `Cache-Control: no-store` on each.
            ScimRoutes(service: service, eventSink: metrics.counting(delivery.eventSink)).notStored(),
            try SetupPageRoutes(service: service, google: googleSync),
            AppAPIRoutes(service: service).notStored(),
        ]
        if let googleSync { routes.append(GoogleCallbackRoutes(google: googleSync)) }
        if let metricsToken { routes.append(MetricsRoutes(metrics: metrics, store: store, token: metricsToken)) }
        let server = HTTPServer(configuration: configuration, routes: routes, log: { entry in
            metrics.observe(entry)
            log?(entry)
        })
        self.server = server
        follower = PeerFollower(store: store, named: follow, options: followOptions, log: followLog)
        // Change feed requests that wait are checked again after every commit to the replica.
        store.addCommitObserver { server.wakeWaiting() }
    }

    /// Binds and starts serving, then starts the webhook sender; returns the bound port.
    @discardableResult
    public func start() throws(HTTPServerError) -> UInt16 {
        let port = try server.start()
        webhooks.start()
        follower.start()
        google?.start()
        return port
    }

    /// Refuses new requests (503), lets requests in flight finish, closes every
    /// connection; then stops the webhook sender (a request it has in flight is
    /// cut off and stays pending for the next start).
    public func stop() {
        follower.stop()
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
    /// The old token stops working (a running hub notices within a second); a
    /// revoked default credential works again, with the new token.
    public static func rotate(_ store: ReplicaStore) throws -> String {
        let token = Secrets.linkToken()
        try store.settings.set(key, to: token)
        try store.settings.set(revokedKey, to: nil)
        return token
    }

    /// The settings key that marks the default credential revoked.
    static let revokedKey = "serve-token-revoked"

    /// Whether the default credential is revoked (`serve peer-token revoke default`).
    public static func isRevoked(_ store: ReplicaStore) throws -> Bool { try store.settings.value(revokedKey) != nil }

    /// Revokes the default credential: the serve token, stored or given in a file, is
    /// refused until `serve token rotate`.
    public static func revoke(_ store: ReplicaStore) throws { try store.settings.set(revokedKey, to: "1") }
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

    /// The token in force; empty (refusing it) if none can be read or the default
    /// credential is revoked.
    func current() -> String {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0 }), now - cached.read < .seconds(1) { return cached.token }
        let revoked = (try? StoredPeerToken.isRevoked(store)) ?? false
        let token = revoked ? nil : (fixed ?? ((try? StoredPeerToken.current(store)) ?? nil))
        cache.withLock { $0 = (token ?? "", now) }
        return token ?? ""
    }
}
