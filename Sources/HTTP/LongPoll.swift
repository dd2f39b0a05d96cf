import CMicroHTTPD
import Foundation
import Synchronization

/// An answer that is not ready yet: the request waits, without holding a thread,
/// until `check` has one or the deadline passes (a long poll).
///
/// A route returns it as `HTTPResponse.waiting(_:)`. The server then suspends the
/// connection (libmicrohttpd stops reading it; its worker goes on serving the
/// others) and parks it. Parked requests are checked again whenever the server is
/// woken (`HTTPServer.wakeWaiting()`, which a hub calls after each commit to its
/// replica), at least every `recheckInterval` (changes made by another process),
/// and at their deadline, when `check(true)` must give the answer. A server that
/// stops answers every parked request at once with `check(true)`.
public struct LongPoll: Sendable {
    /// When the request must be answered, whatever happened.
    public let deadline: ContinuousClock.Instant
    /// The answer if there is one now; with `final` true, the answer to give anyway.
    /// Runs on the server's waiting thread: it may read a store, never block for long.
    public let check: @Sendable (_ final: Bool) -> HTTPResponse?
    /// Not checked before this instant (unless the server stops): lets changes that follow
    /// each other closely gather into one answer instead of one request each.
    public let earliest: ContinuousClock.Instant?

    /// A long poll answered by `check`, not before `earliest`, at the latest at `deadline`.
    public init(deadline: ContinuousClock.Instant, earliest: ContinuousClock.Instant? = nil,
                check: @escaping @Sendable (_ final: Bool) -> HTTPResponse?) {
        self.deadline = deadline
        self.earliest = earliest.map { min($0, deadline) }
        self.check = check
    }

    /// When the waiting room should look at it next: its earliest instant while that is
    /// ahead, else its deadline.
    func nextInstant(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        if let e = earliest, e > now { return e }
        return deadline
    }
}

extension HTTPResponse {
    /// A response that waits: see `LongPoll`. Its status is a placeholder the client never sees.
    public static func waiting(_ poll: LongPoll) -> HTTPResponse {
        var r = HTTPResponse(status: 200)
        r.longPoll = poll
        return r
    }
}

/// The parked requests of one server and the thread that answers them.
final class WaitingRoom: @unchecked Sendable {
    /// Whether the client of a suspended connection has closed its end: libmicrohttpd does
    /// not watch a suspended socket, so it is looked at here (a peek, never a read). Plain
    /// TCP only: over TLS the closing alert is data, and such a request waits for its deadline.
    static func clientHungUp(_ connection: UInt) -> Bool {
        let fd = setuplink_mhd_connection_fd(OpaquePointer(bitPattern: connection))
        guard fd >= 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    // @unchecked Sendable: `parked`, `dirty`, `closed` are only touched with `condition` locked.
    /// How often parked requests are checked even when nothing woke the room.
    static let recheckInterval: Duration = .seconds(1)

    struct Parked {
        let connection: UInt
        let state: RequestState
        let poll: LongPoll
    }

    private let condition = NSCondition()
    private var parked: [UInt: Parked] = [:]
    private var dirty = false
    private var closed = false
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    /// How many requests wait now.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return parked.count
    }

    func start() {
        condition.lock()
        defer { condition.unlock() }
        let t = Thread { [self] in
            run()
            done.signal()
        }
        t.name = "setuplink-waiting"
        thread = t
        t.start()
    }

    /// Parks a suspended connection; false when the room is closed (answer at once instead).
    func park(_ p: Parked) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        parked[p.connection] = p
        condition.signal()
        return true
    }

    /// Checks every parked request again soon.
    func wake() {
        condition.lock()
        dirty = true
        condition.signal()
        condition.unlock()
    }

    /// Answers every parked request (final) and ends the thread.
    func close() {
        condition.lock()
        closed = true
        condition.signal()
        let running = thread
        thread = nil
        condition.unlock()
        if running != nil { done.wait() }
    }

    private func run() {
        var lastSweep = ContinuousClock.now
        while true {
            condition.lock()
            while !dirty && !closed {
                let now = ContinuousClock.now
                let nearest = parked.values.map { $0.poll.nextInstant(now: now) }.min()
                let recheck = lastSweep + Self.recheckInterval
                let until = min(nearest ?? recheck, recheck)
                if until <= now { break }
                let wait = until - now
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18))
            }
            let stopping = closed
            dirty = false
            let all = Array(parked.values)
            condition.unlock()

            lastSweep = ContinuousClock.now
            var ready: [(Parked, HTTPResponse)] = []
            for p in all {
                let now = ContinuousClock.now
                // A client that hung up while waiting frees its connection now, not at its deadline.
                if !stopping, Self.clientHungUp(p.connection) {
                    var gone = HTTPResponse(status: 204)
                    gone.logNote = "the client closed the connection while its request waited"
                    ready.append((p, gone))
                    continue
                }
                if !stopping, let e = p.poll.earliest, e > now { continue }
                let final = stopping || now >= p.poll.deadline
                if let r = p.poll.check(final) {
                    ready.append((p, r))
                } else if final {
                    ready.append((p, .error(status: 500, message: "the answer was not ready at its deadline")))
                }
            }
            condition.lock()
            for (p, r) in ready {
                parked[p.connection] = nil
                // Read by the worker when libmicrohttpd calls the handler again for the resumed
                // connection: the resume's own lock orders this write before that read.
                p.state.parkedAnswer = r
                MHD_resume_connection(OpaquePointer(bitPattern: p.connection))
            }
            let finished = stopping && parked.isEmpty
            condition.unlock()
            if finished { return }
        }
    }
}
