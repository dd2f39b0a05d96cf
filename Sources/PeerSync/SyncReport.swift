import Replica

/// Where a running sync is, reported after every page.
public struct SyncProgress: Sendable, Equatable {
    /// The two halves of a sync.
    public enum Phase: Sendable, Equatable {
        /// Receiving the peer's changes.
        case pull
        /// Sending this replica's changes.
        case push
    }

    /// The phase the page belongs to.
    public var phase: Phase
    /// Pages done so far in this phase.
    public var pages: Int
    /// Records received (pull) or sent (push) so far in this phase.
    public var records: Int
    /// Whether the peer or this replica said more pages follow.
    public var more: Bool
}

/// What a finished sync did.
public struct SyncReport: Sendable, Equatable {
    /// The peer's replica id.
    public var peerReplica: ReplicaID
    /// Records whose local state changed by what was pulled.
    public var pulled = 0
    /// Records sent to the peer.
    public var pushed = 0
    /// Local records that gained conflicts (or a delete that beat an update) from what was pulled.
    public var conflicts = 0
    /// Records on the peer that gained conflicts from what was pushed.
    public var peerConflicts = 0
    /// Pages pulled.
    public var pulledPages = 0
    /// Pages pushed.
    public var pushedPages = 0
    /// HTTP requests made.
    public var requests = 0
    /// Bytes sent on the wire (request lines, headers and bodies).
    public var bytesSent = 0
    /// Bytes received on the wire (status lines, headers and bodies).
    public var bytesReceived = 0
    /// The peer's replica clock after the push: what it has acknowledged.
    public var peerClock = VectorClock()
    /// The peer's purge floor, from its last answer.
    public var peerPurgeFloor = VectorClock()
    /// Tombstones this replica purged at the end of the sync.
    public var purged = 0
    /// Rounds the sync ran again after a correction (Replica.docc/Corrections.md).
    public var correctionRounds = 0
    /// Why the peer refused the push after the pull was kept (a read-only peer token: 403),
    /// or `nil`. The sync still succeeded: it pulled what the credential allows.
    public var pushRefused: String?
    /// Whether this sync was a resync (a full pull after dropping a lie), and the records
    /// it removed because the peer had purged them.
    public var resynced = false
    /// Records a resync removed (the peer had purged them).
    public var resyncRemoved = 0
    /// Records pulled (that changed the local state) by kind.
    public var pulledByKind: [RecordKind: Int] = [:]
    /// Records pushed by kind.
    public var pushedByKind: [RecordKind: Int] = [:]
    /// Changes a concurrent delete discarded in what was pulled (on either side): told to the user.
    public var discarded: [DiscardedChange] = []

    /// An empty report for a sync with `peerReplica`.
    public init(peerReplica: ReplicaID) { self.peerReplica = peerReplica }
}
