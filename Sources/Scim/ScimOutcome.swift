import Events
import JSON
import Replica

/// What a write flow did: the record as stored, the resource to answer with, and the events.
public struct ScimOutcome: Sendable {
    /// The user or group record after the change.
    public var record: Record
    /// The resource (full; the handler applies the projection with `Projection.apply`).
    public var resource: JSONValue
    /// The events to send, in order.
    public var events: [DirectoryEvent]
    /// Whether anything was written (a no-op PATCH or PUT writes nothing and emits nothing).
    public var changed: Bool
}
