import Foundation

/// A vector clock: for each replica, the highest counter that has been seen.
///
/// Stored as an array sorted by replica id, without zero entries, so equal
/// clocks have equal representations and comparisons are a single merge walk.
public struct VectorClock: Hashable, Sendable, CustomStringConvertible {
    /// One replica's entry.
    public struct Entry: Hashable, Sendable {
        /// The replica.
        public var replica: ReplicaID
        /// The highest counter of that replica covered by the clock (> 0).
        public var counter: UInt64
        /// Creates an entry.
        public init(replica: ReplicaID, counter: UInt64) {
            self.replica = replica
            self.counter = counter
        }
    }

    /// How two clocks relate.
    public enum Order: Sendable, Equatable {
        /// Both clocks are the same.
        case equal
        /// The left clock is strictly dominated by the right one.
        case before
        /// The left clock strictly dominates the right one.
        case after
        /// Neither dominates: the histories are concurrent.
        case concurrent
    }

    /// Entries sorted by replica id, each counter > 0.
    public private(set) var entries: [Entry]

    /// The empty clock.
    public init() { entries = [] }

    /// A clock from entries in any order; duplicates keep the maximum, zeros are dropped.
    public init(_ pairs: some Sequence<(ReplicaID, UInt64)>) {
        var map: [ReplicaID: UInt64] = [:]
        for (r, c) in pairs where c > 0 { map[r] = max(map[r] ?? 0, c) }
        entries = map.map { Entry(replica: $0.key, counter: $0.value) }.sorted { $0.replica < $1.replica }
    }

    /// Wraps entries that are already sorted, unique and non-zero.
    init(sortedEntries: [Entry]) { entries = sortedEntries }

    /// Whether no replica has an entry.
    public var isEmpty: Bool { entries.isEmpty }

    /// The counter for `replica`, 0 if absent.
    public subscript(replica: ReplicaID) -> UInt64 {
        get {
            var lo = 0, hi = entries.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                let r = entries[mid].replica
                if r == replica { return entries[mid].counter }
                if r < replica { lo = mid + 1 } else { hi = mid }
            }
            return 0
        }
        set {
            var lo = 0, hi = entries.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if entries[mid].replica < replica { lo = mid + 1 } else { hi = mid }
            }
            if lo < entries.count && entries[lo].replica == replica {
                if newValue == 0 { entries.remove(at: lo) } else { entries[lo].counter = newValue }
            } else if newValue > 0 {
                entries.insert(Entry(replica: replica, counter: newValue), at: lo)
            }
        }
    }

    /// Whether the clock has seen `dot`.
    @inline(__always)
    public func covers(_ dot: Dot) -> Bool { self[dot.replica] >= dot.counter }

    /// Raises the entry of `dot`'s replica to at least its counter.
    public mutating func add(_ dot: Dot) {
        if self[dot.replica] < dot.counter { self[dot.replica] = dot.counter }
    }

    /// The least upper bound: each replica's maximum.
    public func merged(with other: VectorClock) -> VectorClock {
        if other.entries.isEmpty || self == other { return self }
        if entries.isEmpty { return other }
        var out: [Entry] = []
        out.reserveCapacity(max(entries.count, other.entries.count))
        var i = 0, j = 0
        let a = entries, b = other.entries
        while i < a.count && j < b.count {
            if a[i].replica == b[j].replica {
                out.append(Entry(replica: a[i].replica, counter: max(a[i].counter, b[j].counter)))
                i += 1; j += 1
            } else if a[i].replica < b[j].replica {
                out.append(a[i]); i += 1
            } else {
                out.append(b[j]); j += 1
            }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return VectorClock(sortedEntries: out)
    }

    /// Merges `other` into this clock.
    public mutating func merge(_ other: VectorClock) { self = merged(with: other) }

    /// The greatest lower bound: each replica's minimum (absent counts as 0).
    public func meet(_ other: VectorClock) -> VectorClock {
        var out: [Entry] = []
        for e in entries {
            let c = min(e.counter, other[e.replica])
            if c > 0 { out.append(Entry(replica: e.replica, counter: c)) }
        }
        return VectorClock(sortedEntries: out)
    }

    /// How this clock relates to `other`.
    public func compare(_ other: VectorClock) -> Order {
        var less = false, greater = false
        var i = 0, j = 0
        let a = entries, b = other.entries
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].replica < b[j].replica) {
                greater = true; i += 1
            } else if i == a.count || b[j].replica < a[i].replica {
                less = true; j += 1
            } else {
                if a[i].counter < b[j].counter { less = true } else if a[i].counter > b[j].counter { greater = true }
                i += 1; j += 1
            }
            if less && greater { return .concurrent }
        }
        return less ? .before : (greater ? .after : .equal)
    }

    /// Whether every entry of this clock is at most the other's.
    public func isDominated(by other: VectorClock) -> Bool {
        let o = compare(other)
        return o == .equal || o == .before
    }

    /// The total of all counters: how many writes the clock covers.
    public var sum: UInt64 { entries.reduce(0) { $0 &+ $1.counter } }

    /// The compact text form `replicahex:counter,replicahex:counter` (empty for the empty clock).
    public var encoded: String {
        entries.map { "\($0.replica.hex):\($0.counter)" }.joined(separator: ",")
    }

    /// Parses the compact text form; `nil` if malformed.
    public init?(encoded: String) {
        if encoded.isEmpty { self.init(); return }
        var pairs: [(ReplicaID, UInt64)] = []
        for part in encoded.split(separator: ",", omittingEmptySubsequences: false) {
            let kv = part.split(separator: ":", omittingEmptySubsequences: false)
            guard kv.count == 2, let r = ReplicaID(hex: kv[0]), let c = UInt64(kv[1]), c > 0 else { return nil }
            pairs.append((r, c))
        }
        self.init(pairs)
    }

    /// The compact text form, or `{}` when empty.
    public var description: String { entries.isEmpty ? "{}" : encoded }
}
