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
        var phase: Phase
        var deadline: ContinuousClock.Instant?
        var cut = false
    }

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
    private let idleTimeout: Duration
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
        idleTimeout = configuration.idleTimeout
        let shortest = min(headerDeadline, bodyDeadline, responseDeadline)
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
        shard(connection).entries.withLock { entries in
            // `drain` sets the flag before it takes each shard's lock: read under the lock, it is
            // either seen here, or `drain` takes this lock later and finds the entry.
            let draining = self.draining.load(ordering: .acquiring)
            entries[connection] = Entry(fd: fd, address: address, phase: .headers, deadline: deadline, cut: draining)
            // Accepted while the server drains: cut at once (under the lock, as `drain` does).
            if draining { shutdown(fd, Int32(SHUT_RDWR)) }
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
        _ = shard(connection).entries.withLock { $0.removeValue(forKey: connection) }
    }

    /// The client's address recorded when the connection started.
    func address(_ connection: UInt) -> String? {
        shard(connection).entries.withLock { $0[connection]?.address }
    }

    /// Moves a connection to `phase`, with that phase's deadline starting now.
    func enter(_ phase: Phase, _ connection: UInt) {
        let now = ContinuousClock.now
        let deadline: ContinuousClock.Instant? = switch phase {
        // Idle after an answer: silence is closed by the idle timeout, so the
        // next head gets that long plus the header deadline to be complete.
        case .headers: now + idleTimeout + headerDeadline
        case .body: now + bodyDeadline
        case .handling: nil
        case .sending: now + responseDeadline
        }
        shard(connection).entries.withLock { entries in
            guard entries[connection] != nil else { return }
            entries[connection]!.phase = phase
            entries[connection]!.deadline = deadline
        }
    }

    // MARK: Queries

    /// Open connections.
    var count: Int { shards.reduce(0) { n, shard in n + shard.entries.withLock { $0.count } } }

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

    /// Cuts off every connection past its deadline; false once stopped.
    private func sweepOnce() -> Bool {
        let now = ContinuousClock.now
        var cut: [(String, Phase)] = []
        guard sweeping.load(ordering: .acquiring) else { return false }
        for shard in shards {
            shard.entries.withLock { entries in
                for (key, entry) in entries where !entry.cut {
                    guard let deadline = entry.deadline, deadline < now else { continue }
                    // Under the lock, with the entry present: the descriptor is this connection's.
                    shutdown(entry.fd, Int32(SHUT_RDWR))
                    entries[key]!.cut = true
                    cut.append((entry.address, entry.phase))
                }
            }
        }
        for (address, phase) in cut {
            let reason = switch phase {
            case .headers: "request headers not complete within the deadline"
            case .body: "request body not complete within the deadline"
            case .sending: "answer not taken within the deadline"
            case .handling: "deadline"
            }
            log(HTTPLogEntry(clientAddress: address, event: .closed(reason: reason)))
        }
        return true
    }
}
