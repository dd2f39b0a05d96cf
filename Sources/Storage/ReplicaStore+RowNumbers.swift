import Foundation
import Replica

/// Row numbers that are never used twice, and commit notifications.
///
/// A record's row number (`rid`) is the order in which this replica first stored it:
/// local writes and merged pages append rows. Readers rely on that order (the app
/// API's change feed hands out positions in it as cursors), so a number must never
/// be given to another record once it was used. SQLite numbers a new row one above
/// the largest, which reuses the number of a last row that was removed (a purged
/// tombstone, a record a resync found gone): removing the last row therefore records
/// its number (meta `rid_high`), and new rows are numbered above it.
extension ReplicaStore {
    static let removedRowHighKey = "rid_high"

    /// Before the row `rid` is removed (in the caller's transaction): if it is the last
    /// row, its number is recorded so that no new row takes it.
    func keepRowNumberUnused(_ rid: Int64) throws {
        guard let last = try db.scalar("SELECT max(rid) FROM records")?.int, rid >= last else { return }
        let high = max(rid, try storedRemovedRowHigh())
        try setMeta(Self.removedRowHighKey, String(high))
        removedRowHigh = high
    }

    private func storedRemovedRowHigh() throws -> Int64 {
        try meta(Self.removedRowHighKey).flatMap { Int64($0) } ?? 0
    }

    /// The number the next new row must take when SQLite's own choice would reuse one;
    /// `nil` to let SQLite number it. Costs a query only while a removed number is above
    /// every row (right after such a removal).
    func rowNumberFloor() throws -> Int64? {
        if removedRowHigh == nil { removedRowHigh = try storedRemovedRowHigh() }
        guard let high = removedRowHigh, high > 0 else { return nil }
        let last = try db.scalar("SELECT max(rid) FROM records")?.int ?? 0
        if last > high {
            removedRowHigh = 0
            return nil
        }
        return high + 1
    }

    /// The first row number for a merge's new rows.
    func nextRowNumber() throws -> Int64 {
        let last = try db.scalar("SELECT max(rid) FROM records")?.int ?? 0
        return max(last, try storedRemovedRowHigh()) + 1
    }

    /// The highest row number this replica has used (0 when it has none): a position
    /// beyond it names no row that was ever stored.
    public func highestRowNumber() throws -> Int64 {
        try wrap { try nextRowNumber() - 1 }
    }

    /// Calls `observer` after every transaction this store commits (a local write, a
    /// merged page, a purge), in this process. It runs on the committing thread with the
    /// store's lock held: it must only take note (signal a waiter), never call the store
    /// or block. Another process's commits are not seen (readers that care also poll).
    public func addCommitObserver(_ observer: @escaping @Sendable () -> Void) {
        lock.withLock { commitObservers.append(observer) }
    }

    /// Tells the observers of a commit.
    func notifyCommitted() {
        for o in commitObservers { o() }
    }
}
