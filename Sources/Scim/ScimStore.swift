import JSON
import Replica
import SetupLinks

/// What the SCIM flows need from the replica, within one transaction.
///
/// This is the whole of the flows' store access: the wiring implements it
/// over `Storage`'s `LocalTransaction` and the secondary indexes that
/// `ScimIndex` declares (one write transaction per SCIM request, so a change
/// and its webhook events commit together). Tests implement it in memory.
public protocol ScimStore {
    /// The record with this id, tombstones included.
    func record(_ id: String) throws -> Record?
    /// Writes fields of a record (creating it if needed) in the current transaction.
    @discardableResult
    func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool) throws -> Record
    /// Deletes a record (a tombstone) in the current transaction.
    func delete(id: String) throws
    /// The ids of the records whose entry in `index` is exactly `key`.
    func lookup(_ index: ScimIndex, key: String) throws -> [String]
    /// The ids of the records whose entry in `index` starts with `prefix`, in key
    /// order, skipping the first `offset`, at most `limit`.
    func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [String]
    /// How many entries of `index` start with `prefix`.
    func count(_ index: ScimIndex, prefix: String) throws -> Int
}

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
