import JSON
import Replica
import SetupLinks

/// A webhook event implied by an accepted SCIM change (SPEC §6).
///
/// The flow returns them; the wiring adds `tenant`, `product` and
/// `directory_id` and writes them to the outbox in the same transaction.
public struct ScimEvent: Sendable, Equatable {
    /// `user.created`, `user.updated`, `user.deleted`, `group.created`,
    /// `group.updated`, `group.deleted`, `group.user_added`, `group.user_removed`.
    public var type: String
    /// The event's `data`.
    public var data: JSONValue

    /// An event.
    public init(type: String, data: JSONValue) {
        self.type = type
        self.data = data
    }
}

/// What a write flow did: the record as stored, the resource to answer with, and the events.
public struct ScimOutcome: Sendable {
    /// The user or group record after the change.
    public var record: Record
    /// The resource (full; the handler applies the projection with `Projection.apply`).
    public var resource: JSONValue
    /// The events to send, in order.
    public var events: [ScimEvent]
    /// Whether anything was written (a no-op PATCH or PUT writes nothing and emits nothing).
    public var changed: Bool
}
