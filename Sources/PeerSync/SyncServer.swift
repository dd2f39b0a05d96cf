import HTTP
import Storage

/// The peer routes served alone on an `HTTPServer`: for tests, benchmarks and
/// programs that embed a peer. `setuplink serve` uses the `Hub`, which mounts
/// these routes beside the others.
public final class SyncServer: Sendable {
    /// The largest page a client may ask for.
    public static let maxPageLimit = SyncRoutes.maxPageLimit
    /// The page limit when a pull names none.
    public static let defaultPageLimit = SyncRoutes.defaultPageLimit

    /// The replica served.
    public let store: ReplicaStore
    /// The HTTP server (its connection count and buffered bytes are visible to tests).
    public let http: HTTPServer

    /// Creates a stopped server for `store`; `start()` binds it.
    ///
    /// `accessLog` receives one entry per request (time, client address,
    /// method, path, status, bytes, milliseconds; never headers, so never the token).
    public init(store: ReplicaStore, token: String,
                configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                accessLog: (@Sendable (HTTPLogEntry) -> Void)? = nil) {
        self.store = store
        http = HTTPServer(configuration: configuration, routes: [SyncRoutes(store: store, token: token)], log: accessLog)
    }

    /// Binds and starts serving; returns the bound port (useful with port 0).
    @discardableResult
    public func start() throws(HTTPServerError) -> UInt16 { try http.start() }

    /// Stops gracefully: requests in flight finish, then every connection closes.
    public func stop() { http.stop() }

    /// The bound port while running, else `nil`.
    public var port: UInt16? { http.port }
}
