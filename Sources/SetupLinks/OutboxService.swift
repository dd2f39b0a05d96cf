import Storage

/// The webhook events this replica accepted and how their delivery went, read
/// from the replica file alone (so it works offline, also while a hub serves it).
///
/// A thin, read-only door onto ``OutboxStore`` for the console.
public struct OutboxService: Sendable {
    /// One event in the outbox.
    public typealias Event = OutboxEvent
    /// Where an event is in its delivery.
    public typealias Status = OutboxStatus
    /// How many events are in each state.
    public typealias Counts = OutboxCounts

    private let store: ReplicaStore

    /// A door onto `store`.
    public init(store: ReplicaStore) { self.store = store }

    /// A directory's events in delivery order after `seq` (a cursor), at most `limit`.
    public func events(directory: String, after seq: Int64 = 0, status: Status? = nil, limit: Int) throws -> [Event] {
        try store.outbox.events(directory: directory, after: seq, status: status, limit: limit)
    }

    /// How many events of `directory` are in each state.
    public func counts(directory: String) throws -> Counts { try store.outbox.counts(directory: directory) }

    /// How many events wait to be delivered, over every directory.
    public func pendingCount() throws -> Int { try store.outbox.pendingCount() }

    /// The directory ids the outbox holds events of that start with `prefix`, sorted, at most `limit`.
    public func directories(prefix: String, limit: Int) throws -> [String] {
        try store.outbox.directories(prefix: prefix, limit: limit)
    }
}
