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
            // Room above the limit the acceptor keeps: connections cut off to make room close a
            // moment after the one they made room for is handed over.
            setuplink_mhd_option_uint(.CONNECTION_LIMIT, UInt32(c.maxConnections + 256)),
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
/// to libmicrohttpd (`MHD_add_connection`, which picks a worker by descriptor).
///
/// Before handing a connection over it decides:
/// - whether the client's address may have one more: not over
///   `maxConnectionsPerIP`, and once fewer than `reservedConnections` slots are
///   left, not if it already holds `fairShareConnections` (closed at once: the
///   reserve stays for other addresses);
/// - at `maxConnections`, whether an idle connection (or one whose answers are
///   not read) can be closed to make room: of the address holding the most, the
///   longest idle first (`ConnectionRegistry.evictOne`); if none can, new
///   clients wait in the listen backlog;
/// - its first request's head, when it arrives within `greetingWait`: a
///   `Content-Length` libmicrohttpd 0.9.75 cannot parse is answered here, once
///   (libmicrohttpd itself sends its status line and headers twice).
final class Acceptor: @unchecked Sendable {
    // @unchecked Sendable: `done` is a semaphore; the descriptor and daemon pointer
    // are only read, and the daemon outlives this thread (stop() joins it first).
    private let done = DispatchSemaphore(value: 0)

    /// How long a new connection may take to send its first bytes before it is handed over anyway.
    static let greetingWait: Duration = .milliseconds(100)

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

    /// A connection accepted and not yet handed over.
    private struct Pending {
        var address: sockaddr_storage
        var length: socklen_t
        var host: String
        var deadline: ContinuousClock.Instant
    }

    private static func run(listener: Int32, daemon: OpaquePointer, core: ServerCore) {
        let c = core.configuration
        let limit = c.maxConnections
        // Non-blocking: the loop polls it with the waiting connections, and accepts until EAGAIN.
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        var handedOver = 0
        var pending: [Int32: Pending] = [:]
        var pendingByHost: [String: Int] = [:]
        var fullSince: ContinuousClock.Instant?
        defer { for fd in pending.keys { close(fd) } }

        func handOver(_ fd: Int32) {
            guard var p = pending.removeValue(forKey: fd) else { return }
            pendingByHost[p.host, default: 1] -= 1
            if pendingByHost[p.host] == 0 { pendingByHost[p.host] = nil }
            if greet(fd, host: p.host, core: core) {
                // Counted before it is handed over: libmicrohttpd may start and close it at once.
                core.registry.handedOver(host: p.host)
                // libmicrohttpd owns the descriptor from here, and closes it if it refuses it.
                let added = withUnsafePointer(to: &p.address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { MHD_add_connection(daemon, fd, $0, p.length) }
                }
                if added == MHD_YES_RESULT { handedOver += 1 } else { core.registry.refused(host: p.host) }
            }
        }

        while true {
            if core.stopping.load(ordering: .relaxed) && pending.isEmpty && fullSince != nil { return }
            // Open connections: those libmicrohttpd reported (less the ones cut off, about to
            // close), those handed over and not yet reported, and those waiting here.
            let started = core.registry.startedTotal.load(ordering: .relaxed)
            let now = ContinuousClock.now
            var open = core.registry.live + max(0, handedOver - started) + pending.count
            // Full: room is made for a client that is waiting, never ahead of one.
            if open >= limit, Self.isWaiting(listener), core.registry.evictOne() { open -= 1 }
            let accepting = open < limit
            if accepting {
                fullSince = nil
            } else {
                // One that libmicrohttpd dropped before starting it (out of memory) is never
                // reported: after a second at the limit, stop counting it.
                if let since = fullSince, now - since > .seconds(1) { handedOver = started }
                if fullSince == nil { fullSince = now }
            }

            var fds = [pollfd]()
            fds.reserveCapacity(pending.count + 1)
            if accepting { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            var wait = accepting ? -1 : 2
            for (fd, p) in pending {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                let ms = max(0, Int((p.deadline - now) / .milliseconds(1)) + 1)
                wait = wait < 0 ? ms : min(wait, ms)
            }
            let ready = poll(&fds, nfds_t(fds.count), Int32(wait))
            if ready < 0 && errno != EINTR { return }

            let later = ContinuousClock.now
            for p in fds where p.fd != listener {
                if p.revents != 0 || (pending[p.fd].map { $0.deadline <= later } ?? false) { handOver(p.fd) }
            }
            guard accepting, let first = fds.first, first.fd == listener, first.revents != 0 else { continue }
            if first.revents & Int16(POLLNVAL | POLLERR) != 0 { return }
            // Accept what waits, up to the limit.
            while open < limit {
                var address = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let fd = withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
                }
                if fd < 0 {
                    switch errno {
                    case EAGAIN, EWOULDBLOCK: break
                    // A connection that went away before it was accepted, or a signal.
                    case EINTR, ECONNABORTED, EPROTO, EPERM: continue
                    // Out of descriptors or memory: wait a little; the connection waits in the backlog.
                    case EMFILE, ENFILE, ENOBUFS, ENOMEM: usleep(10_000)
                    // The socket was shut down (stop) or closed.
                    default: return
                    }
                    break
                }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                let host = withUnsafePointer(to: &address) { Self.host(of: $0) }
                let held = core.registry.count(host: host) + pendingByHost[host, default: 0]
                if c.maxConnectionsPerIP > 0 && held >= c.maxConnectionsPerIP
                    || open >= limit - min(c.reservedConnections, limit / 8) && held >= c.fairShareConnections {
                    // Refused: the slots left are for other addresses.
                    close(fd)
                    continue
                }
                pending[fd] = Pending(address: address, length: length, host: host, deadline: ContinuousClock.now + greetingWait)
                pendingByHost[host, default: 0] += 1
                open += 1
            }
        }
    }

    /// Whether a client waits in the listen backlog.
    private static func isWaiting(_ listener: Int32) -> Bool {
        var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents & Int16(POLLIN) != 0
    }

    /// The host of a client's socket address (no port), as the registry records it.
    private static func host(of address: UnsafePointer<sockaddr_storage>) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(address.pointee.ss_family)
        let ok: Bool = address.withMemoryRebound(to: UInt8.self, capacity: MemoryLayout<sockaddr_storage>.size) { raw in
            if family == AF_INET {
                return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    var a = v4.pointee.sin_addr
                    return inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count)) != nil
                }
            }
            if family == AF_INET6 {
                return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    var a = v6.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count)) != nil
                }
            }
            return false
        }
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "-"
    }

    /// Looks at the first request's head if it has arrived (without taking it from the
    /// socket): returns whether to hand the connection over. A `Content-Length` that
    /// libmicrohttpd cannot parse is answered here (400, or 413 past 2^63) and the
    /// connection closed; a connection that ended before sending anything is closed.
    static func greet(_ fd: Int32, host: String, core: ServerCore) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) }
        if n == 0 {
            close(fd)
            return false
        }
        guard n > 0, buffer[0] != 0x16 else { return true }  // nothing yet, or TLS: libmicrohttpd's
        guard let problem = contentLengthProblem(buffer[0..<n]) else { return true }
        let body = Array(#"{"error":"\#(problem.message)"}"#.utf8)
        let reason = problem.status == 413 ? "Content Too Large" : "Bad Request"
        let head = "HTTP/1.1 \(problem.status) \(reason)\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + "Cache-Control: no-store\r\nContent-Length: \(body.count)\r\n\r\n"
        let answer = Array(head.utf8) + body
        _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
        let line = buffer[0..<n].prefix { $0 != 0x0D && $0 != 0x0A }.split(separator: 0x20)
        let method = line.first.map { String(decoding: $0.prefix(16), as: UTF8.self) } ?? "-"
        let path = line.count > 1 ? String(decoding: line[1].prefix(200), as: UTF8.self) : "-"
        core.log(HTTPLogEntry(clientAddress: host, event: .request(method: method, path: path, status: problem.status,
                                                                   bytes: body.count, milliseconds: 0)))
        return false
    }

    /// What is wrong with the `Content-Length` of a complete request head, if anything
    /// libmicrohttpd 0.9.75 would refuse (it reads the first field only, and none when the
    /// body is chunked): not all digits, or past what 64 bits hold.
    static func contentLengthProblem(_ bytes: ArraySlice<UInt8>) -> (status: Int, message: String)? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") ?? text.range(of: "\n\n") else { return nil }
        var length: Substring?
        for line in text[..<end.lowerBound].split(whereSeparator: \.isNewline).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces.union(.init(charactersIn: "\r")))
            if name == "transfer-encoding" { return nil }
            if name == "content-length", length == nil { length = Substring(value) }
        }
        guard let length else { return nil }
        guard !length.isEmpty, length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return (400, "invalid Content-Length")
        }
        let digits = length.drop { $0 == "0" }
        guard digits.count < 19 || (digits.count == 19 && digits <= "9223372036854775807") else {
            return (413, "request body too large")
        }
        return nil
    }
}
