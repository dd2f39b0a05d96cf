import Foundation
import Replica

extension ReplicaStore {
    /// Runs several local transactions in one SQLite transaction (group commit).
    ///
    /// Each body runs exactly as it would alone in `write`: its own dot (the next
    /// counter) and timestamp, seeing what the bodies before it wrote, inside a
    /// savepoint. A body that throws is rolled back alone and its error returned
    /// in its place; the others commit together, with one `COMMIT`. So a server
    /// taking many small concurrent writes pays the transaction's fixed costs
    /// (the write lock, the clock, the WAL frames of shared pages) once per batch.
    ///
    /// - Returns: One result per body, in order.
    /// - Throws: Only when the batch as a whole fails (the lock, the commit): nothing is written.
    public func writeBatch<T>(_ bodies: [(LocalTransaction) throws -> T]) throws -> [Result<T, any Error>] {
        try wrap {
            do {
                return try db.transaction {
                    try checkIndexesWritable()
                    var counter = (try loadClock())[replicaID]
                    var hlc = try loadHLC()
                    var wrote = false
                    var results: [Result<T, any Error>] = []
                    results.reserveCapacity(bodies.count)
                    // One body needs no savepoint: if it throws, the whole transaction rolls back, as in `write`.
                    let alone = bodies.count == 1
                    for body in bodies {
                        let next = HLC.next(after: hlc, nowMilliseconds: now())
                        let tx = LocalTransaction(store: self, dot: Dot(replica: replicaID, counter: counter + 1), hlc: next)
                        if !alone { try db.run("SAVEPOINT batch_body") }
                        do {
                            let result = try body(tx)
                            if tx.saved > 0 {
                                try raiseClock(replicaID, to: counter + 1)
                                counter += 1
                                hlc = next
                                wrote = true
                            }
                            if !alone { try db.run("RELEASE batch_body") }
                            results.append(.success(result))
                        } catch {
                            if alone { throw BatchBodyFailure(error: error) }
                            // A statement the body left mid-way must not keep its position past the rollback.
                            db.resetAll()
                            try db.run("ROLLBACK TO batch_body")
                            try db.run("RELEASE batch_body")
                            // The rolled-back body may have interned replica ids that no longer exist.
                            resetReplicaCache()
                            results.append(.failure(error))
                        }
                    }
                    if wrote { try setMeta("hlc", String(hlc.rawValue)) }
                    return results
                }
            } catch let failure as BatchBodyFailure {
                db.resetAll()
                resetReplicaCache()
                return [.failure(failure.error)]
            } catch {
                resetReplicaCache()
                throw error
            }
        }
    }
}

/// The error of a batch's only body, carried out of the rolled-back transaction to be returned as its result.
private struct BatchBodyFailure: Error {
    let error: any Error
}
