import CMicroHTTPD
import Foundation
import Glibc
import Synchronization

/// An HTTP/1.1 server (HTTPS with `TLSIdentity`) on libmicrohttpd: an epoll
/// thread pool, connection limits, and two-phase routes (`HTTPRoutes`).
///
/// What it guarantees, whatever clients send:
/// - a route sees a request's head before a byte of its body is read, and a
///   refusal (401, 405, 413) is sent without reading the body and without a
///   `100 Continue`;
/// - a body is never buffered past the admitted limit: a `Content-Length` over
///   it is refused at once, and a chunked body is counted as it arrives;
/// - headers, bodies and answers each have a total deadline (see
///   `HTTPServerConfiguration`), so a client trickling bytes cannot hold a
///   connection; idle connections cost a descriptor and a little memory, not a thread;
/// - one log entry per answered request (time, client address, method, the
///   route's logged path, status, bytes, milliseconds; never headers or bodies).
///
/// Call `stop()` before dropping a started server.
public final class HTTPServer: Sendable {
    private let core: ServerCore
    private let state = Mutex(State())

    private enum Phase { case created, starting, running, stopped }

    private struct State {
        var phase = Phase.created
        var handle: DaemonHandle?
        var port: UInt16?
    }

    /// The running daemon and the C memory it reads until it stops.
    private struct DaemonHandle: @unchecked Sendable {
        // @unchecked Sendable: the pointers are handed from start() to stop()
        // under the state lock and used by one of them at a time; libmicrohttpd's
        // own calls on the daemon are thread-safe.
        let daemon: OpaquePointer
        /// The listening socket (this server's: `stop()` closes it once the acceptor has ended).
        let listener: Int32
        /// The thread accepting connections on `listener`.
        let acceptor: Acceptor
        let options: UnsafeMutablePointer<MHD_OptionItem>
        let pems: [UnsafeMutablePointer<CChar>]
    }

    /// Creates a stopped server for `routes` (asked in order); `start()` binds it.
    ///
    /// `log` receives one entry per answered request and per connection the
    /// server cuts off, on the server's threads.
    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), routes: [any HTTPRoutes],
                log: (@Sendable (HTTPLogEntry) -> Void)? = nil) {
        core = ServerCore(configuration: configuration, routes: routes, log: log ?? { _ in })
    }

    /// The bound port while running, else `nil`.
    public var port: UInt16? { state.withLock { $0.phase == .running ? $0.port : nil } }

    /// Whether the server speaks HTTPS.
    public var isTLS: Bool { core.configuration.tls != nil }

    /// Open client connections (any phase).
    public var connectionCount: Int { core.registry.count }

    /// Requests waiting for their answer (`LongPoll`) right now.
    public var waitingCount: Int { core.waiting.count }

    /// Checks every waiting request (`LongPoll`) again now: call it when something
    /// they wait for may have happened (a hub calls it after each commit to its replica).
    /// Cheap and non-blocking: safe to call with a store's lock held.
    public func wakeWaiting() { core.waiting.wake() }

    /// Bytes of request bodies received and not yet handed to a route, across all connections.
    public var bufferedBodyBytes: Int { core.bufferedBodyBytes.load(ordering: .relaxed) }

    /// Binds, starts libmicrohttpd's threads, and returns the bound port.
    @discardableResult
    public func start() throws(HTTPServerError) -> UInt16 {
        let c = core.configuration
        if let problem = c.problem() { throw .invalidConfiguration(problem) }
        let claimed = state.withLock { s -> Bool in
            guard s.phase == .created else { return false }
            s.phase = .starting
            return true
        }
        guard claimed else { throw .alreadyStarted }
        do throws(HTTPServerError) {
            return try startDaemon()
        } catch {
            state.withLock { $0.phase = .stopped }
            throw error
        }
    }

    private func startDaemon() throws(HTTPServerError) -> UInt16 {
        let c = core.configuration
        if c.tls != nil, MHD_is_feature_supported(.FEATURE_TLS) != MHD_YES_RESULT {
            throw .cannotStart("this libmicrohttpd was built without TLS support")
        }
        Self.prepareProcess(connections: c.maxConnections)
        let listener = try ListeningSocket.open(address: c.bindAddress, port: c.port)

        // Options, and the PEM strings they point to, live until stop().
        var pems: [UnsafeMutablePointer<CChar>] = []
        var items: [MHD_OptionItem] = [
            setuplink_mhd_option_uint(.THREAD_POOL_SIZE, UInt32(c.threads)),
            setuplink_mhd_option_uint(.CONNECTION_LIMIT, UInt32(c.maxConnections)),
            setuplink_mhd_option_uint(.PER_IP_CONNECTION_LIMIT, UInt32(c.maxConnectionsPerIP)),
            setuplink_mhd_option_size(.CONNECTION_MEMORY_LIMIT, c.connectionMemoryLimit),
            setuplink_mhd_option_uint(.CONNECTION_TIMEOUT, UInt32(max(1, c.idleTimeout.seconds.rounded(.up)))),
            setuplink_mhd_option_raw_urls(),
        ]
        let cls = Unmanaged.passRetained(core).toOpaque()
        items.append(setuplink_mhd_option_completed(httpRequestCompleted, cls))
        items.append(setuplink_mhd_option_notify_connection(httpConnectionNotified, cls))
        if let tls = c.tls {
            let key = strdup(tls.privateKeyPEM)!, certificate = strdup(tls.certificatePEM)!
            let priority = strdup(c.tlsPriority)!
            pems = [key, certificate, priority]
            items.append(setuplink_mhd_option_pointer(.HTTPS_MEM_KEY, key))
            items.append(setuplink_mhd_option_pointer(.HTTPS_MEM_CERT, certificate))
            // Which versions and suites GnuTLS accepts (libmicrohttpd's own default, "NORMAL",
            // accepts TLS 1.0 and 1.1 and, in 1.2, static-RSA and CBC suites).
            items.append(setuplink_mhd_option_pointer(.HTTPS_PRIORITIES, priority))
        }
        items.append(setuplink_mhd_option_end())
        let options = UnsafeMutablePointer<MHD_OptionItem>.allocate(capacity: items.count)
        options.initialize(from: items, count: items.count)

        // Connections are accepted here (`Acceptor`) and handed to the workers with
        // MHD_add_connection, which spreads them evenly (by descriptor). Left to
        // accept on their own, the workers take new connections in series: one
        // worker took 7 of 8 clients that connected at once, and a route that
        // waits (a SCIM change in the group commit) held the other 6 behind it.
        // Suspend and resume: a long poll (`LongPoll`) waits parked, not on a worker.
        var flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue | MHD_USE_ITC.rawValue
            | MHD_USE_NO_LISTEN_SOCKET.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
        if c.tls != nil { flags |= MHD_USE_TLS.rawValue }
        if listener.ipv6 { flags |= MHD_USE_IPv6.rawValue }
        core.registry.startSweeper()
        core.waiting.start()
        guard let daemon = setuplink_mhd_start(UInt32(flags), listener.port, httpAccessHandler, cls, options) else {
            core.registry.stopSweeper()
            core.waiting.close()
            Unmanaged<ServerCore>.fromOpaque(cls).release()
            options.deallocate()
            pems.forEach { free($0) }
            close(listener.fd)
            throw .cannotStart(c.tls == nil ? "libmicrohttpd refused the configuration"
                               : c.tlsPriority != HTTPServerConfiguration.defaultTLSPriority
                               ? "libmicrohttpd refused the TLS priority string \(c.tlsPriority) or the certificate or key (is the string valid for GnuTLS, do the certificate and key match?)"
                               : "libmicrohttpd refused the TLS certificate or key (do they match, and is the key unencrypted PEM?)")
        }
        let acceptor = Acceptor(listener: listener.fd, daemon: daemon, core: core)
        let handle = DaemonHandle(daemon: daemon, listener: listener.fd, acceptor: acceptor, options: options, pems: pems)
        state.withLock { s in
            s.phase = .running
            s.handle = handle
            s.port = listener.port
        }
        return listener.port
    }

    /// Stops the server: new requests are answered 503 and closed; requests in
    /// flight finish (up to `stopGracePeriod`) and are answered with
    /// `Connection: close`; then the listening socket and every connection
    /// close. Safe to call twice; never call it from a route.
    public func stop() {
        let running = state.withLock { s -> DaemonHandle? in
            defer { s.phase = .stopped; s.handle = nil }
            return s.phase == .running ? s.handle : nil
        }
        guard let running else { return }
        let daemon = running.daemon
        // New requests are refused (503) from now on; what is in flight may finish.
        // Not MHD_quiesce_daemon: with epoll worker threads it races with the
        // workers' own removal of the listening socket from their epoll sets, and
        // the loser's epoll_ctl failure aborts the process (MHD_PANIC).
        core.stopping.store(true, ordering: .relaxed)
        // Parked long polls are answered now (and none is parked from now on): libmicrohttpd
        // must not be stopped with a suspended connection.
        core.waiting.close()
        let deadline = ContinuousClock.now + core.configuration.stopGracePeriod
        while core.registry.busy > 0 && ContinuousClock.now < deadline { usleep(2_000) }
        // Then no new connection (the acceptor's accept fails once the socket is shut
        // down, and it ends), and every open one cut off and closed by libmicrohttpd
        // before MHD_stop_daemon runs: see ConnectionRegistry.drain for the crash this avoids.
        shutdown(running.listener, Int32(SHUT_RDWR))
        running.acceptor.join()
        close(running.listener)
        _ = core.registry.drain(timeout: .seconds(2))
        MHD_stop_daemon(daemon)
        core.registry.stopSweeper()
        Unmanaged.passUnretained(core).release()
        running.options.deallocate()
        running.pems.forEach { free($0) }
    }

    /// Process-wide settings a server needs: SIGPIPE ignored (a client that
    /// goes away must not kill the process) and enough descriptors.
    private static func prepareProcess(connections: Int) {
        signal(SIGPIPE, SIG_IGN)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = rlim_t(connections + 256)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}

/// `MHD_YES` as the imported `MHD_Result` (the macro does not import).
let MHD_YES_RESULT = MHD_Result(rawValue: 1)!

/// What the C callbacks need, reached through libmicrohttpd's `cls` pointer.
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let routes: [any HTTPRoutes]
    let log: @Sendable (HTTPLogEntry) -> Void
    let registry: ConnectionRegistry
    /// Set by `stop()`: answers close their connection.
    let stopping = Atomic(false)
    /// Request body bytes held in memory right now.
    let bufferedBodyBytes = Atomic(0)
    /// Parked long polls.
    let waiting = WaitingRoom()
    /// The memory budget for request bodies.
    let budget: BodyBudget

    init(configuration: HTTPServerConfiguration, routes: [any HTTPRoutes], log: @escaping @Sendable (HTTPLogEntry) -> Void) {
        self.configuration = configuration
        self.routes = routes
        self.log = log
        self.registry = ConnectionRegistry(configuration: configuration, log: log)
        self.budget = BodyBudget(total: configuration.maxBufferedBodyBytes, perAddress: configuration.maxBufferedBodyBytesPerAddress,
                                 smallBody: configuration.smallBodyBytes)
    }
}

/// The thread that accepts connections on the listening socket and hands each
/// to libmicrohttpd (`MHD_add_connection`, which picks a worker by descriptor
/// and applies the connection limits, closing what it refuses).
final class Acceptor: @unchecked Sendable {
    // @unchecked Sendable: `done` is a semaphore; the descriptor and daemon pointer
    // are only read, and the daemon outlives this thread (stop() joins it first).
    private let done = DispatchSemaphore(value: 0)

    init(listener: Int32, daemon: OpaquePointer, core: ServerCore) {
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(daemon)))
        let thread = Thread { [done] in
            Acceptor.run(listener: listener, daemon: OpaquePointer(bitPattern: address)!, core: core)
            done.signal()
        }
        thread.name = "setuplink-accept"
        thread.start()
    }

    /// Waits for the thread to end (after the listening socket was shut down).
    func join() { done.wait() }

    private static func run(listener: Int32, daemon: OpaquePointer, core: ServerCore) {
        let limit = core.configuration.maxConnections
        var handedOver = 0
        while true {
            // At the connection limit, further clients wait in the listen backlog (not
            // accepted and closed) until a connection closes. A connection handed over is
            // counted by the registry only once its worker has taken it: until then it
            // counts as pending.
            var waitingSince: ContinuousClock.Instant?
            while true {
                let started = core.registry.startedTotal.load(ordering: .relaxed)
                if core.registry.count + max(0, handedOver - started) < limit { break }
                if core.stopping.load(ordering: .relaxed) { return }
                let now = ContinuousClock.now
                // One that libmicrohttpd dropped before starting it (out of memory) is never
                // reported: after a second at the limit, stop counting it.
                if let since = waitingSince, now - since > .seconds(1) { handedOver = started }
                if waitingSince == nil { waitingSince = now }
                usleep(2_000)
            }
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            if fd < 0 {
                switch errno {
                // A connection that went away before it was accepted, or a signal.
                case EINTR, ECONNABORTED, EPROTO, EPERM: continue
                // Out of descriptors or memory: wait a little instead of spinning; the
                // connection waits in the backlog.
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    usleep(10_000)
                    continue
                // The socket was shut down (stop) or closed.
                default: return
                }
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            // libmicrohttpd owns the descriptor from here, and closes it if it refuses it.
            let added = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { MHD_add_connection(daemon, fd, $0, length) }
            }
            if added == MHD_YES_RESULT { handedOver += 1 }
        }
    }
}
