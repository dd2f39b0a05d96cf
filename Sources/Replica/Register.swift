import Foundation

/// One value written to a register, with the write's timestamp and dot.
public struct Version<Value: Hashable & Sendable>: Hashable, Sendable {
    /// The value written.
    public var value: Value
    /// The hybrid logical timestamp of the write.
    public var hlc: HLC
    /// The write's dot.
    public var dot: Dot

    /// Creates a version.
    public init(value: Value, hlc: HLC, dot: Dot) {
        self.value = value
        self.hlc = hlc
        self.dot = dot
    }

    /// Whether this version beats `other` as the visible value:
    /// the larger timestamp wins, then the larger replica id, then the larger counter.
    ///
    /// This is the only winner rule (readers of encoded records call it too).
    @inline(__always)
    public func wins(over other: Version) -> Bool {
        if hlc != other.hlc { return hlc > other.hlc }
        if dot.replica != other.dot.replica { return dot.replica > other.dot.replica }
        return dot.counter > other.dot.counter
    }
}

/// A multi-value register over dotted version vectors.
///
/// Holds the values written concurrently that no replica has yet overwritten,
/// sorted by dot. The visible value is the winner by `(hlc, replica)`; the
/// other *values* are the register's conflicts, until the next write replaces
/// them all. Two concurrent writes of the same value are two versions (each
/// keeps its dot, which the join needs) but not a conflict: a conflict is a
/// concurrent write of a different value.
public struct Register<Value: Hashable & Sendable>: Hashable, Sendable {
    /// The concurrent values, sorted by dot, at most one per dot.
    public private(set) var versions: [Version<Value>]

    /// An empty register (never written).
    public init() { versions = [] }

    /// A register holding one written value.
    public init(_ version: Version<Value>) { versions = [version] }

    /// A register from versions in any order; duplicated dots are kept once.
    public init(versions: [Version<Value>]) {
        // Already strictly sorted (the usual case on the wire and on disk): take as is.
        var ordered = true
        var k = 1
        while k < versions.count {
            if !(versions[k - 1].dot < versions[k].dot) { ordered = false; break }
            k += 1
        }
        if ordered {
            self.versions = versions
            return
        }
        var sorted = versions.sorted { $0.dot < $1.dot }
        var i = 1
        while i < sorted.count {
            if sorted[i].dot == sorted[i - 1].dot { sorted.remove(at: i) } else { i += 1 }
        }
        self.versions = sorted
    }

    init(sortedVersions: [Version<Value>]) { versions = sortedVersions }

    /// Whether the register was never written.
    public var isEmpty: Bool { versions.isEmpty }

    /// The visible version: the winner by `(hlc, replica)`.
    public var winner: Version<Value>? {
        guard var best = versions.first else { return nil }
        for v in versions.dropFirst() where v.wins(over: best) { best = v }
        return best
    }

    /// The visible value.
    public var value: Value? { winner?.value }

    /// The conflicts: for each value other than the visible one, the version
    /// of it that wins among its equals, in dot order. Versions holding the
    /// visible value are not conflicts, nor are equal values counted twice.
    public var losers: [Version<Value>] {
        guard versions.count > 1, let w = winner else { return [] }
        var out: [Version<Value>] = []
        for v in versions where v.value != w.value {
            if let i = out.firstIndex(where: { $0.value == v.value }) {
                if v.wins(over: out[i]) { out[i] = v }
            } else {
                out.append(v)
            }
        }
        return out
    }

    /// Whether the register holds concurrent values that differ (a conflict).
    public var hasConflict: Bool {
        guard let first = versions.first else { return false }
        return versions.dropFirst().contains { $0.value != first.value }
    }

    /// Replaces every version with one new write (the writer has seen them all).
    public mutating func write(_ version: Version<Value>) { versions = [version] }

    /// The multi-value-register join.
    ///
    /// A version of one side survives unless the other side's clock covers its
    /// dot and the other side no longer holds it (the other side saw it and
    /// overwrote it). Versions held by both sides are kept once.
    public static func merge(_ l: Register, _ lClock: VectorClock,
                             _ s: Register, _ sClock: VectorClock) -> Register {
        if l.versions == s.versions { return l }
        var out: [Version<Value>] = []
        out.reserveCapacity(l.versions.count + s.versions.count)
        var i = 0, j = 0
        let a = l.versions, b = s.versions
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].dot < b[j].dot) {
                if !sClock.covers(a[i].dot) { out.append(a[i]) }
                i += 1
            } else if i == a.count || b[j].dot < a[i].dot {
                if !lClock.covers(b[j].dot) { out.append(b[j]) }
                j += 1
            } else {
                // The same dot on both sides is the same write: keep it once.
                out.append(a[i])
                i += 1; j += 1
            }
        }
        return Register(sortedVersions: out)
    }
}
