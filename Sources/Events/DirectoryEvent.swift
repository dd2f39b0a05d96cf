import JSON

/// Something that happened to a directory's users or groups: what (`kind`), where
/// (`directory`) and the resource as it was then (`data`).
///
/// The one event type of the house. Scim emits one per accepted change it
/// implies (Webhooks.docc/ReceivingWebhooks.md), inside the change's transaction; consumers receive them
/// there through a `DirectoryEventSink` (the webhook outbox today; the app API's
/// change feed and metrics later). No protocol module imports another to share it.
///
/// Small and plain on purpose: three values, all `Sendable` and `Equatable`, so an
/// event can be stored and compared as it is. It carries no id: a consumer that
/// stores it gives it one (the outbox's `seq`); the change that caused it is
/// named by the local transaction it was emitted in (`LocalTransaction.dot`).
/// Nor does it carry the directory's tenant and product: a consumer reads them
/// from the directory as it stands in that same transaction.
public struct DirectoryEvent: Sendable, Equatable {
    /// What happened: the event's name as sent (`user.created`, …) is its raw value.
    public enum Kind: String, Sendable, CaseIterable {
        /// A user was created (or a deleted one created again).
        case userCreated = "user.created"
        /// A user's attributes changed.
        case userUpdated = "user.updated"
        /// A user was deleted.
        case userDeleted = "user.deleted"
        /// A group was created (or a deleted one created again).
        case groupCreated = "group.created"
        /// A group's attributes other than its members changed.
        case groupUpdated = "group.updated"
        /// A group was deleted.
        case groupDeleted = "group.deleted"
        /// A member was added to a group.
        case groupUserAdded = "group.user_added"
        /// A member was removed from a group (or its user was deleted).
        case groupUserRemoved = "group.user_removed"
    }

    /// What happened.
    public var kind: Kind
    /// The id of the directory it happened in.
    public var directory: String
    /// The event's `data` object, as `EventData` builds it from the resource.
    public var data: JSONValue

    /// An event of `kind` in `directory` with `data`.
    public init(_ kind: Kind, directory: String, data: JSONValue) {
        self.kind = kind
        self.directory = directory
        self.data = data
    }

    /// The event's name as sent: `user.created`, `group.user_added`, ….
    public var name: String { kind.rawValue }
}
