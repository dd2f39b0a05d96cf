import Crypto
import Foundation

/// Computes a state digest: SHA-256 over the replica clock, then every live
/// record's id and canonical encoding, in id order.
///
/// What two replicas that have exchanged everything agree on, whatever each
/// has purged: the replica clock (which changes they hold) and the records a
/// user can see, with their conflicts and record clocks. Tombstones are left
/// out, because when each replica purges them is its own business; a replica
/// that holds a delete another lacks still differs, by its clock.
///
/// Framing is unambiguous: the clock is its entry count then each entry
/// (16 bytes of replica id, a varint counter); each record is its id's byte
/// length (varint), the id, its encoding's length (varint), the encoding. So
/// ids `a`+`bc` and `ab`+`c` never hash alike, whatever bytes ids contain.
public struct StateDigest: ~Copyable {
    private var hasher = SHA256Hasher()

    /// Starts a digest of a replica whose clock is `clock`.
    public init(clock: VectorClock) {
        var head: [UInt8] = Array("setuplink-state-2".utf8)
        putVarint(UInt64(clock.entries.count), &head)
        for e in clock.entries {
            putUInt64(e.replica.high, &head)
            putUInt64(e.replica.low, &head)
            putVarint(e.counter, &head)
        }
        hasher.update(head)
    }

    /// Adds one live record, given as id and canonical encoding; ids must come in ascending byte order.
    public mutating func add(id: String, encoded: UnsafeRawBufferPointer) {
        var id = id
        var frame: [UInt8] = []
        id.withUTF8 { u in
            putVarint(UInt64(u.count), &frame)
            frame.append(contentsOf: u)
        }
        putVarint(UInt64(encoded.count), &frame)
        hasher.update(frame)
        hasher.update(encoded)
    }

    /// Finishes: 64 hex digits.
    public consuming func finalize() -> String { hasher.finalizeHex() }

    /// The digest of a replica holding `records` (tombstones among them are skipped) at `clock`.
    public static func of(_ records: some Sequence<Record>, clock: VectorClock) -> String {
        var d = StateDigest(clock: clock)
        for r in records.filter(\.isLive).sorted(by: { Array($0.id.utf8).lexicographicallyPrecedes(Array($1.id.utf8)) }) {
            r.encoded.withUnsafeBytes { d.add(id: r.id, encoded: $0) }
        }
        return d.finalize()
    }
}
