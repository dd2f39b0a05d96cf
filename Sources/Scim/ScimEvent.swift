import JSON

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
