import Foundation

/// SplitMix64: a small, fast, seedable generator for randomized tests and benchmark data.
///
/// Not for secrets: tokens and ids come from the system CSPRNG.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that replays the same sequence for the same seed.
    public init(seed: UInt64) { state = seed }

    /// A seed from the environment variable `name` if set (to replay a failure), else a random one.
    public static func seed(from name: String = "SETUPLINK_SEED") -> UInt64 {
        if let s = ProcessInfo.processInfo.environment[name], let v = UInt64(s) { return v }
        return UInt64.random(in: 1...UInt64.max)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
