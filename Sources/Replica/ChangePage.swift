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
    /// When the page ends inside a change too large for one page: which, and how many of
    /// the page's records are its first parts (see `PartialChange`).
    public var partial: PartialChange?

    /// The most bytes of records a page holds (past its first record): far under any body
    /// limit, so a page always crosses, whatever one change weighs.
    public static let maxBytes = 4 << 20
    /// The most records of one change that go in one page past its record limit (see `cutPage`).
    public static let wholeChange = 10_000

    /// Creates a page.
    public init(records: [EncodedRecord], coverage: VectorClock, more: Bool, base: VectorClock, partial: PartialChange? = nil) {
        self.records = records
        self.coverage = coverage
        self.more = more
        self.base = base
        self.partial = partial
    }

    /// Creates a page of decoded records (encoding each).
    public init(records: [Record], coverage: VectorClock, more: Bool, base: VectorClock) {
        self.init(records: records.map(EncodedRecord.init), coverage: coverage, more: more, base: base)
    }

    /// The records applied with this page, and those kept aside as the first parts of a
    /// change that goes on in the next page.
    public var completeRecords: ArraySlice<EncodedRecord> { records.dropLast(partial?.records ?? 0) }
    /// See `completeRecords`.
    public var partialRecords: ArraySlice<EncodedRecord> { records.suffix(partial?.records ?? 0) }

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
    /// Records whose local state changed, by kind (the kind's raw code), to count them by kind.
    public var changedByKind: [UInt8: Int] = [:]
    /// Changes a concurrent delete discarded in this merge (delete wins), to say so.
    public var discarded: [DiscardedChange] = []

    /// An empty summary.
    public init() {}

    /// Adds another summary.
    public static func + (a: MergeSummary, b: MergeSummary) -> MergeSummary {
        var s = a
        s.changed += b.changed; s.inserted += b.inserted; s.conflicts += b.conflicts; s.dropped += b.dropped
        s.discarded += b.discarded
        s.changedByKind.merge(b.changedByKind, uniquingKeysWith: +)
        return s
    }
}

/// A change that a concurrent delete discarded: a record updated on one replica while
/// another deleted it, without either seeing the other's write. Delete wins (the record
/// stays deleted everywhere); this says which replicas wrote what, so it can be told.
public struct DiscardedChange: Sendable, Equatable {
    /// The record.
    public var id: String
    /// Its kind.
    public var kind: RecordKind
    /// The replicas whose concurrent delete won.
    public var deletedBy: [ReplicaID]
    /// The replicas whose writes were discarded.
    public var changedBy: [ReplicaID]
    /// The fields those writes set, sorted (`deleted` for a concurrent re-create).
    public var fields: [String]
    /// The record's visible field values (the state before the delete), to name it.
    public var values: [String: String]

    /// A discarded change.
    public init(id: String, kind: RecordKind, deletedBy: [ReplicaID], changedBy: [ReplicaID], fields: [String],
                values: [String: String]) {
        self.id = id
        self.kind = kind
        self.deletedBy = deletedBy
        self.changedBy = changedBy
        self.fields = fields
        self.values = values
    }

    /// What a concurrent delete discarded when `live` and `deleted` (concurrent states of one
    /// record) merge into a deleted one: the writes of `live` that `deleted` had not seen.
    public static func between(live: Record, deleted: Record) -> DiscardedChange? {
        var fields = Set<String>(), writers = Set<ReplicaID>()
        for f in live.fields {
            for v in f.register.versions where !deleted.clock.covers(v.dot) {
                fields.insert(f.name)
                writers.insert(v.dot.replica)
            }
        }
        for v in live.deletedRegister.versions where !v.value && !deleted.clock.covers(v.dot) {
            fields.insert("deleted")
            writers.insert(v.dot.replica)
        }
        guard !writers.isEmpty else { return nil }
        let deleters = Set(deleted.deletedRegister.versions.filter { $0.value && !live.clock.covers($0.dot) }.map(\.dot.replica))
        var values: [String: String] = [:]
        for f in live.fields { if let v = f.register.value { values[f.name] = v } }
        return DiscardedChange(id: live.id, kind: live.kind, deletedBy: deleters.sorted { $0.hex < $1.hex },
                               changedBy: writers.sorted { $0.hex < $1.hex }, fields: fields.sorted(), values: values)
    }
}

/// Where a sender resumes a change that did not fit one page: the change's dot,
/// and the sender's position among its records (opaque to the receiver, which
/// echoes it in its next request).
public struct PageCursor: Sendable, Equatable {
    /// The change's replica.
    public var replica: ReplicaID
    /// The change's counter.
    public var counter: UInt64
    /// The sender's position among the change's records: the next part starts after it.
    public var after: Int64

    /// A cursor.
    public init(replica: ReplicaID, counter: UInt64, after: Int64) {
        self.replica = replica
        self.counter = counter
        self.after = after
    }
}

/// The part of a change (one dot's records) that a page carries when the change is
/// larger than a page: the page's last `records` records are of the change, which
/// goes on in the next page (Storage.docc/LargeChanges.md).
///
/// The receiver keeps those records aside and applies them, with the rest of the
/// change, in the transaction that applies the page that completes it (the first
/// page whose coverage reaches the change's counter): a change is applied all or
/// nothing, whatever its size. The page's coverage stops before the change.
public struct PartialChange: Sendable, Equatable {
    /// The change's replica.
    public var replica: ReplicaID
    /// The change's counter.
    public var counter: UInt64
    /// How many of the page's records (its last ones) belong to the change.
    public var records: Int
    /// The sender's position after the last of them (see `PageCursor`).
    public var after: Int64

    /// A part.
    public init(replica: ReplicaID, counter: UInt64, records: Int, after: Int64) {
        self.replica = replica
        self.counter = counter
        self.records = records
        self.after = after
    }

    /// The change's dot.
    public var dot: Dot { Dot(replica: replica, counter: counter) }
    /// Where the next page resumes.
    public var cursor: PageCursor { PageCursor(replica: replica, counter: counter, after: after) }
}

/// Cuts a page from an ordered dots index.
///
/// `dots(o, afterCounter, afterPosition, upTo, n)` must return, in
/// `(counter, position)` order, up to `n` of the `(counter, position, recordID)`
/// entries of replica `o` that come after `(afterCounter, afterPosition)` with
/// `counter <= upTo` (`position` orders the records of one dot; `Int64.max` as
/// `afterPosition` skips every record of `afterCounter`). Shared by the in-memory
/// replica and the SQLite store, so both page alike.
///
/// A page holds at most `limit` records and, past its first record, `maxBytes`
/// bytes (`size`). The records of one dot (one change) go in one page when they
/// fit in one; a page never starts a change it cannot finish. A change that does
/// not fit an empty page still goes whole, past `limit`, when it holds at most
/// `wholeChange` records and fits `maxBytes` (a 10,000-member PATCH); a larger
/// one is split: the page is its first part (`partial`) and ends there, and
/// `cursor` (from the receiver's next request) makes the next page carry the rest first.
///
/// The index may hold dots above the sender's own clock (records that came in
/// pages cut short elsewhere). They are neither sent nor vouched for: coverage
/// never claims more than the sender's clock, and every record in a page holds
/// a dot inside the range the page covers (`base`, `coverage`], or the dot of
/// the part of a change it carries, which is what a receiver checks (a page
/// whose records the receiver's clock would never cover would be stored but
/// never passed on). Such records travel once the sender's clock covers them,
/// from it or from whoever cut its page short.
public func cutPage<Item>(replicaClock: VectorClock, peerClock: VectorClock, limit: Int, maxBytes: Int = .max,
                          wholeChange: Int = ChangePage.wholeChange, cursor: PageCursor? = nil,
                          dots: (ReplicaID, UInt64, Int64, UInt64, Int) throws -> [(counter: UInt64, position: Int64, id: String)],
                          item record: (String) throws -> Item?,
                          size: (Item) -> Int = { _ in 0 }) rethrows
    -> (items: [Item], coverage: VectorClock, more: Bool, partial: PartialChange?) {
    precondition(limit > 0)
    var seen = Set<String>()
    var records: [Item] = []
    var bytes = 0
    var coverage = VectorClock()
    var peer = peerClock

    func fits(_ count: Int, _ size: Int) -> Bool { records.count + count <= limit && bytes + size <= maxBytes }

    /// Adds rows of the change `(o, counter)` one by one while they fit (at least one in an
    /// empty page); returns the part carried if the change does not end in this page.
    func takeChange(_ o: ReplicaID, _ counter: UInt64, from start: Int64) throws -> PartialChange? {
        var position = start
        var taken = 0
        while true {
            let n = max(limit - records.count, 1) + 1
            let batch = try dots(o, counter, position, counter, n)
            for row in batch {
                if seen.contains(row.id) { position = row.position; continue }
                guard let it = try record(row.id) else { position = row.position; continue }
                let s = size(it)
                if !records.isEmpty && !fits(1, s) {
                    return PartialChange(replica: o, counter: counter, records: taken, after: position)
                }
                seen.insert(row.id)
                records.append(it)
                bytes += s
                taken += 1
                position = row.position
            }
            if batch.count < n { return nil }
        }
    }

    // The rest of a change that the receiver's last page carried the first part of, first.
    if let c = cursor, c.counter == peer[c.replica] + 1, c.counter <= replicaClock[c.replica] {
        if let part = try takeChange(c.replica, c.counter, from: c.after) {
            return (records, coverage, true, part)
        }
        peer[c.replica] = c.counter
        coverage[c.replica] = c.counter
    }
    for e in replicaClock.entries {
        let o = e.replica
        let from = peer[o]
        guard e.counter > from else { continue }
        var after = from
        func stop() -> (items: [Item], coverage: VectorClock, more: Bool, partial: PartialChange?) {
            if after > from { coverage[o] = after }
            return (records, coverage, true, nil)
        }
        while true {
            let room = limit - records.count
            if room <= 0 { return stop() }
            let n = room + 1
            let batch = try dots(o, after, .max, e.counter, n)
            let full = batch.count == n
            var k = 0
            while k < batch.count {
                let counter = batch[k].counter
                var g = k
                while g < batch.count && batch[g].counter == counter { g += 1 }
                if g < batch.count || !full {
                    // The whole change is in the batch.
                    var items: [(String, Item)] = []
                    var groupBytes = 0
                    for row in batch[k..<g] where !seen.contains(row.id) {
                        if let it = try record(row.id) {
                            items.append((row.id, it))
                            groupBytes += size(it)
                        }
                    }
                    if fits(items.count, groupBytes) || (records.isEmpty && items.count <= 1) {
                        for (id, it) in items {
                            seen.insert(id)
                            records.append(it)
                        }
                        bytes += groupBytes
                        after = counter
                        k = g
                        continue
                    }
                    // It fits a page, not what is left of this one: the next page starts with it.
                    if !records.isEmpty { return stop() }
                } else if !records.isEmpty {
                    // A change cut by the end of a full batch has more records than the page has room for.
                    return stop()
                }
                // A change over `limit`, at the start of this page: whole if it is not too large.
                let whole = try dots(o, counter, .min, counter, wholeChange + 1)
                if whole.count <= wholeChange {
                    var items: [(String, Item)] = []
                    var groupBytes = 0
                    for row in whole where !seen.contains(row.id) {
                        if let it = try record(row.id) {
                            items.append((row.id, it))
                            groupBytes += size(it)
                        }
                    }
                    if groupBytes <= maxBytes || items.count <= 1 {
                        for (id, it) in items {
                            seen.insert(id)
                            records.append(it)
                        }
                        bytes += groupBytes
                        after = counter
                        k = g
                        continue
                    }
                }
                // A change larger than a page, at the start of this one: its first part. It is the first
                // dot of `o` after `from` in the index, so the page covers `o` up to just before it (which
                // the receiver's next request pages from, and the cursor continues).
                if let part = try takeChange(o, counter, from: .min) {
                    if counter - 1 > from { coverage[o] = counter - 1 }
                    return (records, coverage, true, part)
                }
                // All of it fitted after all (records other dots had brought in were not counted twice).
                after = counter
                k = g
            }
            if !full {
                coverage[o] = e.counter
                break
            }
        }
    }
    return (records, coverage, false, nil)
}
