import Storage

/// Receives the events of one accepted change inside the change's transaction.
///
/// Called once per change that emitted events (never for a PUT or PATCH that
/// changed nothing, never for a deactivated or deleted directory), inside the
/// local transaction (`tx`) that made the change: what it writes to the replica
/// file (the webhook outbox) commits with the change or not at all. A sink that
/// throws rolls the change back. It runs under the store's lock: it must not
/// wait on the network or on another request.
public typealias DirectoryEventSink = @Sendable (_ tx: LocalTransaction, _ events: [DirectoryEvent]) throws -> Void
