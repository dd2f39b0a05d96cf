import Foundation
import Replica

/// The replica's side of each step of the peer protocol, one transaction each.
///
/// The HTTP server and client (`PeerSync`) call these; so do in-process tests,
/// so the purge, membership and refusal rules run the same code either way.
/// Order of a sync (client `C`, server `S`):
/// 1. `S.servePull` before each pull page is cut; `C.apply(pulled:from:)` for
///    the pages; `C.finishPull` once the last page is applied.
/// 2. `C.introduce(peer:)` before its first push; `S.receivePush` per page.
/// 3. `C.finishSync` with the clock `S` reported last.
///
/// A client whose purge floor the server's clock does not cover pushes first
/// (the server catches up), then pulls, then pushes what the pull produced.
extension ReplicaStore {
    /// Server side of a pull, before the page is cut against `position` (the
    /// client's paging clock).
    ///
    /// Refuses a client that holds less than it acknowledged (`StaleReplicaError`);
    /// records `applied` (what the client has applied and committed, never more
    /// than it pages from) as its acknowledgement; introduces the client;
    /// announces this replica's acknowledgement if due; purges what became stable.
    /// `clientFloor` is the client's purge floor (absent from older clients).
    ///
    /// With `resync` the client pages from the start to receive this replica's whole
    /// state (`finishResync`): what it holds is then `applied`, not `position`.
    ///
    /// `forgot`: the replicas the client says it forgot after a lie (`forgotten`).
    public func servePull(client: ReplicaID, position: VectorClock, applied: VectorClock?, clientFloor: VectorClock?,
                          resync: Bool = false, forgot: [ReplicaID] = []) throws {
        guard client != replicaID else { return }
        try exchange {
            try checkNotRetired(client)
            try checkNotBehindAcknowledgement(client, holds: resync ? (applied ?? position) : position, side: .sender,
                                              excused: try excused(forgot))
            if let applied { try recordAck(client, applied.meet(position)) }
            try localWrite { tx in
                try introduce([client, replicaID], tx)
                try announceIfDue(tx)
            }
            // A replica that serves a client whose floor it already covers has nothing of its own to rebase.
            if try meta(Self.joinedKey) == nil, (clientFloor ?? VectorClock()).isDominated(by: try loadClock()) {
                try setMeta(Self.joinedKey, "1")
            }
            try purgeStable()
        }
    }

    /// Server side of a push: applies one page from `client`, all or nothing.
    ///
    /// `applied` is the client's clock when it cut the page (what it has
    /// applied); a client holding less than it acknowledged is refused
    /// (`StaleReplicaError`) and nothing is applied. After the client's last
    /// page (`more` false) this replica adopts the client's purge floor, and
    /// joins if it never had (see `joinIfNeeded`). Then it purges what became stable.
    ///
    /// The page is peer input: checked (`PeerInput`) against `applied` as the
    /// client's declared clock, and refused whole with a `PeerInputError`.
    /// `prepared` (`mergePreparer()`, made before the call) moves the reading of
    /// the records out of the store's lock.
    @discardableResult
    public func receivePush(client: ReplicaID, applied: VectorClock?, clientFloor: VectorClock?, page: ChangePage,
                            prepared: PreparedRecords? = nil, forgot: [ReplicaID] = []) throws -> MergeSummary {
        try exchange {
            try checkNotRetired(client)
            // No introduction here: a push gives this replica state, it gives the client none.
            try checkNotBehindAcknowledgement(client, holds: applied ?? VectorClock(), side: .sender, excused: try excused(forgot))
            try dropStaleStaged()
            var seen: [Int64]?
            let summary = try applyStaging(page, from: PeerSender(replica: client, clock: applied), prepared: prepared, seen: &seen,
                                           session: Self.pushSession(client))
            if client != replicaID, let applied { try recordAck(client, applied) }
            if !page.more, let clientFloor {
                try adoptFloor(clientFloor)
                try localWrite { tx in try joinIfNeeded(tx) }
            }
            try purgeStable()
            return summary
        }
    }

    /// Client side, before giving state to `peer`: introduces it (and this replica).
    public func introduce(peer: ReplicaID) throws {
        guard peer != replicaID else { return }
        try exchange { try localWrite { tx in try introduce([peer, replicaID], tx) } }
    }

    /// Client side, once the last pulled page is applied: adopts the peer's purge
    /// floor (`peerFloor`, from its last answer), joins if this replica never
    /// had, and announces this replica's acknowledgement if due (the push that
    /// follows carries it).
    public func finishPull(from peer: ReplicaID, peerFloor: VectorClock) throws {
        try exchange {
            try adoptFloor(peerFloor)
            try localWrite { tx in
                try joinIfNeeded(tx)
                try announceIfDue(tx)
            }
        }
    }

    /// Client side, at the end of a sync: records `peerApplied` (the last clock
    /// the peer reported, which it had applied) as its acknowledgement and purges
    /// what became stable; returns how many tombstones were purged.
    @discardableResult
    public func finishSync(with peer: ReplicaID, peerApplied: VectorClock) throws -> Int {
        try exchange {
            try recordAck(peer, peerApplied)
            return try purgeStable()
        }
    }

    /// The checks this replica makes on a peer's clocks and pages (`PeerInput`): its own
    /// counter, its wall clock, what it knows of lies about others, and the sender as the
    /// message declares it.
    public func peerInput(sender: ReplicaID? = nil, senderClock: VectorClock? = nil) throws -> PeerInput {
        try wrap {
            PeerInput(receiver: replicaID, receiverCounter: try counter(of: replicaID), now: now(),
                      sender: sender, senderCounter: sender.flatMap { senderClock?[$0] }, corrections: try loadCorrections())
        }
    }

    /// Runs one exchange step as one transaction.
    func exchange<T>(_ body: () throws -> T) throws -> T {
        try wrap {
            do {
                return try db.transaction(body)
            } catch {
                // A rolled-back transaction may have interned replica ids that no longer exist.
                resetReplicaCache()
                throw error
            }
        }
    }
}
