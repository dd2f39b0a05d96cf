import Events
import Foundation
import Replica
import Storage
import Synchronization

/// The hub's webhook sender: threads that take the events of the replica's
/// outbox and post them, in order per directory, retrying with backoff.
///
/// Scheduling: each directory's pending events form one queue, sent strictly
/// one request at a time in `seq` order; only a queue's head carries a retry
/// deadline, so a directory whose receiver is down waits as a whole while the
/// others keep flowing. `configuration.senders` threads share the work: a
/// thread takes the due head of a directory no other thread holds, delivers up
/// to `burst` requests to it, and gives it back. Idle threads sleep until the
/// earliest retry deadline, a `wake(directory:)` (the outbox sink calls it for
/// each accepted change; it wakes a thread only for a directory not already in
/// hand), or `pollInterval` (which also finds events written by another process
/// on the same file).
///
/// The queues' heads are kept here, not in an index of the outbox (an index
/// would cost every SCIM write one more page): the outbox is read forward from
/// the highest seq already seen, and after a directory's turn its next pending
/// event is read from the head on. Only this sender finishes events, and it
/// does so in order, so a directory's pending events are always the end of its
/// events.
///
/// Delivery is at least once: an attempt cut off by `kill -9` is sent again
/// after the restart (each request carries the events' ids in
/// `X-Setuplink-Event-Ids` so a receiver can drop repeats).
public final class WebhookDelivery: @unchecked Sendable {
    // @unchecked Sendable: the mutable scheduling state (`queues`, `busy`, `recheck`,
    // `scanned`, `generation`, `running`, `started`, `nextHousekeeping`) is only touched
    // with `condition` locked; `stopping` is atomic; the rest is immutable or
    // thread-safe (the store).

    /// The replica whose outbox is delivered.
    public let store: ReplicaStore
    /// Limits, retries, batching.
    public let configuration: WebhookConfiguration
    /// One line per attempt and per housekeeping run, for the server log.
    let log: (@Sendable (String) -> Void)?
    /// The wall clock in Unix milliseconds.
    let now: @Sendable () -> UInt64

    /// A directory with pending events: its first one, and when that is due.
    struct Queue {
        /// Its first pending event's seq.
        var seq: Int64
        /// When that event may be tried (Unix milliseconds).
        var due: UInt64
    }

    private let condition = NSCondition()
    /// Directories known to have pending events (a head may be stale: the sender reads the outbox from it).
    private var queues: [String: Queue] = [:]
    /// Directories a thread is delivering to.
    private var busy: Set<String> = []
    /// Busy directories that got new events meanwhile: their sender reads again before giving them back.
    private var recheck: Set<String> = []
    /// Every pending event up to this seq is in `queues` (or delivered since).
    private var scanned: Int64 = 0
    private var generation: UInt64 = 0
    private var running = 0
    private var started = false
    private var nextHousekeeping: UInt64 = 0
    private let stopping = Atomic<Bool>(false)
    /// Directories whose last attempt failed or took `slowAttempt` or more: they may hold
    /// at most `maxSlow` senders at once, so a hanging receiver never takes them all.
    private var slow: Set<String> = []
    /// When each directory's attempt in flight started (Unix milliseconds).
    private var inFlight: [String: UInt64] = [:]

    /// How many senders slow directories may hold at once: half of them (at least one).
    var maxSlow: Int { max(1, configuration.senders / 2) }

    /// A sender for `store`'s outbox; `log` gets one line per attempt.
    public init(store: ReplicaStore, configuration: WebhookConfiguration = WebhookConfiguration(),
                log: (@Sendable (String) -> Void)? = nil,
                now: @escaping @Sendable () -> UInt64 = { HLC.wallMilliseconds() }) {
        self.store = store
        self.configuration = configuration
        self.log = log
        self.now = now
    }

    /// The sink `ScimRoutes` is given: it enqueues each accepted change's events
    /// in the change's transaction and wakes this sender.
    public var eventSink: DirectoryEventSink { Outbox.sink(waking: self) }

    /// Starts the sender threads (once).
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        let count = max(1, configuration.senders)
        running = count
        for i in 0..<count {
            // Threads, not a global dispatch queue: each blocks on libcurl for
            // up to a request's timeout.
            let thread = Thread { [self] in run() }
            thread.name = "webhooks-\(i)"
            thread.start()
        }
    }

    /// Stops the threads: requests in flight are cut off within about a second
    /// (they stay pending and are sent again after a restart); returns when every
    /// thread has ended.
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        condition.lock()
        generation &+= 1
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Says `directory` may have new events. Wakes a sender only when that
    /// directory is not already in hand: a queued directory's events are read
    /// in order from its head when it is due, and a busy one is read again
    /// before it is given back, so neither needs a look at the outbox now.
    /// Under a burst of SCIM writes (or a receiver that is down) this saves
    /// a thread wake-up and two outbox reads per write. An idle sender that is
    /// woken looks at once (and wakes another if it finds more work than it
    /// takes). Safe to call inside a store transaction (it never touches the store).
    public func wake(directory: String) {
        condition.lock()
        defer { condition.unlock() }
        if busy.contains(directory) {
            recheck.insert(directory)
            return
        }
        if queues[directory] != nil { return }
        generation &+= 1
        condition.signal()
    }

    /// Whether `stop()` was called: threads end, requests in flight are cut off.
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    // MARK: The sender loop

    /// How many pending events one look at the outbox reads.
    static let scanPage = 5_000

    private func run() {
        while true {
            condition.lock()
            if isStopping {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let seen = generation
            let from = scanned
            let t0 = now()
            let housekeeping = t0 >= nextHousekeeping
            if housekeeping { nextHousekeeping = t0 + WebhookConfiguration.milliseconds(configuration.housekeepingInterval) }
            condition.unlock()

            if housekeeping { housekeep(at: t0) }
            // The store is read with the condition unlocked: the outbox sink calls
            // `wake(directory:)` while it holds the store's lock, inside a transaction.
            var fresh: [OutboxRef] = []
            var upTo = from
            do {
                upTo = max(from, try store.outbox.lastSeq())
                if upTo > from { fresh = try store.outbox.pendingRefs(after: from, upTo: upTo, limit: Self.scanPage) }
            } catch {
                log?("webhooks: cannot read the outbox: \(error)")
            }
            let t = now()

            condition.lock()
            if fresh.count == Self.scanPage, let last = fresh.last { upTo = last.seq }
            if upTo > scanned {
                for ref in fresh where ref.seq > scanned {
                    if busy.contains(ref.directory) {
                        recheck.insert(ref.directory)
                    } else if queues[ref.directory] == nil {
                        queues[ref.directory] = Queue(seq: ref.seq, due: ref.nextAttempt)
                    }
                }
                scanned = upTo
            }
            let moreToScan = fresh.count == Self.scanPage
            var chosen: (directory: String, queue: Queue)?
            var chosenSlow: (directory: String, queue: Queue)?
            var deadline = t + WebhookConfiguration.milliseconds(configuration.pollInterval)
            // Slow directories (last attempt failed or slow, or one in flight for `slowAttempt`)
            // take at most `maxSlow` senders: the others stay free for every other directory.
            let slowAfter = WebhookConfiguration.milliseconds(configuration.slowAttempt)
            let slowBusy = busy.filter { slow.contains($0) || (inFlight[$0].map { t >= $0 + slowAfter } ?? false) }.count
            for (directory, q) in queues where !busy.contains(directory) {
                if q.due <= t {
                    // The oldest due event first: directories are served by age, the ones
                    // with healthy receivers before the slow ones.
                    if slow.contains(directory) {
                        if slowBusy < maxSlow, chosenSlow.map({ q.seq < $0.queue.seq }) ?? true { chosenSlow = (directory, q) }
                    } else if chosen.map({ q.seq < $0.queue.seq }) ?? true {
                        chosen = (directory, q)
                    }
                } else {
                    deadline = min(deadline, q.due)
                }
            }
            if chosen == nil { chosen = chosenSlow }
            if let chosen, !isStopping {
                busy.insert(chosen.directory)
                // More due work than this thread takes: another idle sender takes the next.
                if moreToScan || queues.contains(where: { $0.key != chosen.directory && !busy.contains($0.key) && $0.value.due <= t }) {
                    generation &+= 1
                    condition.signal()
                }
                condition.unlock()
                deliver(directory: chosen.directory, from: chosen.queue.seq)
                release(chosen.directory, from: chosen.queue.seq)
                continue
            }
            if generation == seen && !moreToScan && !isStopping {
                let wait = deadline > t ? deadline - t : 0
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1000))
            }
            condition.unlock()
        }
    }

    /// Notes that an attempt to `directory`'s receiver starts now.
    func attemptStarted(_ directory: String) {
        condition.lock()
        inFlight[directory] = now()
        condition.unlock()
    }

    /// Notes how an attempt to `directory`'s receiver went: failed or slow ones make the
    /// directory slow (see `maxSlow`) until an attempt is quick and delivered.
    func attemptEnded(_ directory: String, delivered: Bool) {
        condition.lock()
        let started = inFlight.removeValue(forKey: directory) ?? now()
        let quick = now() < started + WebhookConfiguration.milliseconds(configuration.slowAttempt)
        if delivered && quick { slow.remove(directory) } else { slow.insert(directory) }
        // A sender may be free for a directory the cap held back.
        generation &+= 1
        condition.signal()
        condition.unlock()
    }

    /// Gives a directory back after its turn, with its next head read from the outbox
    /// (again if events arrived while it was read).
    private func release(_ directory: String, from seq: Int64) {
        while true {
            var next: Queue?
            do {
                next = try store.outbox.pending(directory: directory, from: seq, limit: 1).first.map {
                    Queue(seq: $0.seq, due: $0.nextAttempt)
                }
            } catch {
                log?("webhooks: cannot read the outbox of directory \(directory): \(error)")
                // Keep the directory queued at its old head: it is read again after a poll interval.
                next = Queue(seq: seq, due: now() + WebhookConfiguration.milliseconds(configuration.pollInterval))
            }
            condition.lock()
            if recheck.remove(directory) != nil {
                condition.unlock()
                continue
            }
            queues[directory] = next
            busy.remove(directory)
            generation &+= 1
            condition.signal()
            condition.unlock()
            return
        }
    }

    /// Sends `directory`'s due events from `seq` on, up to `burst` requests, while they succeed.
    private func deliver(directory: String, from seq: Int64) {
        var requests = 0
        var from = seq
        let batch = max(1, configuration.batchSize ?? 1)
        while requests < max(1, configuration.burst) && !isStopping {
            let events: [OutboxEvent]
            do { events = try store.outbox.pending(directory: directory, from: from, limit: batch) } catch {
                log?("webhooks: cannot read the outbox of directory \(directory): \(error)")
                return
            }
            guard let head = events.first, head.nextAttempt <= now() else { return }
            requests += 1
            from = head.seq
            guard attempt(directory: directory, events) else { return }
        }
    }

    /// Deletes finished events older than `keepFinished`.
    private func housekeep(at time: UInt64) {
        let keep = WebhookConfiguration.milliseconds(configuration.keepFinished)
        guard time > keep else { return }
        do {
            let n = try store.outbox.purge(finishedBefore: time - keep)
            if n > 0 { log?("webhooks: housekeeping deleted \(n) event(s) delivered, failed or dropped more than \(keep / 1000) s ago") }
        } catch {
            log?("webhooks: housekeeping failed: \(error)")
        }
    }
}
