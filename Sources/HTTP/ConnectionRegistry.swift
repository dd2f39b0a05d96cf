import Foundation
import Glibc
import Synchronization

/// Every open connection, with the deadline of the phase it is in, and a
/// sweeper thread that cuts off connections past their deadline.
///
/// libmicrohttpd 0.9.75's own timeout measures inactivity only, so a client
/// sending one byte a second would hold its connection forever. Here each
/// phase has a total deadline: headers (from the connection's start, or from
/// the previous answer on a kept-alive connection), body (from the head),
/// response (from queueing it). Running a route has none: that is our code.
///
/// Cutting off is `shutdown(fd, SHUT_RDWR)`, never `close`: libmicrohttpd owns
/// the descriptor, sees the end of the stream and closes the connection
/// itself. No descriptor-reuse race: entries are added when libmicrohttpd
/// reports a connection started and removed when it reports it closed, which
/// it does *before* it closes the descriptor; the sweeper shuts a descriptor
/// down only while holding the lock and only if its entry is still present.
/// So a descriptor the sweeper touches is always still open and still that
/// connection's.
final class ConnectionRegistry: Sendable {
    /// Where a connection is in its current request.
    enum Phase: Sendable, Equatable {
        /// Waiting for (the rest of) a request line and headers, or idle between requests.
        case headers
        /// Receiving an admitted body.
        case body
        /// A route is running.
        case handling
        /// The answer is queued and being sent.
        case sending
    }

    struct Entry {
        let fd: Int32
        let address: String
        /// The address without its port: what the per-address limits count.
        let host: String
        var phase: Phase
        var deadline: ContinuousClock.Instant?
        var cut = false
        /// When the phase began (the oldest idle connection is evicted first).
        var since = ContinuousClock.now
        /// Since when nothing could be sent of an answer the client does not read.
        var stalledSince: ContinuousClock.Instant?

        mutating func enter(_ phase: Phase, deadline: ContinuousClock.Instant?, at now: ContinuousClock.Instant) {
            self.phase = phase
            self.deadline = deadline
            since = now
            stalledSince = nil
        }
    }

    /// Connections cut off and not yet reported closed: their slots are as good as free.
    private let cutOpen = Atomic(0)

    /// Open connections per client host (the address without its port).
    private let hosts = Mutex([String: Int]())

    /// A part of the entries with its own lock. Every request takes the lock of its
    /// connection's entry several times (each phase, the client's address); with one
    /// lock for all, 16 workers spent a sixth of the server's CPU waiting on it (`perf`,
    /// `scim-bench` at 8 clients). A connection's entry lives in one shard, chosen by its key.
    private final class Shard: Sendable {
        let entries = Mutex([UInt: Entry]())
    }

    private static let shardCount = 16
    private let shards: [Shard] = (0..<ConnectionRegistry.shardCount).map { _ in Shard() }
    private let sweeping = Atomic(true)
    /// Set by `drain()`: every connection, even one that starts now, is cut off.
    private let draining = Atomic(false)

    /// The shard of a connection (keys are libmicrohttpd's connection pointers: the low bits are alignment).
    private func shard(_ connection: UInt) -> Shard {
        shards[Int((connection >> 4) % UInt(Self.shardCount))]
    }
    private let headerDeadline: Duration
    private let bodyDeadline: Duration
    private let responseDeadline: Duration
    private let configuration: HTTPServerConfiguration
    private let idleTimeout: Duration
    private let stalledSendTimeout: Duration
    private let tick: Duration
    private let log: @Sendable (HTTPLogEntry) -> Void
    private let sweeperDone = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    /// Connections reported started, ever (the acceptor compares it with what it handed over).
    let startedTotal = Atomic(0)

    init(configuration: HTTPServerConfiguration, log: @escaping @Sendable (HTTPLogEntry) -> Void) {
        headerDeadline = configuration.headerDeadline
        bodyDeadline = configuration.bodyDeadline
        responseDeadline = configuration.responseDeadline
        self.configuration = configuration
        idleTimeout = configuration.idleTimeout
        stalledSendTimeout = configuration.stalledSendTimeout
        let shortest = min(headerDeadline, bodyDeadline, responseDeadline, stalledSendTimeout)
        // A tenth of the shortest deadline, between 10 ms and 250 ms: a cut-off
        // comes at most one tick late, and an idle server wakes 4 times a second.
        tick = max(.milliseconds(10), min(.milliseconds(250), shortest / 10))
        self.log = log
    }

    // MARK: Called on libmicrohttpd's threads

    /// A connection was accepted: its head must arrive within the header deadline.
    func started(_ connection: UInt, fd: Int32, address: String) {
        startedTotal.add(1, ordering: .relaxed)
        let deadline = ContinuousClock.now + headerDeadline
        // Counted in `hosts` by the acceptor when it handed the connection over (`handedOver`).
        let host = BodyBudget.host(address)
        shard(connection).entries.withLock { entries in
            // `drain` sets the flag before it takes each shard's lock: read under the lock, it is
            // either seen here, or `drain` takes this lock later and finds the entry.
            let draining = self.draining.load(ordering: .acquiring)
            entries[connection] = Entry(fd: fd, address: address, host: host, phase: .headers, deadline: deadline, cut: draining)
            // Accepted while the server drains: cut at once (under the lock, as `drain` does).
            if draining {
                shutdown(fd, Int32(SHUT_RDWR))
                self.cutOpen.add(1, ordering: .relaxed)
            }
        }
    }

    /// Cuts off every connection, and every one that starts from now on, and waits
    /// up to `timeout` for libmicrohttpd to close them all (it sees the end of the
    /// stream and closes each connection without parsing anything more than what it
    /// had read). Returns whether none is left.
    ///
    /// Why: libmicrohttpd 0.9.75's `MHD_stop_daemon` sets a shutdown flag that makes
    /// `MHD_queue_response` succeed without queueing anything, and a worker that
    /// then answers a malformed request itself (400, 431, …) dereferences the
    /// missing response and crashes the process. With no connection left when
    /// `MHD_stop_daemon` runs, no worker answers anything.
    func drain(timeout: Duration) -> Bool {
        draining.store(true, ordering: .releasing)
        for shard in shards {
            shard.entries.withLock { entries in
                for (key, entry) in entries where !entry.cut {
                    shutdown(entry.fd, Int32(SHUT_RDWR))
                    entries[key]!.cut = true
                    self.cutOpen.add(1, ordering: .relaxed)
                }
            }
        }
        let deadline = ContinuousClock.now + timeout
        while count > 0 {
            if ContinuousClock.now >= deadline { return false }
            usleep(1_000)
        }
        return true
    }

    /// A connection was closed; its descriptor is closed right after this returns.
    func closed(_ connection: UInt) {
        guard let entry = shard(connection).entries.withLock({ $0.removeValue(forKey: connection) }) else { return }
        if entry.cut { cutOpen.subtract(1, ordering: .relaxed) }
        hosts.withLock { h in
            let n = h[entry.host, default: 1] - 1
            h[entry.host] = n > 0 ? n : nil
        }
    }

    /// A connection from `host` was handed to libmicrohttpd: counted from now (not from its
    /// start, a moment later), so a client opening connections in a burst is counted at once.
    func handedOver(host: String) { hosts.withLock { $0[host, default: 0] += 1 } }

    /// libmicrohttpd refused a connection `handedOver` counted (it never starts).
    func refused(host: String) {
        hosts.withLock { h in
            let n = h[host, default: 1] - 1
            h[host] = n > 0 ? n : nil
        }
    }

    /// Open connections from `host` (an address without its port).
    func count(host: String) -> Int { hosts.withLock { $0[host, default: 0] } }

    /// Cuts off one connection to make room for a new one: an idle one (waiting for a
    /// request's head, or between requests) or one whose answer has stalled, of the
    /// host holding the most connections, the longest idle first. Returns whether one was cut.
    func evictOne() -> Bool {
        let byHost = hosts.withLock { $0 }
        var best: (shard: Int, key: UInt, host: String, since: ContinuousClock.Instant)?
        for (i, shard) in shards.enumerated() {
            shard.entries.withLock { entries in
                for (key, e) in entries where !e.cut && (e.phase == .headers || e.stalledSince != nil) {
                    if let b = best {
                        let (mine, theirs) = (byHost[e.host, default: 0], byHost[b.host, default: 0])
                        guard mine > theirs || (mine == theirs && e.since < b.since) else { continue }
                    }
                    best = (i, key, e.host, e.since)
                }
            }
        }
        guard let best else { return false }
        let address: String? = shards[best.shard].entries.withLock { entries in
            // Still present and still evictable: under the lock, the descriptor is this connection's.
            guard let e = entries[best.key], !e.cut, e.phase == .headers || e.stalledSince != nil else { return nil }
            shutdown(e.fd, Int32(SHUT_RDWR))
            entries[best.key]!.cut = true
                    self.cutOpen.add(1, ordering: .relaxed)
            return e.address
        }
        guard let address else { return false }
        log(HTTPLogEntry(clientAddress: address, event: .closed(reason: "idle connection closed to make room (the server is full)")))
        return true
    }

    /// The client's address recorded when the connection started.
    func address(_ connection: UInt) -> String? {
        shard(connection).entries.withLock { $0[connection]?.address }
    }

    /// Moves a connection to `phase`, with that phase's deadline starting now (for `.sending`,
    /// the deadline of an answer of `bytes`).
    func enter(_ phase: Phase, _ connection: UInt, bytes: Int = 0) {
        let now = ContinuousClock.now
        let deadline: ContinuousClock.Instant? = switch phase {
        // Idle after an answer: silence is closed by the idle timeout, so the
        // next head gets that long plus the header deadline to be complete.
        case .headers: now + idleTimeout + headerDeadline
        case .body: now + bodyDeadline
        case .handling: nil
        case .sending: now + configuration.sendingDeadline(bytes: bytes)
        }
        shard(connection).entries.withLock { entries in
            // One lookup, changed in place (every request passes here several times).
            entries[connection]?.enter(phase, deadline: deadline, at: now)
        }
    }

    // MARK: Queries

    /// Open connections.
    var count: Int { shards.reduce(0) { n, shard in n + shard.entries.withLock { $0.count } } }

    /// Open connections not cut off (a cut one is about to close).
    var live: Int { max(0, count - cutOpen.load(ordering: .relaxed)) }

    /// Connections with a request in flight (body, route or answer), which `stop()` lets finish.
    var busy: Int {
        shards.reduce(0) { n, shard in n + shard.entries.withLock { $0.values.filter { $0.phase != .headers }.count } }
    }

    // MARK: The sweeper

    /// Starts the sweeper thread.
    func startSweeper() {
        let thread = Thread { [self] in
            while sweepOnce() {
                _ = wake.wait(timeout: .now() + .nanoseconds(Int(tick.seconds * 1e9)))
            }
            sweeperDone.signal()
        }
        thread.name = "http-deadlines"
        thread.start()
    }

    /// Stops the sweeper and waits for it.
    func stopSweeper() {
        if sweeping.exchange(false, ordering: .acquiringAndReleasing) {
            wake.signal()
            sweeperDone.wait()
        }
    }

    /// How long a socket with answers waiting in the kernel has sent nothing (its peer
    /// reads nothing), or `nil` when nothing waits or data went out within the last tick.
    static func sendingStalledFor(_ fd: Int32) -> Duration? {
        var queued: Int32 = 0
        guard ioctl(fd, UInt(TIOCOUTQ), &queued) == 0, queued > 0 else { return nil }
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0, info.tcpi_last_data_sent >= 250 else { return nil }
        return .milliseconds(Int64(info.tcpi_last_data_sent))
    }

    /// Cuts off every connection past its deadline; false once stopped.
    private func sweepOnce() -> Bool {
        let now = ContinuousClock.now
        var cut: [(String, Phase, Bool)] = []
        guard sweeping.load(ordering: .acquiring) else { return false }
        for shard in shards {
            shard.entries.withLock { entries in
                for (key, entry) in entries where !entry.cut {
                    if entry.phase == .sending, let idle = Self.sendingStalledFor(entry.fd) {
                        // A client that does not read its answers (a pipeline it never reads): its
                        // window is shut, answers pile up in the kernel; cut once nothing could be
                        // sent for `stalledSendTimeout` (a slow reader takes some now and then).
                        entries[key]!.stalledSince = now - idle
                        if idle >= stalledSendTimeout {
                            shutdown(entry.fd, Int32(SHUT_RDWR))
                            entries[key]!.cut = true
                    self.cutOpen.add(1, ordering: .relaxed)
                            cut.append((entry.address, .sending, true))
                            continue
                        }
                    } else if entry.stalledSince != nil {
                        entries[key]!.stalledSince = nil
                    }
                    guard let deadline = entry.deadline, deadline < now else { continue }
                    // Under the lock, with the entry present: the descriptor is this connection's.
                    shutdown(entry.fd, Int32(SHUT_RDWR))
                    entries[key]!.cut = true
                    self.cutOpen.add(1, ordering: .relaxed)
                    cut.append((entry.address, entry.phase, false))
                }
            }
        }
        for (address, phase, stalled) in cut {
            let reason: String = if stalled { "answers not read: nothing could be sent for \(stalledSendTimeout)" } else {
                switch phase {
                case .headers: "request headers not complete within the deadline"
                case .body: "request body not complete within the deadline"
                case .sending: "answer not taken within the deadline"
                case .handling: "deadline"
                }
            }
            log(HTTPLogEntry(clientAddress: address, event: .closed(reason: reason)))
        }
        return true
    }
}
