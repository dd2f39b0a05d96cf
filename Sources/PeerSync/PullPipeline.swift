import Foundation
import JSON
import Replica
import Storage

/// Fetches, decodes and prepares (`MergePreparer`) pull pages on a thread of its own, ahead of the applier.
final class PullPipeline: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `cancelled`, `finished` and `applied` are touched only under
    // `condition`; `session` is the fetcher's until `finished` is set.
    typealias Item = (page: ChangePage, serverClock: VectorClock, purgeFloor: VectorClock?, encoding: PageEncoding,
                      prepared: PreparedRecords?, corrections: Corrections)

    /// How many decoded pages may wait for the applier (about 1 MB each with their
    /// prepared records). A transaction is not bounded by it (it keeps taking pages as
    /// they arrive), so six are enough: at 1M the client's peak was 125–126 MiB with
    /// six, 137–147 MiB with ten (Benchmarks/HISTORY.md, "What a replica must store, and
    /// larger pull transactions").
    static let depth = 6

    private let condition = NSCondition()
    private var queue: [Result<Item, SyncError>] = []
    private var cancelled = false
    private var finished = false
    private var session: Session
    /// The replica's clock after the last batch the applier committed: all a request may acknowledge.
    private var applied: VectorClock

    /// Starts fetching pages from `start` (the clock to page from: the committed clock, or
    /// nothing for a resync); `applied` is what the replica has committed, `corrections`
    /// what it knows of lies (every request carries both).
    init(session: Session, me: ReplicaID, peerReplica: ReplicaID, pageLimit: Int, encoding: PageEncoding, start: VectorClock,
         applied: VectorClock, floor: VectorClock, corrections: Corrections, forgot: [ReplicaID], resync: Bool, preparer: MergePreparer) {
        self.session = session
        self.applied = applied
        Thread { [self] in
            run(me: me, peerReplica: peerReplica, pageLimit: pageLimit, encoding: encoding, start: start, floor: floor,
                corrections: corrections, forgot: forgot, resync: resync, preparer: preparer)
        }.start()
    }

    /// Tells the fetcher what the replica has committed (the applier calls it after each batch).
    func committed(_ clock: VectorClock) {
        condition.lock()
        applied = clock
        condition.unlock()
    }

    private func run(me: ReplicaID, peerReplica: ReplicaID, pageLimit: Int, encoding: PageEncoding, start: VectorClock,
                     floor: VectorClock, corrections: Corrections, forgot: [ReplicaID], resync: Bool, preparer: MergePreparer) {
        var clock = start
        var cursor: PageCursor?
        var local = session
        defer {
            condition.lock()
            session = local
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        while true {
            let result: Result<Item, SyncError>
            do throws(SyncError) {
                // What is committed, unlike `clock`, which counts pages received and not yet applied.
                condition.lock()
                let applied = self.applied
                condition.unlock()
                var w = JSONWriter(capacity: 128 + (clock.entries.count + applied.entries.count + floor.entries.count) * 48)
                w.beginObject()
                w.key("replica"); w.string(me.hex)
                w.key("clock"); WireFormat.writeClock(clock, into: &w)
                w.key("applied"); WireFormat.writeClock(applied, into: &w)
                w.key("purge_floor"); WireFormat.writeClock(floor, into: &w)
                w.key("limit"); w.int(Int64(pageLimit))
                if !corrections.isEmpty { w.key("corrections"); WireFormat.writeCorrections(corrections, into: &w) }
                if !forgot.isEmpty { w.key("forgot"); WireFormat.writeReplicas(forgot, into: &w) }
                if let cursor { w.key("cursor"); WireFormat.writeCursor(cursor, into: &w) }
                if resync { w.key("resync"); w.bool(true) }
                w.endObject()
                // Binary preferred, JSON accepted (an older peer answers JSON).
                let accept = encoding == .binary ? "\(BinaryPage.mediaType), application/json;q=0.5" : "application/json"
                let response = try local.postRaw("/sync/v1/pull", w.bytes, accept: accept)
                var item = try local.decodePull(response, from: peerReplica)
                // Read the records here, on this thread, so the applier only does what needs the file.
                item.prepared = preparer.prepare(item.page)
                result = .success(item)
            } catch {
                result = .failure(error)
            }
            condition.lock()
            while queue.count >= Self.depth && !cancelled { condition.wait() }
            if cancelled { condition.unlock(); return }
            queue.append(result)
            condition.broadcast()
            condition.unlock()
            guard case .success(let item) = result, item.page.more else { return }
            let next = item.page.advance(clock)
            // A page that ends inside a change moves the cursor even when its coverage does not move.
            let nextCursor = item.page.partial?.cursor
            if next == clock && (nextCursor == nil || nextCursor == cursor) {
                condition.lock()
                queue.append(.failure(local.invalid("a page marked \"more\" brought no progress")))
                condition.broadcast()
                condition.unlock()
                return
            }
            clock = next
            cursor = nextCursor
        }
    }

    /// The pages received so far, in order: at least one, at most about `maxRecords`
    /// records; or the error that stopped the fetcher once the pages before it are taken.
    func nextBatch(maxRecords: Int) throws(SyncError) -> [Item] {
        try batch(maxRecords: maxRecords, waiting: true)
    }

    /// The pages received so far, in order, at most about `maxRecords` records, without
    /// waiting: none when none is there yet, and none at an error (left for `nextBatch`,
    /// so the pages before it are committed before the sync stops).
    func readyBatch(maxRecords: Int) -> [Item] {
        (try? batch(maxRecords: maxRecords, waiting: false)) ?? []
    }

    private func batch(maxRecords: Int, waiting: Bool) throws(SyncError) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        while waiting && queue.isEmpty { condition.wait() }
        var out: [Item] = []
        var records = 0
        while let first = queue.first {
            guard case .success(let item) = first else {
                if out.isEmpty && waiting {
                    queue.removeFirst()
                    condition.broadcast()
                    return [try first.get()]
                }
                break
            }
            if !out.isEmpty && records + item.page.records.count > maxRecords { break }
            queue.removeFirst()
            out.append(item)
            records += item.page.records.count
            if !item.page.more { break }
        }
        condition.broadcast()
        return out
    }

    /// Stops the fetcher, waits for it, and returns its session (with its byte counts).
    @discardableResult
    func finish() -> Session {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        while !finished { condition.wait() }
        return session
    }
}
