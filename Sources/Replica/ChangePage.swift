import Foundation

/// One page of changes: the records a peer lacks, and how far they bring it.
///
/// Pages are cut in the order of the dots index, `(replica, counter)`. After
/// applying a page, the receiver may raise its replica clock to `coverage`:
/// for each replica `o` in it, every record holding a dot of `o` up to that
/// counter was in the page, in a state at least that new.
public struct ChangePage: Sendable {
    /// The records, each in the sender's current state.
    public var records: [Record]
    /// The clock the receiver reaches once the page is applied (entries only for replicas the page covered).
    public var coverage: VectorClock
    /// Whether more changes remain beyond this page.
    public var more: Bool
    /// The receiver's clock the page was cut against. A coverage entry for replica
    /// `o` may only be adopted by a receiver that already has `o` up to `base[o]`,
    /// so pages delivered out of order or to the wrong state stay safe.
    public var base: VectorClock

    /// Creates a page.
    public init(records: [Record], coverage: VectorClock, more: Bool, base: VectorClock) {
        self.records = records
        self.coverage = coverage
        self.more = more
        self.base = base
    }

    /// The clock a receiver whose clock is `clock` reaches by applying this page.
    public func advance(_ clock: VectorClock) -> VectorClock {
        var out = clock
        for e in coverage.entries where clock[e.replica] >= base[e.replica] && e.counter > clock[e.replica] {
            out[e.replica] = e.counter
        }
        return out
    }
}

/// What applying a batch of remote records did.
public struct MergeSummary: Sendable, Equatable {
    /// Records whose local state changed.
    public var changed = 0
    /// Records that were new locally.
    public var inserted = 0
    /// Changed records that now hold concurrent values (conflicts) they did not hold before.
    public var conflicts = 0
    /// Records dropped because they were purged here (stale copies of stable tombstones).
    public var dropped = 0

    /// An empty summary.
    public init() {}

    /// Adds another summary.
    public static func + (a: MergeSummary, b: MergeSummary) -> MergeSummary {
        var s = a
        s.changed += b.changed; s.inserted += b.inserted; s.conflicts += b.conflicts; s.dropped += b.dropped
        return s
    }
}

/// Cuts a page from an ordered dots index.
///
/// `dots(o, after, n)` must return, in counter order, up to `n` of the
/// `(counter, recordID)` entries of replica `o` with counter > `after`.
/// Shared by the in-memory replica and the SQLite store, so both page alike.
/// A page holds at most `limit` records, except that the records of one dot
/// are never split (one dot can cover several records).
///
/// The index may hold dots above the sender's own clock (records that came in
/// pages cut short elsewhere); they are sent, but coverage never claims more
/// than the sender's clock, which is all the sender can vouch for.
public func cutPage(replicaClock: VectorClock, peerClock: VectorClock, limit: Int,
                    dots: (ReplicaID, UInt64, Int) throws -> [(UInt64, String)],
                    record: (String) throws -> Record?) rethrows -> ChangePage {
    let (records, coverage, more) = try cutPage(replicaClock: replicaClock, peerClock: peerClock, limit: limit, dots: dots, item: record)
    return ChangePage(records: records, coverage: coverage, more: more, base: peerClock)
}

/// `cutPage` for any representation of the records (the server pages stored encodings without decoding them).
public func cutPage<Item>(replicaClock: VectorClock, peerClock: VectorClock, limit: Int,
                          dots: (ReplicaID, UInt64, Int) throws -> [(UInt64, String)],
                          item record: (String) throws -> Item?) rethrows -> (items: [Item], coverage: VectorClock, more: Bool) {
    precondition(limit > 0)
    var seen = Set<String>()
    var records: [Item] = []
    var coverage = VectorClock()
    var more = false
    outer: for e in replicaClock.entries {
        let from = peerClock[e.replica]
        guard e.counter > from else { continue }
        var after = from
        while true {
            let room = limit - records.count
            if room <= 0 {
                more = true
                if after > from { coverage[e.replica] = min(after, e.counter) }
                break outer
            }
            var n = room + 1
            var batch = try dots(e.replica, after, n)
            var full = batch.count == n
            // The last counter of a full batch may be cut short: leave it for the next
            // round, unless it is the only one (then fetch it whole).
            while full && batch.first!.0 == batch.last!.0 {
                n *= 4
                batch = try dots(e.replica, after, n)
                full = batch.count == n
            }
            var end = batch.count
            if full {
                let last = batch[end - 1].0
                while batch[end - 1].0 == last { end -= 1 }
            }
            var k = 0
            while k < end {
                let counter = batch[k].0
                var g = k
                var fresh: [String] = []
                while g < end && batch[g].0 == counter {
                    if !seen.contains(batch[g].1) { fresh.append(batch[g].1) }
                    g += 1
                }
                if records.count + fresh.count > limit && !records.isEmpty {
                    more = true
                    if after > from { coverage[e.replica] = min(after, e.counter) }
                    break outer
                }
                for id in fresh {
                    seen.insert(id)
                    if let r = try record(id) { records.append(r) }
                }
                after = counter
                k = g
            }
            if !full {
                coverage[e.replica] = e.counter
                break
            }
        }
    }
    return (records, coverage, more)
}
