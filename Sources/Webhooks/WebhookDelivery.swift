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
/// earliest retry deadline, a `wake()` (the outbox sink calls it for each
/// accepted change), or `pollInterval` (which also finds events written by
/// another process on the same file).
///
/// Delivery is at least once: an attempt cut off by `kill -9` is sent again
/// after the restart (each request carries the events' ids in
/// `X-Setuplink-Event-Ids` so a receiver can drop repeats).
public final class WebhookDelivery: @unchecked Sendable {
    // @unchecked Sendable: the mutable scheduling state (`busy`, `generation`,
    // `running`, `nextHousekeeping`, `threads`) is only touched with `condition`
    // locked; `stopping` is atomic; the rest is immutable or thread-safe (the store).

    /// The replica whose outbox is delivered.
    public let store: ReplicaStore
    /// Limits, retries, batching.
    public let configuration: WebhookConfiguration
    /// One line per attempt and per housekeeping run, for the server log.
    let log: (@Sendable (String) -> Void)?
    /// The wall clock in Unix milliseconds.
    let now: @Sendable () -> UInt64

    private let condition = NSCondition()
    private var busy: Set<String> = []
    private var generation: UInt64 = 0
    private var running = 0
    private var started = false
    private var nextHousekeeping: UInt64 = 0
    private let stopping = Atomic<Bool>(false)

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
    public var eventSink: Outbox.Sink { Outbox.sink(waking: self) }

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

    /// Says the outbox may have new events: idle senders look at once.
    /// Safe to call inside a store transaction (it never touches the store).
    public func wake() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    // MARK: The sender loop

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
            let t0 = now()
            let housekeeping = t0 >= nextHousekeeping
            if housekeeping { nextHousekeeping = t0 + WebhookConfiguration.milliseconds(configuration.housekeepingInterval) }
            condition.unlock()

            if housekeeping { housekeep(at: t0) }
            // The store is read with the condition unlocked: the outbox sink calls
            // `wake()` while it holds the store's lock, inside a transaction.
            var heads: [OutboxEvent] = []
            do { heads = try store.outboxHeads() } catch {
                log?("webhooks: cannot read the outbox: \(error)")
            }
            let t = now()
            var deadline = t + WebhookConfiguration.milliseconds(configuration.pollInterval)

            condition.lock()
            var chosen: OutboxEvent?
            for h in heads where !busy.contains(h.directory) {
                if h.nextAttempt <= t {
                    // The oldest due event first: directories are served by age.
                    if chosen.map({ h.seq < $0.seq }) ?? true { chosen = h }
                } else {
                    deadline = min(deadline, h.nextAttempt)
                }
            }
            if let chosen, !isStopping {
                busy.insert(chosen.directory)
                condition.unlock()
                deliver(directory: chosen.directory)
                condition.lock()
                busy.remove(chosen.directory)
                generation &+= 1
                condition.broadcast()
                condition.unlock()
                continue
            }
            if generation == seen && !isStopping {
                let wait = deadline > t ? deadline - t : 0
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1000))
            }
            condition.unlock()
        }
    }

    /// Sends `directory`'s due events, up to `burst` requests, while they succeed.
    private func deliver(directory: String) {
        var requests = 0
        let batch = max(1, configuration.batchSize ?? 1)
        while requests < max(1, configuration.burst) && !isStopping {
            let events: [OutboxEvent]
            do { events = try store.pendingEvents(directory: directory, limit: batch) } catch {
                log?("webhooks: cannot read the outbox of directory \(directory): \(error)")
                return
            }
            guard let head = events.first, head.nextAttempt <= now() else { return }
            requests += 1
            guard attempt(directory: directory, events) else { return }
        }
    }

    /// Deletes finished events older than `keepFinished`.
    private func housekeep(at time: UInt64) {
        let keep = WebhookConfiguration.milliseconds(configuration.keepFinished)
        guard time > keep else { return }
        do {
            let n = try store.purgeOutbox(finishedBefore: time - keep)
            if n > 0 { log?("webhooks: housekeeping deleted \(n) event(s) delivered, failed or dropped more than \(keep / 1000) s ago") }
        } catch {
            log?("webhooks: housekeeping failed: \(error)")
        }
    }
}
