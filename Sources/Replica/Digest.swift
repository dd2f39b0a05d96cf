import Crypto
import Foundation

/// A sum of record hashes modulo 2^256: the part of a state digest that a replica keeps up to
/// date on every write, so `status` and `/metrics` read it instead of every record.
///
/// Each live record contributes `SHA-256(frame)`, read as a 256-bit little-endian number; a
/// write subtracts the old record's contribution and adds the new one's. Addition commutes,
/// so the sum does not depend on the order records arrived or were stored in, and two
/// replicas holding the same live records hold the same sum.
///
/// It is a convergence check, not a signature: a multiset hash this small can be forced to
/// collide by someone free to choose many records, so nothing trusts it to decide what to
/// accept (sync checks every record by its own rules).
public struct StateSum: Equatable, Sendable {
    /// The 256-bit value as four little-endian 64-bit limbs.
    public private(set) var limbs: (UInt64, UInt64, UInt64, UInt64)

    /// Zero: the sum of no records.
    public static let zero = StateSum(limbs: (0, 0, 0, 0))

    init(limbs: (UInt64, UInt64, UInt64, UInt64)) { self.limbs = limbs }

    /// The sum stored as 32 little-endian bytes; anything of another length is zero (an empty sum).
    public init(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else {
            self = .zero
            return
        }
        func limb(_ k: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)) }
        limbs = (limb(0), limb(1), limb(2), limb(3))
    }

    /// The sum as 32 little-endian bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for v in [limbs.0, limbs.1, limbs.2, limbs.3] { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    public static func == (a: StateSum, b: StateSum) -> Bool {
        a.limbs.0 == b.limbs.0 && a.limbs.1 == b.limbs.1 && a.limbs.2 == b.limbs.2 && a.limbs.3 == b.limbs.3
    }

    /// Adds `other` modulo 2^256.
    public mutating func add(_ other: StateSum) {
        var carry: UInt64 = 0
        func step(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (s1, o1) = a.addingReportingOverflow(b)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
            return s2
        }
        limbs = (step(limbs.0, other.limbs.0), step(limbs.1, other.limbs.1), step(limbs.2, other.limbs.2), step(limbs.3, other.limbs.3))
    }

    /// Subtracts `other` modulo 2^256.
    public mutating func subtract(_ other: StateSum) {
        var borrow: UInt64 = 0
        func step(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (d1, o1) = a.subtractingReportingOverflow(b)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
            return d2
        }
        limbs = (step(limbs.0, other.limbs.0), step(limbs.1, other.limbs.1), step(limbs.2, other.limbs.2), step(limbs.3, other.limbs.3))
    }

    /// One live record's contribution: SHA-256 over its id's byte length (varint), the id, its
    /// encoding's length (varint) and the encoding. Framed by lengths, so ids `a`+`bc` and
    /// `ab`+`c` never hash alike, whatever bytes ids contain.
    public static func of(id: UnsafeRawBufferPointer, encoded: UnsafeRawBufferPointer) -> StateSum {
        var frame: [UInt8] = []
        frame.reserveCapacity(id.count + 20)
        putVarint(UInt64(id.count), &frame)
        frame.append(contentsOf: id)
        putVarint(UInt64(encoded.count), &frame)
        var hasher = SHA256Hasher()
        hasher.update(frame)
        hasher.update(encoded)
        return hasher.finalizeBytes().withUnsafeBytes { StateSum(bytes: $0) }
    }

    /// One live record's contribution, by its id as text.
    public static func of(id: String, encoded: UnsafeRawBufferPointer) -> StateSum {
        var id = id
        return id.withUTF8 { of(id: UnsafeRawBufferPointer($0), encoded: encoded) }
    }
}

/// Computes a state digest: SHA-256 over the replica clock and the `StateSum` of every live
/// record (its id and canonical encoding).
///
/// What two replicas that have exchanged everything agree on, whatever each
/// has purged: the replica clock (which changes they hold) and the records a
/// user can see, with their conflicts and record clocks. Tombstones are left
/// out, because when each replica purges them is its own business; a replica
/// that holds a delete another lacks still differs, by its clock.
///
/// Framing is unambiguous: the clock is its entry count then each entry
/// (16 bytes of replica id, a varint counter), then the 32 bytes of the sum.
/// Records may be added in any order. A replica store keeps the sum as it writes
/// (`ReplicaStore.digest()` reads it); this type computes it from records.
public struct StateDigest: ~Copyable {
    private let clock: VectorClock
    private var sum = StateSum.zero

    /// Starts a digest of a replica whose clock is `clock`.
    public init(clock: VectorClock) { self.clock = clock }

    /// Adds one live record, given as id and canonical encoding (in any order).
    public mutating func add(id: String, encoded: UnsafeRawBufferPointer) {
        sum.add(StateSum.of(id: id, encoded: encoded))
    }

    /// Finishes: 64 hex digits.
    public consuming func finalize() -> String { Self.digest(clock: clock, sum: sum) }

    /// The digest of a replica at `clock` whose live records sum to `sum`.
    public static func digest(clock: VectorClock, sum: StateSum) -> String {
        var head: [UInt8] = Array("setuplink-state-3".utf8)
        putVarint(UInt64(clock.entries.count), &head)
        for e in clock.entries {
            putUInt64(e.replica.high, &head)
            putUInt64(e.replica.low, &head)
            putVarint(e.counter, &head)
        }
        head += sum.bytes
        var hasher = SHA256Hasher()
        hasher.update(head)
        return hasher.finalizeHex()
    }

    /// The digest of a replica holding `records` (tombstones among them are skipped) at `clock`.
    public static func of(_ records: some Sequence<Record>, clock: VectorClock) -> String {
        var d = StateDigest(clock: clock)
        for r in records where r.isLive {
            r.encoded.withUnsafeBytes { d.add(id: r.id, encoded: $0) }
        }
        return d.finalize()
    }
}
