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
/// still carries it offers it again (Replica.docc/Corrections.md).
///
/// Once X has refuted a lie, a claim `c` about X is a **known lie** when
/// `c > made`: X keeps sending its correction, with its current counter as
/// `made`, in every message, and every replica passes on what it knows beside
/// the pages it sends, so a replica that holds a real write of X has learned a
/// `made` at least as large with it (it merges a message's corrections before its
/// pages). A claim beyond every `made` that travelled is a claim no write of X
/// backs. `lie` keeps the smallest claim refuted, for people to read.
public struct Correction: Hashable, Sendable, CustomStringConvertible {
    /// The most writes the replica is known to have made (what it said, last).
    public var made: UInt64
    /// The smallest claim known to have been refuted above `made`, or 0.
    public var lie: UInt64
    /// Whether the replica was retired (`member retire`): then `made` is where its writes
    /// stop being accepted, and it never rises again.
    public var retired: Bool

    /// A correction.
    public init(made: UInt64, lie: UInt64, retired: Bool = false) {
        self.made = made
        self.lie = lie > made ? lie : 0
        self.retired = retired
    }

    /// Whether a claim of `counter` writes is a known lie.
    @inline(__always)
    public func refutes(_ counter: UInt64) -> Bool { counter > made }

    /// The join: the most writes said, and the smallest refuted claim that still lies above them.
    ///
    /// Commutative, associative and idempotent: `made` is the maximum, and `lie`
    /// the smallest of all lies larger than that maximum.
    ///
    /// A retirement wins over what the replica said of itself (its later writes are refused
    /// whatever it says); of two retirements, the one that keeps the most writes wins.
    public func merged(with other: Correction) -> Correction {
        if retired != other.retired { return retired ? self : other }
        let m = max(made, other.made)
        var l: UInt64 = 0
        for c in [lie, other.lie] where c > m && (l == 0 || c < l) { l = c }
        return Correction(made: m, lie: l, retired: retired)
    }

    /// `made 9, refuted 9007199254740991`.
    public var description: String {
        retired ? "retired at \(made)" : lie == 0 ? "made \(made)" : "made \(made), refuted \(lie)"
    }
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
