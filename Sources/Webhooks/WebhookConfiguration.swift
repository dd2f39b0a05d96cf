/// How the hub delivers webhook events: batching, limits, retries, housekeeping.
///
/// The defaults are what `serve` uses; tests shorten the times.
public struct WebhookConfiguration: Sendable {
    /// With a value N: every request carries a JSON array of up to N events of
    /// one directory (`serve --webhook-batch N`). `nil` (the default): one event,
    /// one JSON object, per request.
    public var batchSize: Int?
    /// Directories delivered to at the same time (one sender thread each); a
    /// directory's events always go one request at a time, in order. Slow
    /// directories (see `slowAttempt`) hold at most half of them.
    public var senders: Int
    /// An attempt that fails, or takes this long or longer, makes its directory
    /// "slow" until an attempt is delivered quicker: slow directories hold at most
    /// half the senders at once (an attempt in flight this long counts too), so
    /// receivers that hang delay only their own directories' events.
    public var slowAttempt: Duration
    /// Limit on connecting to a receiver.
    public var connectTimeout: Duration
    /// Limit on a whole request, connecting included: a receiver that hangs
    /// costs one failed attempt of this length.
    public var timeout: Duration
    /// The most of a receiver's answer that is read; a longer one fails the attempt.
    public var maxResponseBytes: Int
    /// The delay before the first retry; each further failure doubles it.
    public var retryBase: Duration
    /// The longest delay between two attempts.
    public var retryCap: Duration
    /// An event still failing this long after its change was accepted is given up (`failed`).
    public var giveUpAfter: Duration
    /// How long delivered, failed and dropped events stay listed before housekeeping deletes them.
    public var keepFinished: Duration
    /// The longest the worker sleeps without looking at the outbox (events written
    /// by another process on the same file are found this way).
    public var pollInterval: Duration
    /// How often finished events are purged.
    public var housekeepingInterval: Duration
    /// Requests made to one directory before its sender looks at the others, so
    /// a long backlog does not keep other directories waiting.
    public var burst: Int

    /// The defaults: no batching, 16 senders (slow directories hold at most 8), an
    /// attempt of 2 s or more is slow, 5 s to connect, 10 s per request,
    /// 64 KiB of answer, retries after 2 s doubling up to 10 minutes, given up
    /// after 3 days, finished events kept 7 days.
    public init(batchSize: Int? = nil, senders: Int = 16, slowAttempt: Duration = .seconds(2), connectTimeout: Duration = .seconds(5),
                timeout: Duration = .seconds(10), maxResponseBytes: Int = 64 * 1024,
                retryBase: Duration = .seconds(2), retryCap: Duration = .seconds(600),
                giveUpAfter: Duration = .seconds(3 * 86_400), keepFinished: Duration = .seconds(7 * 86_400),
                pollInterval: Duration = .seconds(1), housekeepingInterval: Duration = .seconds(3_600),
                burst: Int = 100) {
        self.batchSize = batchSize
        self.senders = senders
        self.slowAttempt = slowAttempt
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.retryBase = retryBase
        self.retryCap = retryCap
        self.giveUpAfter = giveUpAfter
        self.keepFinished = keepFinished
        self.pollInterval = pollInterval
        self.housekeepingInterval = housekeepingInterval
        self.burst = burst
    }

    /// The delay before attempt `attempts + 1` after `attempts` failures:
    /// `retryBase × 2^(attempts−1)`, capped at `retryCap`, then a random part of
    /// it taken off ("equal jitter": between half and all of it), so receivers
    /// coming back are not hit by every hub at the same instant.
    public func retryDelay(afterFailures attempts: Int,
                           using random: inout some RandomNumberGenerator) -> Duration {
        let base = Self.milliseconds(retryBase), cap = Self.milliseconds(retryCap)
        let shift = min(max(attempts - 1, 0), 40)
        let full = min(cap, base << UInt64(shift))
        let half = full / 2
        let jitter = half > 0 ? UInt64.random(in: 0...half, using: &random) : 0
        return .milliseconds(Int64(full - half + jitter))
    }

    /// A duration in whole milliseconds (negative durations are 0).
    static func milliseconds(_ d: Duration) -> UInt64 {
        let c = d.components
        guard c.seconds >= 0 else { return 0 }
        return UInt64(c.seconds) * 1000 + UInt64(c.attoseconds / 1_000_000_000_000_000)
    }
}
