import Replica

/// What the SCIM flows (`Scim.ScimDirectory`) need from the replica, within one transaction.
///
/// This is the whole of the flows' store access. `ScimReplicaTransaction`
/// implements it over a `ReplicaStore` write transaction and the indexes of
/// `ScimIndex` (one transaction per SCIM request, so a change and its webhook
/// events commit together); `ScimReplicaReader` serves reads; tests also
/// implement it in memory.
public protocol ScimStore {
    /// The record with this id, tombstones included.
    func record(_ id: String) throws -> Record?
    /// Writes fields of a record (creating it if needed) in the current transaction.
    @discardableResult
    func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool) throws -> Record
    /// Deletes a record (a tombstone) in the current transaction.
    func delete(id: String) throws
    /// The live records whose key in `index` is exactly `key`.
    func lookup(_ index: ScimIndex, key: String) throws -> [Record]
    /// The live records whose key in `index` starts with `prefix`, in key order,
    /// skipping the first `offset` entries, at most `limit` (SCIM pages by `startIndex`).
    func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [Record]
    /// Every live record whose key in `index` starts with `prefix`, in key order,
    /// streamed to `body` (a full scan costs what the entries cost, once).
    func scanAll(_ index: ScimIndex, prefix: String, _ body: (Record) throws -> Void) throws
    /// How many entries of `index` start with `prefix`.
    func count(_ index: ScimIndex, prefix: String) throws -> Int
}
