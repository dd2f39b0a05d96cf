import Foundation

/// A hybrid logical clock timestamp: wall-clock milliseconds in the high 48 bits,
/// a logical counter in the low 16.
///
/// Why an HLC rather than a plain Lamport counter: both guarantee that a write
/// made after seeing another gets a larger timestamp, so ordering concurrent
/// writes by `(timestamp, replica)` never lets an older write beat a newer one.
/// The HLC additionally stays close to wall-clock time, so between two truly
/// concurrent writes the one made later by the clock on the wall wins, which is
/// what an admin expects when two people regenerate the same link.
public struct HLC: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The packed value: `milliseconds << 16 | logical`.
    public var rawValue: UInt64

    /// Wraps a packed value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The zero timestamp, below every real one.
    public static let zero = HLC(rawValue: 0)

    /// The wall-clock part, in milliseconds since 1970.
    public var milliseconds: UInt64 { rawValue >> 16 }

    /// Orders by the packed value.
    public static func < (a: HLC, b: HLC) -> Bool { a.rawValue < b.rawValue }

    /// `milliseconds.logical`.
    public var description: String { "\(rawValue >> 16).\(rawValue & 0xFFFF)" }

    /// The next timestamp for a local write: above `last` and at least `now`.
    public static func next(after last: HLC, nowMilliseconds: UInt64) -> HLC {
        let physical = HLC(rawValue: nowMilliseconds << 16)
        return physical > last ? physical : HLC(rawValue: last.rawValue &+ 1)
    }

    /// The current wall clock in milliseconds since 1970.
    public static func wallMilliseconds() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }
}
