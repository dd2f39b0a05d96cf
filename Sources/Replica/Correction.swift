import Foundation

/// What a replica said of itself when it met a lie about its own writes: how
/// many writes it had made, and the smallest counter it saw claimed beyond that.
///
/// Only replica X knows how many writes X made. A claim that X made more (in a
/// clock, a coverage, a record's clock) cannot be refuted by anyone else, and a
/// replica that believed it would skip X's later writes for ever. When X meets
/// such a claim it says so with a correction; the correction then travels from
/// replica to replica beside the pages, so that replicas that never meet X
/// still drop the lie, and one that dropped it refuses it when a peer that
/// still carries it offers it again (README "Lies about a third replica").
///
/// A claim `c` about X is a **known lie** when `c > made` and `c >= lie`: it is
/// at least as large as a claim X refuted, and beyond what X had made then.
/// Claims between the two may be X's real later writes and are accepted. A
/// correction with no lie (`lie == 0`) refutes nothing: X saying "I have made
/// `made`" once the lie it refuted lies below its counter.
public struct Correction: Hashable, Sendable, CustomStringConvertible {
    /// The writes the replica had made when it said so.
    public var made: UInt64
    /// The smallest claim known to be a lie, or 0 when none is (still) known.
    public var lie: UInt64

    /// A correction.
    public init(made: UInt64, lie: UInt64) {
        self.made = made
        self.lie = lie > made ? lie : 0
    }

    /// Whether a claim of `counter` writes is a known lie.
    @inline(__always)
    public func refutes(_ counter: UInt64) -> Bool { lie != 0 && counter >= lie && counter > made }

    /// The join: the most writes said, and the smallest lie that still lies above them.
    ///
    /// Commutative, associative and idempotent: `made` is the maximum, and `lie`
    /// the smallest of all lies larger than that maximum (a lie that the
    /// replica's real writes have since passed is no longer one).
    public func merged(with other: Correction) -> Correction {
        let m = max(made, other.made)
        var l: UInt64 = 0
        for c in [lie, other.lie] where c > m && (l == 0 || c < l) { l = c }
        return Correction(made: m, lie: l)
    }

    /// `made 9, lie 9007199254740991`.
    public var description: String { lie == 0 ? "made \(made)" : "made \(made), lie \(lie)" }
}

/// The corrections a replica knows, by the replica each is about.
public struct Corrections: Sendable, Equatable, Sequence {
    /// By replica.
    public private(set) var byReplica: [ReplicaID: Correction]

    /// None.
    public init() { byReplica = [:] }

    /// From pairs (merged when a replica appears twice).
    public init(_ pairs: some Sequence<(ReplicaID, Correction)>) {
        byReplica = [:]
        for (r, c) in pairs { merge(r, c) }
    }

    /// Whether there is none (the usual case: no replica was ever lied about).
    public var isEmpty: Bool { byReplica.isEmpty }

    /// How many replicas have a correction.
    public var count: Int { byReplica.count }

    /// The correction about `replica`, if any.
    public subscript(replica: ReplicaID) -> Correction? { byReplica[replica] }

    /// Merges one correction; returns whether anything changed.
    @discardableResult
    public mutating func merge(_ replica: ReplicaID, _ c: Correction) -> Bool {
        let new = byReplica[replica].map { $0.merged(with: c) } ?? c
        if byReplica[replica] == new { return false }
        byReplica[replica] = new
        return true
    }

    /// Merges all of `other`; returns the replicas whose correction changed.
    @discardableResult
    public mutating func merge(_ other: Corrections) -> [ReplicaID] {
        var changed: [ReplicaID] = []
        for (r, c) in other.byReplica.sorted(by: { $0.key < $1.key }) where merge(r, c) { changed.append(r) }
        return changed
    }

    /// Whether a claim of `counter` writes of `replica` is a known lie.
    @inline(__always)
    public func refutes(_ replica: ReplicaID, _ counter: UInt64) -> Bool {
        byReplica[replica]?.refutes(counter) ?? false
    }

    /// The first entry of `clock` that is a known lie, if any.
    public func firstLie(in clock: VectorClock) -> VectorClock.Entry? {
        if byReplica.isEmpty { return nil }
        return clock.entries.first { refutes($0.replica, $0.counter) }
    }

    /// Sorted by replica.
    public func makeIterator() -> IndexingIterator<[(ReplicaID, Correction)]> {
        byReplica.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }.makeIterator()
    }
}
