import Foundation
import Storage
import Synchronization

/// Group commit for the SCIM writes of one replica: concurrent requests' changes
/// run in one SQLite transaction (`ReplicaStore.writeBatch`), each still its own
/// local transaction (own dot, own savepoint, own outcome).
///
/// Leader and followers: a request that finds no batch running runs one with
/// every change waiting at that moment (its own included); requests arriving
/// meanwhile wait, and when the batch ends the first of them leads the next. A
/// lone request therefore commits at once, as with `ReplicaStore.write`; under
/// load, one commit carries as many changes as there are requests in flight.
final class GroupCommit: Sendable {
    /// One change waiting for its batch.
    private final class Job: @unchecked Sendable {
        // @unchecked Sendable: `result` is written by the one leader running the job's batch
        // before it signals `done`, and read by the job's thread after `done` (or by that leader).
        let body: (LocalTransaction) throws -> Any
        var result: Result<Any, any Error>?
        let done = DispatchSemaphore(value: 0)
        init(_ body: @escaping (LocalTransaction) throws -> Any) { self.body = body }
    }

    private struct State {
        var pending: [Job] = []
        var running = false
    }

    private let store: ReplicaStore
    private let state = Mutex(State())
    /// The most changes one commit carries (a bound on how long the first of them waits).
    static let maxBatch = 64

    init(store: ReplicaStore) { self.store = store }

    /// Runs `body` as one local transaction, committed with whatever else is waiting.
    func write<T>(_ body: @escaping (LocalTransaction) throws -> T) throws -> T {
        let job = Job { tx in try body(tx) }
        let leads = state.withLock { s -> Bool in
            s.pending.append(job)
            if s.running { return false }
            s.running = true
            return true
        }
        if !leads {
            job.done.wait()
            if job.result == nil { lead() }
        } else {
            lead()
        }
        // Every path above ends with this job's result set.
        return try job.result!.get() as! T
    }

    /// Runs one batch of what is waiting, then hands the lead to the next waiter (or stops).
    private func lead() {
        let batch = state.withLock { s -> [Job] in
            let n = min(s.pending.count, Self.maxBatch)
            let b = Array(s.pending.prefix(n))
            s.pending.removeFirst(n)
            return b
        }
        let results: [Result<Any, any Error>]
        do {
            results = try store.writeBatch(batch.map(\.body))
        } catch {
            results = Array(repeating: .failure(error), count: batch.count)
        }
        for (job, result) in zip(batch, results) { job.result = result }
        let next = state.withLock { s -> Job? in
            guard let first = s.pending.first else {
                s.running = false
                return nil
            }
            // Woken with no result, it runs the next batch.
            return first
        }
        // The next leader first: its batch starts while this thread wakes the finished jobs' threads.
        next?.done.signal()
        for job in batch { job.done.signal() }
    }
}
