/// Where an outbox event stands.
public enum OutboxStatus: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Not delivered yet: waiting for its turn or for its next retry.
    case pending = 0
    /// The receiver answered 2xx.
    case delivered = 1
    /// Given up: it kept failing for longer than the delivery worker retries.
    case failed = 2
    /// Not sent, and never will be: its directory was deactivated or deleted while it waited.
    case dropped = 3

    /// `pending`, `delivered`, `failed`, `dropped`.
    public var description: String {
        switch self {
        case .pending: return "pending"
        case .delivered: return "delivered"
        case .failed: return "failed"
        case .dropped: return "dropped"
        }
    }

    /// The status named `name`, if any.
    public init?(name: String) {
        guard let s = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = s
    }
}

/// One event of this replica's webhook outbox and its delivery state.
///
/// The outbox is local: it is a table of the replica file, never a record, so
/// it is not synced and each event leaves from the replica that accepted its
/// change. Times are Unix milliseconds.
public struct OutboxEvent: Sendable, Equatable {
    /// The delivery order: increasing, never reused.
    public var seq: Int64
    /// The directory id.
    public var directory: String
    /// The event type (`user.created`, …).
    public var event: String
    /// The event's JSON, exactly as it is sent (unsigned); emptied once delivered
    /// (the log keeps what happened, not people's data).
    public var body: [UInt8]
    /// When the change was accepted.
    public var created: UInt64
    /// Where it stands.
    public var status: OutboxStatus
    /// Delivery attempts made (failed ones, and the one that succeeded).
    public var attempts: Int
    /// For a pending event: when it may be tried next.
    public var nextAttempt: UInt64
    /// When it was last tried.
    public var lastAttempt: UInt64?
    /// The HTTP status of the last attempt, if the receiver answered.
    public var lastStatus: Int?
    /// Why the last attempt failed (or why it was dropped), if it did.
    public var lastError: String?
    /// When it was delivered, given up or dropped.
    public var finished: UInt64?
    /// The id of the event's replicated record (kind `event`), when it has one.
    public var eventID: String? = nil
}

/// A pending event as the sender first learns of it: where, and when it is due.
public struct OutboxRef: Sendable, Equatable {
    /// The event's seq.
    public var seq: Int64
    /// Its directory.
    public var directory: String
    /// When it may be tried (Unix milliseconds).
    public var nextAttempt: UInt64
}

/// How many outbox events are in each state.
public struct OutboxCounts: Sendable, Equatable {
    /// Waiting to be delivered.
    public var pending = 0
    /// Delivered (and not yet purged by housekeeping).
    public var delivered = 0
    /// Given up.
    public var failed = 0
    /// Dropped (directory deactivated or deleted).
    public var dropped = 0

    /// An empty count.
    public init() {}
}
