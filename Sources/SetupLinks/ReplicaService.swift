import Replica
import Storage

/// What the replica says about itself: its identity, record counts, digest,
/// clock and the records whose concurrent writes lost.
///
/// A thin door onto ``ReplicaStore`` for the console, so that commands name
/// what they ask for and not where it is kept.
public struct ReplicaService: Sendable {
    private let store: ReplicaStore

    /// A door onto `store`.
    public init(store: ReplicaStore) { self.store = store }

    /// This replica's id.
    public var id: ReplicaID { store.replicaID }

    /// The replica file.
    public var path: String { store.path }

    /// Live records per kind (memberships not counted) and tombstones.
    public func counts() throws -> (links: Int, directories: Int, users: Int, groups: Int, tombstones: Int) {
        try store.counts()
    }

    /// The state digest: equal on two replicas that hold the same live records and clock.
    public func digest() throws -> String { try store.digest() }

    /// The replica clock.
    public func clock() throws -> VectorClock { try store.clock() }

    /// Every live record that holds conflicts (concurrent values that lost), sorted by id.
    public func recordsWithConflicts() throws -> [Record] { try store.recordsWithConflicts() }

    /// The changes concurrent deletes discarded here, until marked seen.
    public func discardedChanges() throws -> [DiscardedChanges.Entry] { try store.discardedChanges.all() }

    /// Marks every discarded change seen; returns how many there were.
    @discardableResult
    public func markDiscardedSeen() throws -> Int { try store.discardedChanges.markSeen() }

    /// One record by id, tombstones included.
    public func record(id: String) throws -> Record? { try store.record(id: id) }

    /// Every member of the replicated system, with what each holds back from purging; this replica first.
    public func members() throws -> [MemberInfo] { try store.memberInfos() }

    /// The member `typed` (an id or a unique prefix) names.
    public func member(_ typed: String) throws -> ReplicaID { try store.resolveMember(Validation.trimmed(typed)) }

    /// Retires `member` (Storage.docc/RetiringAMember.md); returns the counter its writes are kept up to.
    @discardableResult
    public func retire(member: ReplicaID) throws -> UInt64 { try store.retire(member: member) }

    /// Ids of live records of `kind` starting with `prefix`, in id order, at most `limit`.
    public func ids(kind: RecordKind, prefix: String, limit: Int) throws -> [String] {
        try store.ids(kind: kind, prefix: prefix, limit: limit)
    }
}
