import Foundation
import Replica

/// Tombstone purge by replicated membership and applied acknowledgements.
///
/// The argument is in Storage.docc/Tombstones.md; in short:
/// - Every replica that holds state is a *member*: whoever first gives state
///   to a replica (or takes it from one) writes a field `intro.<its id>` in
///   that replica's member record (kind `replica`, id = replica hex) before
///   giving anything. Member records replicate like every record.
/// - An *acknowledgement* is a clock a replica has applied and committed. It
///   arrives directly (a client's `applied` clock on pull and push, a server's
///   clock in its answers) or through the member's own record (`acked`,
///   written by that replica only), so replicas that never meet still learn
///   each other's progress.
/// - The *stable point* is the meet of this replica's clock and one
///   acknowledgement per member. An acknowledgement of member `m` is used only
///   if this replica's clock already covers `m`'s own writes up to it, so every
///   replica `m` had introduced by then is known here too. A member with no
///   usable acknowledgement makes nothing stable.
/// - Tombstones under the stable point (or under a floor adopted from a peer,
///   which its own stable point justified) are purged; the purge floor records
///   how far. A record unknown here that arrives under the floor is a stale
///   copy and is dropped.
extension ReplicaStore {
    static let floorKey = "purge_floor"
    static let announcementDueKey = "announce_due"
    static let joinedKey = "joined"
    /// The member-record field a replica writes its acknowledged clock to.
    static let ackedField = "acked"
    /// The member-record field replica `r` writes when it first exchanges with the member.
    static func introField(_ r: ReplicaID) -> String { "intro." + r.hex }

    /// The purge floor: tombstones under it were purged here, so a record unknown
    /// here that arrives under it is a stale copy.
    public func purgeFloor() throws -> VectorClock { try wrap { try loadFloor() } }

    func loadFloor() throws -> VectorClock { VectorClock(encoded: try meta(Self.floorKey) ?? "") ?? VectorClock() }

    // MARK: Acknowledgements

    /// Records that `replica` has applied `acked` (merged with what it acknowledged before).
    ///
    /// Only clocks a replica has applied and committed may be recorded: a purge
    /// relies on them.
    public func recordClient(_ replica: ReplicaID, acked: VectorClock, at date: Date = Date()) throws {
        try wrap { try recordAck(replica, acked, at: date) }
    }

    func recordAck(_ replica: ReplicaID, _ acked: VectorClock, at date: Date = Date()) throws {
        guard replica != replicaID else { return }
        let old = VectorClock(encoded: try db.scalar("SELECT acked FROM clients WHERE rid=?", .text(replica.hex))?.text ?? "") ?? VectorClock()
        let new = old.merged(with: acked)
        try db.run("""
            INSERT INTO clients(rid, acked, last_seen) VALUES(?, ?, ?)
            ON CONFLICT(rid) DO UPDATE SET acked=excluded.acked, last_seen=excluded.last_seen
            """, .text(replica.hex), .text(new.encoded), .text(String(date.timeIntervalSince1970)))
    }

    /// Acknowledgements received directly, by replica.
    func directAcks() throws -> [ReplicaID: VectorClock] {
        var out: [ReplicaID: VectorClock] = [:]
        let s = try db.prepare("SELECT rid, acked FROM clients")
        while try s.step() {
            if let id = ReplicaID(hex: s.text(0)) { out[id] = VectorClock(encoded: s.text(1)) ?? VectorClock() }
        }
        return out
    }

    /// The member-record field that retires a member (`member retire`): the counter up
    /// to which its writes are kept.
    static let retiredField = "retired"

    /// The point a member record says its replica was retired at: the largest of the
    /// counters written to `retired` (concurrent retirements keep the most writes), or `nil`.
    static func retirement(_ r: Record) -> UInt64? {
        guard r.kind == .replica, let reg = r.register(retiredField) else { return nil }
        return reg.versions.compactMap { UInt64($0.value) }.max()
    }

    /// The clock a member announced in its own record, if that member wrote it.
    static func announcedAck(_ r: Record, of member: ReplicaID) -> VectorClock? {
        guard let w = r.register(ackedField)?.winner, w.dot.replica == member else { return nil }
        return VectorClock(encoded: w.value)
    }

    /// The clock a member announced, without what may come from a lie it believed then
    /// (entries about replicas with a lie learned after the announcement: `trusted`).
    static func announcedAck(_ r: Record, of member: ReplicaID, _ times: [ReplicaID: HLC]) -> VectorClock? {
        guard let w = r.register(ackedField)?.winner, w.dot.replica == member, let a = VectorClock(encoded: w.value) else { return nil }
        return trusted(a, announcedAt: w.hlc, times)
    }

    /// Every member record (tombstoned ones too: a member never stops existing), by replica.
    func members() throws -> [ReplicaID: Record] {
        var out: [ReplicaID: Record] = [:]
        let s = try db.prepare("SELECT id, body FROM records WHERE kind=\(RecordKind.replica.rawValue)")
        while try s.step() {
            let hex = s.text(0)
            guard let id = ReplicaID(hex: hex), id.hex == hex else { continue }
            out[id] = try decode(id: hex, s, column: 1)
        }
        return out
    }

    /// Everything `replica` has acknowledged having applied, as this replica
    /// knows it (directly, or from the replica's own member record).
    public func acknowledgement(of replica: ReplicaID) throws -> VectorClock { try wrap { try knownAck(replica) } }

    /// Everything `replica` has ever acknowledged to this replica, directly or in its record.
    func knownAck(_ replica: ReplicaID) throws -> VectorClock {
        var ack = VectorClock(encoded: try db.scalar("SELECT acked FROM clients WHERE rid=?", .text(replica.hex))?.text ?? "") ?? VectorClock()
        if let r = try loadRecord(replica.hex), r.kind == .replica,
           let a = Self.announcedAck(r, of: replica, try correctionTimes()) { ack.merge(a) }
        // A claim that a correction refutes is no acknowledgement of anything.
        let corrections = try loadCorrections()
        if !corrections.isEmpty {
            ack = VectorClock(ack.entries.filter { !corrections.refutes($0.replica, $0.counter) }.map { ($0.replica, $0.counter) })
        }
        return ack
    }

    /// Refuses a state that holds less than `replica` acknowledged, as far as
    /// this replica purged on that acknowledgement (`holds` is the clock of the
    /// state offered: a pull's paging clock, a push's applied clock, a pulled
    /// page's server clock).
    ///
    /// Such a state may hold live copies of records purged here. It comes from
    /// a replica restored from a backup, one whose acknowledgement ran ahead of
    /// what it applied (a bug, or a lie caught when it tells the truth), or a
    /// page cut before its sender applied what it acknowledged since.
    ///
    /// `excused`: replicas the sender says it forgot after a lie (`forgotten`), which this
    /// replica knows a lie about; its acknowledgement of them is not held against it.
    func checkNotBehindAcknowledgement(_ replica: ReplicaID, holds state: VectorClock, side: StaleReplicaError.Side,
                                       excused: Set<ReplicaID> = []) throws {
        guard replica != replicaID else { return }
        let floor = try loadFloor()
        guard !floor.isEmpty else { return }
        var ack = try knownAck(replica)
        for r in excused { ack[r] = 0 }
        guard !ack.isEmpty else { return }
        if !ack.meet(floor).isDominated(by: state) { throw StaleReplicaError(replica: replica, side: side) }
    }

    /// Refuses a peer that was retired (`member retire`), as a client does before it gives
    /// or takes state: its state may hold writes the others purged without waiting for it.
    public func checkPeerNotRetired(_ replica: ReplicaID) throws { try wrap { try checkNotRetired(replica) } }

    /// Refuses a replica that was retired (`member retire`): its state may hold writes
    /// the others purged without waiting for it.
    func checkNotRetired(_ replica: ReplicaID) throws {
        guard replica != replicaID, let r = try loadRecord(replica.hex), let point = Self.retirement(r) else { return }
        throw RetiredReplicaError(replica: replica, point: point)
    }

    /// Refuses a replica whose counter (`counter`, as it declares it) is below what it once
    /// acknowledged having made itself: it was restored from a copy of its file, and would
    /// reuse dots the others already hold for other writes. Checked before anything the
    /// replica says of its own writes (its corrections) is believed.
    public func checkCounterNotBehind(_ replica: ReplicaID, counter: UInt64) throws {
        try wrap {
            guard replica != replicaID else { return }
            if try knownAck(replica)[replica] > counter { throw StaleReplicaError(replica: replica, side: .sender) }
        }
    }

    // MARK: Membership and announcements

    /// Writes, in `tx`, this replica's introduction of each of `ids` (its own id
    /// included) that its member record lacks.
    func introduce(_ ids: [ReplicaID], _ tx: LocalTransaction) throws {
        let field = Self.introField(replicaID)
        for id in ids {
            if let r = try tx.record(id.hex) {
                guard r.kind == .replica, r.register(field) == nil else { continue }
            }
            try tx.write(id: id.hex, kind: .replica, [field: "1"])
        }
    }

    /// Notes that tombstones arrived or were written: this replica's
    /// acknowledgement is due (`announceIfDue`).
    func markAnnouncementDue() throws {
        if try meta(Self.announcementDueKey) == nil { try setMeta(Self.announcementDueKey, "1") }
    }

    /// When tombstones arrived since the last announcement, writes this
    /// replica's clock to its member record (`acked`), so replicas that never
    /// meet it learn that it holds them.
    ///
    /// Writes only when the new announcement covers a tombstone the previous one
    /// did not (an announcement is itself a write, which must not call for
    /// another). A tombstone beyond the clock (it came in a page cut short)
    /// keeps the announcement due until the clock covers it. Called where a
    /// write is free to travel with the exchange: a client after its pull (the
    /// push carries it), a server before cutting a pull page.
    func announceIfDue(_ tx: LocalTransaction) throws {
        guard try meta(Self.announcementDueKey) != nil else { return }
        let clock = try loadClock()
        let mine = try tx.record(replicaID.hex)
        guard mine == nil || mine?.kind == .replica else { return }
        let previous = mine.flatMap { Self.announcedAck($0, of: replicaID) } ?? VectorClock()
        var beyond = false, news = false
        let s = try db.prepare("SELECT id, body FROM records WHERE live=0")
        while try s.step() {
            let c = try decode(id: s.text(0), s, column: 1).clock
            if !c.isDominated(by: clock) { beyond = true } else if !c.isDominated(by: previous) { news = true }
        }
        if news { try tx.write(id: replicaID.hex, kind: .replica, [Self.ackedField: clock.encoded]) }
        if !beyond { try db.run("DELETE FROM meta WHERE key=?", .text(Self.announcementDueKey)) }
    }

    // MARK: Stable point and purge

    /// The meet of this replica's clock and a usable acknowledgement of every
    /// other member; empty while any member has none (or there is no other member).
    func stablePoint() throws -> VectorClock {
        let mine = try loadClock()
        let direct = try directAcks()
        let records = try members()
        var ids = Set(direct.keys).union(records.keys)
        ids.remove(replicaID)
        guard !ids.isEmpty else { return VectorClock() }
        let corrections = try loadCorrections()
        let times = try correctionTimes()
        var stable = mine
        for m in ids {
            // A retired member is not waited for (`member retire`): it is refused if it comes back.
            if let r = records[m], Self.retirement(r) != nil { continue }
            var best: VectorClock?
            let candidates = [direct[m], records[m].flatMap { Self.announcedAck($0, of: m, times) }]
            // Usable only once this replica holds everything the acknowledgement claims: then
            // it holds m's own writes up to it, so it knows every replica m had introduced by
            // then; and a claim this replica cannot check against its own state (one that may
            // be a lie m was told about a third replica, Replica.docc/Corrections.md)
            // never lets it purge what m may lack. One with a known lie is never usable.
            for case let a? in candidates where a.isDominated(by: mine) && corrections.firstLie(in: a) == nil {
                best = best.map { $0.merged(with: a) } ?? a
            }
            guard let b = best else { return VectorClock() }
            stable = stable.meet(b)
            if stable.isEmpty { return stable }
        }
        return stable
    }

    /// Purges tombstones under the floor or the stable point (in the caller's
    /// transaction); raises the floor to cover them. Returns how many.
    @discardableResult
    func purgeStable() throws -> Int {
        guard try db.scalar("SELECT 1 FROM records WHERE live=0 LIMIT 1") != nil else { return 0 }
        let floor = try loadFloor()
        let limit = floor.merged(with: try stablePoint())
        guard !limit.isEmpty else { return 0 }
        // Every exchange step asks; the scan reads every tombstone. Skip it while neither the
        // limit nor the tombstones changed since a scan found nothing more to purge (a pull of
        // a 100,000-record delete asks a hundred times).
        let fileVersion = try db.scalar("PRAGMA data_version")?.int ?? 0
        if let memo = purgeMemo, memo.limit == limit, memo.epoch == tombstoneEpoch, memo.file == fileVersion { return 0 }
        let s = try db.prepare("SELECT id, body, rid FROM records WHERE live=0")
        var doomed: [(Int64, Record)] = []
        while try s.step() {
            var probe = ClockReader()
            do { try s.withBlob(1) { try walkEncodedRecord($0, &probe) } } catch let e as RecordDecodingError {
                throw StoreError.corruptRecord(path: path, id: s.text(0), reason: e.description)
            }
            // Only the candidates are decoded whole.
            guard VectorClock(probe.entries.map { ($0.replica, $0.counter) }).isDominated(by: limit) else { continue }
            let r = try decode(id: s.text(0), s, column: 1)
            if r.isDeleted && r.kind != .replica { doomed.append((s.int(2), r)) }
        }
        purgeMemo = (limit, tombstoneEpoch, fileVersion)
        guard !doomed.isEmpty else { return 0 }
        for (rid, r) in doomed { try removeRow(rid: rid, r) }
        if limit != floor { try setMeta(Self.floorKey, limit.encoded) }
        return doomed.count
    }

    /// Purges the tombstones every member has acknowledged; returns how many.
    @discardableResult
    public func purgeTombstones() throws -> Int {
        try wrap { try db.transaction { try purgeStable() } }
    }

    /// Adopts a peer's purge floor as far as this replica's clock reaches (in the caller's transaction).
    ///
    /// The peer purged under it because every member acknowledged it, this
    /// replica included or having received its state after; once this replica
    /// holds the peer's state, a record under it that is unknown here is a stale copy.
    func adoptFloor(_ peerFloor: VectorClock) throws {
        guard !peerFloor.isEmpty else { return }
        let floor = try loadFloor()
        let raised = floor.merged(with: peerFloor.meet(try loadClock()))
        if raised != floor { try setMeta(Self.floorKey, raised.encoded) }
    }

    // MARK: Joining

    /// On this replica's first complete receipt of a peer's state: if the
    /// floor it now holds covers other replicas' changes, rewrites its own
    /// records that nobody else has touched over that floor (`Record.rebased`).
    ///
    /// A replica that never synced may have created, offline, the id of a link
    /// that was deleted and purged elsewhere. Its create did not see that
    /// delete, and the delete can no longer be seen: by rewriting its records
    /// after everything it received, the replica's offline creates count as made
    /// when it joined, the same way on every replica (before or after they purge).
    func joinIfNeeded(_ tx: LocalTransaction) throws {
        guard try meta(Self.joinedKey) == nil else { return }
        try setMeta(Self.joinedKey, "1")
        let floor = try loadFloor()
        guard floor.entries.contains(where: { $0.replica != replicaID }) else { return }
        // Tombstones too: a record another replica later writes on top of one must also follow the floor.
        let s = try db.prepare("SELECT id, body FROM records WHERE kind<>\(RecordKind.replica.rawValue)")
        var own: [Record] = []
        while try s.step() {
            let r = try decode(id: s.text(0), s, column: 1)
            if r.clock.entries.allSatisfy({ $0.replica == replicaID }) { own.append(r) }
        }
        for r in own { try tx.replace(r, with: r.rebased(over: floor, dot: tx.dot, hlc: tx.hlc)) }
    }
}
