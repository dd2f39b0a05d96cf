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
    /// (taking the write lock, the commit, the WAL frames of the pages several
    /// changes touch) once per batch.
    ///
    /// - Returns: One result per body, in order.
    /// - Throws: Only when the batch as a whole fails (the lock, the commit): nothing is written.
    public func writeBatch<T>(_ bodies: [(LocalTransaction) throws -> T]) throws -> [Result<T, any Error>] {
        try wrap {
            do {
                return try db.transaction {
                    var results: [Result<T, any Error>] = []
                    results.reserveCapacity(bodies.count)
                    // One body needs no savepoint: if it throws, the whole transaction rolls back, as in `write`.
                    let alone = bodies.count == 1
                    for body in bodies {
                        if !alone { try db.run("SAVEPOINT batch_body") }
                        // The state summary's pending changes, as they were at the savepoint.
                        let summaryMark = stateSums.pending
                        do {
                            // Exactly what `write` runs: the next dot, a timestamp, the clock and the rest.
                            let result = try localWrite(body)
                            if !alone { try db.run("RELEASE batch_body") }
                            results.append(.success(result))
                        } catch {
                            if alone { throw BatchBodyFailure(error: error) }
                            // A statement the body left mid-way must not keep its position past the rollback.
                            db.resetAll()
                            try db.run("ROLLBACK TO batch_body")
                            try db.run("RELEASE batch_body")
                            stateSums.pending = summaryMark
                            // The rolled-back body may have interned replica ids that no longer exist.
                            resetReplicaCache()
                            results.append(.failure(error))
                        }
                    }
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
