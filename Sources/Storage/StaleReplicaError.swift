import Replica

/// A replica's changes were refused because it holds less than it once
/// acknowledged, while tombstones were purged on the strength of that
/// acknowledgement: merging it could bring deleted records back.
///
/// Nothing was applied. The sentence says what to do.
public struct StaleReplicaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Which side has to act.
    public enum Side: Sendable, Equatable {
        /// The replica that sent the refused request (a server refusing a client): it must be rebuilt.
        case sender
        /// The peer whose page was refused (a client refusing a pulled page): syncing again fetches a fresh one.
        case peer
    }

    /// The replica whose state is behind its acknowledgement.
    public var replica: ReplicaID
    /// Who must act.
    public var side: Side

    /// Creates the refusal.
    public init(replica: ReplicaID, side: Side) {
        self.replica = replica
        self.side = side
    }

    /// One line naming what to do.
    public var description: String {
        switch side {
        case .sender:
            return "replica \(replica.hex) lacks changes it had acknowledged, and tombstones were purged since on the strength of that "
                + "acknowledgement, so its state cannot be merged safely: rebuild this replica (move its file away, then sync from a peer)"
        case .peer:
            return "replica \(replica.hex) sent a state older than what it had acknowledged, and tombstones were purged here since: "
                + "sync again; if this persists, rebuild that replica (move its file away, then sync it from a peer)"
        }
    }
}

/// A replica that was retired (`member retire`) tried to sync: the others stopped
/// waiting for it and may have purged deletes it never received, so its state
/// cannot be merged. Nothing was applied. The sentence says what to do.
public struct RetiredReplicaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The retired replica.
    public var replica: ReplicaID
    /// The counter up to which its writes are kept.
    public var point: UInt64

    /// Creates the refusal.
    public init(replica: ReplicaID, point: UInt64) {
        self.replica = replica
        self.point = point
    }

    /// One line naming what to do.
    public var description: String {
        "replica \(replica.hex) was retired (member retire); its writes up to \(point) are kept, nothing newer is accepted: "
            + "rebuild this replica (move its file away, then sync from a peer)"
    }
}
