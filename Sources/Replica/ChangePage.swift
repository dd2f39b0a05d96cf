import Foundation

/// One page of changes: the records a peer lacks, and how far they bring it.
///
/// Pages are cut in the order of the dots index, `(replica, counter)`. After
/// applying a page, the receiver may raise its replica clock to `coverage`:
/// for each replica `o` in it, every record holding a dot of `o` up to that
/// counter was in the page, in a state at least that new.
///
/// Records travel in their canonical encoding (`EncodedRecord`): the sender
/// copies them from storage, the receiver checks and stores them.
public struct ChangePage: Sendable {
    /// The records, each in the sender's current state.
    public var records: [EncodedRecord]
    /// The clock the receiver reaches once the page is applied (entries only for replicas the page covered).
    public var coverage: VectorClock
    /// Whether more changes remain beyond this page.
    public var more: Bool
    /// The receiver's clock the page was cut against. A coverage entry for replica
    /// `o` may only be adopted by a receiver that already has `o` up to `base[o]`,
    /// so pages delivered out of order or to the wrong state stay safe.
    public var base: VectorClock

    /// Creates a page.
    public init(records: [EncodedRecord], coverage: VectorClock, more: Bool, base: VectorClock) {
        self.records = records
        self.coverage = coverage
        self.more = more
        self.base = base
    }

    /// Creates a page of decoded records (encoding each).
    public init(records: [Record], coverage: VectorClock, more: Bool, base: VectorClock) {
        self.init(records: records.map(EncodedRecord.init), coverage: coverage, more: more, base: base)
    }

    /// The records decoded; throws on the first that is not a canonical encoding.
    public func decodedRecords() throws(RecordDecodingError) -> [Record] {
        var out: [Record] = []
        out.reserveCapacity(records.count)
        for r in records { out.append(try r.decoded()) }
        return out
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
/// `dots(o, after, upTo, n)` must return, in counter order, up to `n` of the
/// `(counter, recordID)` entries of replica `o` with `after < counter <= upTo`.
/// Shared by the in-memory replica and the SQLite store, so both page alike.
/// A page holds at most `limit` records, except that the records of one dot
/// are never split (one dot can cover several records).
///
/// The index may hold dots above the sender's own clock (records that came in
/// pages cut short elsewhere). They are neither sent nor vouched for: coverage
/// never claims more than the sender's clock, and every record in a page holds
/// a dot inside the range the page covers (`base`, `coverage`], which is what
/// a receiver checks (a page whose records the receiver's clock would never
/// cover would be stored but never passed on). Such records travel once the
/// sender's clock covers them, from it or from whoever cut its page short.
public func cutPage<Item>(replicaClock: VectorClock, peerClock: VectorClock, limit: Int,
                          dots: (ReplicaID, UInt64, UInt64, Int) throws -> [(UInt64, String)],
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
                if after > from { coverage[e.replica] = after }
                break outer
            }
            var n = room + 1
            var batch = try dots(e.replica, after, e.counter, n)
            var full = batch.count == n
            // The last counter of a full batch may be cut short: leave it for the next
            // round, unless it is the only one (then fetch it whole).
            while full && batch.first!.0 == batch.last!.0 {
                n *= 4
                batch = try dots(e.replica, after, e.counter, n)
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
                    if after > from { coverage[e.replica] = after }
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
