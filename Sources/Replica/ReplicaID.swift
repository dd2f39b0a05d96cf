import Bytes
import Foundation

/// The identity of one replica: 128 random bits, generated once and persisted.
///
/// Ordered as an unsigned 128-bit number; printed as 32 lowercase hex digits.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The high 64 bits.
    public let high: UInt64
    /// The low 64 bits.
    public let low: UInt64

    /// Creates an id from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A fresh id from the system CSPRNG (`getrandom` on Linux).
    public static func random() -> ReplicaID {
        var rng = SystemRandomNumberGenerator()
        return ReplicaID(high: rng.next(), low: rng.next())
    }

    /// Parses 32 hex digits; `nil` for anything else.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, c) in utf8.enumerated() {
            guard let v = Hex.value(c) else { return nil }
            if i < 16 { h = h << 4 | UInt64(v) } else { l = l << 4 | UInt64(v) }
        }
        self.init(high: h, low: l)
    }

    /// 32 lowercase hex digits.
    public var hex: String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<16 {
            bytes[i] = Hex.digit(UInt8((high >> (60 - 4 * UInt64(i))) & 0xF))
            bytes[16 + i] = Hex.digit(UInt8((low >> (60 - 4 * UInt64(i))) & 0xF))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The hex form.
    public var description: String { hex }

    /// Orders ids as unsigned 128-bit numbers.
    public static func < (a: ReplicaID, b: ReplicaID) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}

/// One write: the replica that made it and that replica's counter value for it.
///
/// Every local transaction takes the next counter value, so a dot names one
/// transaction of one replica, and a vector clock that covers a dot has seen it.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The replica that made the write.
    public var replica: ReplicaID
    /// That replica's counter for the write (starts at 1).
    public var counter: UInt64

    /// Creates a dot.
    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    /// Orders by replica, then counter: the canonical order of values in a register.
    public static func < (a: Dot, b: Dot) -> Bool {
        a.replica != b.replica ? a.replica < b.replica : a.counter < b.counter
    }

    /// `replica:counter`.
    public var description: String { "\(replica.hex):\(counter)" }
}
