import Foundation
import Replica

/// What learning corrections did to this replica (see `ReplicaStore.learn`).
public struct Repair: Sendable, Equatable {
    /// The replicas whose correction this replica learned or tightened.
    public var corrected: [ReplicaID] = []
    /// Records that held known lies and were rewritten without them.
    public var records = 0
    /// Records that held nothing but forged versions and were removed.
    public var removed = 0
    /// Whether the replica clock, the purge floor or a recorded acknowledgement held a lie.
    public var clocks = false
    /// Whether a resync (a full pull that also drops what the peer purged) is now due.
    public var resync = false

    /// Nothing learned.
    public init() {}

    /// Whether the replica's state changed (not only its table of corrections).
    public var repaired: Bool { records > 0 || removed > 0 || clocks }
}

/// Lies about a replica's writes, and how a replica drops them
/// (Replica.docc/Corrections.md).
///
/// - A replica that meets a claim about its own writes beyond its counter keeps
///   a correction about itself (`noteLieAboutSelf`), and sends it, with its
///   current counter, in every message from then on.
/// - Corrections travel in every message of the peer protocol; a replica merges
///   what it receives (`learn`). When a correction it learns refutes something
///   it holds, it drops the lie in one transaction: versions with forged dots,
///   record clock entries, its replica clock's entry (so the pull asks again for
///   that replica's writes), its purge floor's, and recorded acknowledgements
///   that claimed them. Lowering what one believes is always safe: it only
///   makes peers send again what merges idempotently.
/// - Because the lie may have hidden writes and deletes from it for a while, a
///   replica that dropped a lie from its own state does a **resync** at its next
///   pull: it pulls the peer's whole state and then removes the records that
///   the peer purged (under the peer's floor and not sent), which a poisoned
///   acknowledgement may have let the others purge before the lie was caught.
extension ReplicaStore {
    static let resyncKey = "resync"

    /// The corrections this replica sends: what it knows about others, and its own
    /// word about itself, at its current counter, if it ever met a lie about itself.
    public func corrections() throws -> Corrections { try wrap { try outgoingCorrections() } }

    /// How long a replica tells its peers which replicas' writes it forgot (`forgotten`).
    public static let forgetfulness: UInt64 = 30 * 86_400_000

    /// The replicas whose writes this replica forgot, in the last 30 days, because it had
    /// believed a lie about them: it may now hold less of them than it acknowledged to a
    /// peer (it asks for them all again), and says so in every request, so that peer does
    /// not take it for a replica restored from a backup (Replica.docc/Corrections.md).
    public func forgotten() throws -> [ReplicaID] {
        try wrap {
            let since = Int64(now()) - Int64(Self.forgetfulness)
            let s = try db.prepare("SELECT rid FROM corrections WHERE forgot > ? ORDER BY rid")
            s.bind(int: since, at: 1)
            var out: [ReplicaID] = []
            while try s.step() { if let r = ReplicaID(hex: s.text(0)) { out.append(r) } }
            return out
        }
    }

    /// Of the replicas a peer says it forgot, those this replica knows a lie about: the ones
    /// its acknowledgement is not held against (a peer cannot excuse itself with a lie no one told).
    func excused(_ forgot: [ReplicaID]) throws -> Set<ReplicaID> {
        guard !forgot.isEmpty else { return [] }
        let known = try loadCorrections()
        return Set(forgot.filter { known[$0] != nil })
    }

    /// Whether a resync is due (see the type's documentation).
    public func resyncDue() throws -> Bool { try wrap { try meta(Self.resyncKey) != nil } }

    /// The corrections about other replicas (the table, without this replica's own row).
    func loadCorrections() throws -> Corrections {
        var out = Corrections()
        let s = try db.prepare("SELECT rid, made, lie, retired FROM corrections")
        while try s.step() {
            guard let r = ReplicaID(hex: s.text(0)), r != replicaID else { continue }
            out.merge(r, Correction(made: UInt64(s.int(1)), lie: UInt64(s.int(2)), retired: s.int(3) == 1))
        }
        return out
    }

    func outgoingCorrections() throws -> Corrections {
        var out = try loadCorrections()
        if let row = try db.scalar("SELECT lie FROM corrections WHERE rid=?", .text(replicaID.hex))?.int {
            out.merge(replicaID, Correction(made: try counter(of: replicaID), lie: UInt64(row)))
        }
        return out
    }

    /// Remembers a claim of `claim` writes of this replica, beyond its counter, so the
    /// correction it sends refutes it (the smallest such claim is kept).
    public func noteLieAboutSelf(claim: UInt64) throws {
        try wrap { try db.transaction { try noteLieAboutSelfInTransaction(claim: claim) } }
    }

    func noteLieAboutSelfInTransaction(claim: UInt64) throws {
        let mine = try counter(of: replicaID)
        let old = UInt64(try db.scalar("SELECT lie FROM corrections WHERE rid=?", .text(replicaID.hex))?.int ?? 0)
        // A lie the counter has since passed is no longer one (`Correction.merged`).
        var lie = claim > mine ? claim : 0
        if old > mine && (lie == 0 || old < lie) { lie = old }
        try db.run("""
            INSERT INTO corrections(rid, made, lie) VALUES(?, ?, ?)
            ON CONFLICT(rid) DO UPDATE SET made=excluded.made, lie=excluded.lie
            """, .text(replicaID.hex), .int(Int64(mine)), .int(Int64(lie)))
    }

    /// Merges corrections a peer sent and drops, in one transaction, whatever lie they
    /// refute in this replica's state. A correction about this replica itself is
    /// checked against its own counter: one that claims more writes than it made is
    /// itself a lie, noted so the next message refutes it.
    @discardableResult
    public func learn(_ incoming: Corrections) throws -> Repair {
        guard !incoming.isEmpty else { return Repair() }
        return try exchange { try learnInTransaction(incoming) }
    }

    func learnInTransaction(_ incoming: Corrections) throws -> Repair {
        var report = Repair()
        guard !incoming.isEmpty else { return report }
        var table = try loadCorrections()
        var changed: [ReplicaID] = []
        for (r, c) in incoming {
            if r == replicaID {
                // A retired replica is refused wherever it goes; it has nothing to correct.
                if c.retired { continue }
                let mine = try counter(of: replicaID)
                // "This replica made `made`": a lie if beyond its counter; a lie it passed on
                // is noted too, so the correction it sends keeps refuting it.
                try noteLieAboutSelfInTransaction(claim: c.made > mine ? c.made : c.lie)
                continue
            }
            let before = table[r]
            guard table.merge(r, c) else { continue }
            let merged = table[r]!
            // A first correction is news: what was acknowledged before may have been said by a
            // replica that believed the lie; claims beyond `made` are refused from then on, so no
            // later lie about that replica gets in. Its counter rising is not news; its retirement,
            // which pins `made` where others may already have accepted more, is.
            let news = before == nil || (merged.retired && before?.retired != true) || (merged.retired && merged.made < before!.made)
            var learned: Int64?
            if news {
                let h = HLC.next(after: try loadHLC(), nowMilliseconds: now())
                try setHLC(h)
                learned = Int64(bitPattern: h.rawValue)
                changed.append(r)
            }
            try db.run("""
                INSERT INTO corrections(rid, made, lie, learned, retired) VALUES(?, ?, ?, ?, ?)
                ON CONFLICT(rid) DO UPDATE SET made=excluded.made, lie=excluded.lie, retired=excluded.retired,
                    learned=CASE WHEN excluded.learned > 0 THEN excluded.learned ELSE learned END
                """, .text(r.hex), .int(Int64(merged.made)), .int(Int64(merged.lie)), .int(learned ?? 0), .int(merged.retired ? 1 : 0))
            report.corrected.append(r)
        }
        if !changed.isEmpty { try dropLies(about: Set(changed), table, &report) }
        return report
    }

    /// When this replica learned of the latest lie about each replica (its hybrid
    /// logical clock then): an acknowledgement announced before it may carry the lie.
    func correctionTimes() throws -> [ReplicaID: HLC] {
        var out: [ReplicaID: HLC] = [:]
        let s = try db.prepare("SELECT rid, learned FROM corrections WHERE learned <> 0")
        while try s.step() {
            if let r = ReplicaID(hex: s.text(0)) { out[r] = HLC(rawValue: UInt64(bitPattern: s.int(1))) }
        }
        return out
    }

    /// An acknowledgement announced at `hlc`, without its entries about replicas whose
    /// latest lie this replica learned of after that (see `correctionTimes`).
    static func trusted(_ ack: VectorClock, announcedAt hlc: HLC, _ times: [ReplicaID: HLC]) -> VectorClock {
        guard !times.isEmpty else { return ack }
        return VectorClock(ack.entries.filter { e in times[e.replica].map { $0 <= hlc } ?? true }.map { ($0.replica, $0.counter) })
    }

    /// Drops from this replica's state every claim that `table` refutes about `replicas`
    /// (each of which has a new lie: see `learnInTransaction`).
    ///
    /// Acknowledgements recorded so far lose their entries about those replicas, lies or
    /// not: the replica that sent one may have believed the lie, and may now claim less
    /// than it did while it re-fetches (they come back, fresh, with the next syncs). Where
    /// this replica held the lie itself (its clock, or a record's clock), it forgets all it
    /// knew of that replica's writes (its clock entry and its floor's: the pull then asks
    /// for them all again, and the writes the lie hid come back) and does a resync.
    func dropLies(about replicas: Set<ReplicaID>, _ table: Corrections, _ report: inout Repair) throws {
        func refuted(_ r: ReplicaID, _ c: UInt64) -> Bool { replicas.contains(r) && table.refutes(r, c) }
        func without(_ clock: VectorClock, _ set: Set<ReplicaID>) -> VectorClock? {
            guard clock.entries.contains(where: { set.contains($0.replica) }) else { return nil }
            return VectorClock(clock.entries.filter { !set.contains($0.replica) }.map { ($0.replica, $0.counter) })
        }
        var acks: [(String, String)] = []
        let a = try db.prepare("SELECT rid, acked FROM clients")
        while try a.step() { acks.append((a.text(0), a.text(1))) }
        for (rid, text) in acks {
            if let c = without(VectorClock(encoded: text) ?? VectorClock(), replicas) {
                try db.run("UPDATE clients SET acked=? WHERE rid=?", .text(c.encoded), .text(rid))
            }
        }
        try peers.rewriteAcknowledgements { without($0, replicas) }
        // Which of them this replica's own state believed.
        var believed = Set<ReplicaID>()
        for e in try loadClock().entries where refuted(e.replica, e.counter) { believed.insert(e.replica) }
        // Records: read every clock (not the rest), rewrite those that hold a lie.
        var poisoned: [(rid: Int64, id: String)] = []
        let s = try db.prepare("SELECT rid, id, body FROM records")
        while try s.step() {
            var probe = LieProbe(refuted: refuted)
            do { try s.withBlob(2) { try walkEncodedRecord($0, &probe) } } catch let e as RecordDecodingError {
                throw StoreError.corruptRecord(path: path, id: s.text(1), reason: e.description)
            }
            if probe.found { poisoned.append((s.int(0), s.text(1))) }
        }
        for (rid, id) in poisoned {
            guard let old = try loadRecord(id) else { continue }
            for e in old.clock.entries where refuted(e.replica, e.counter) { believed.insert(e.replica) }
            if let new = old.droppingLies(refuted) {
                try store(new, replacing: old, rid: rid)
                report.records += 1
            } else {
                try removeRow(rid: rid, old)
                report.removed += 1
            }
        }
        if !believed.isEmpty {
            // The lie may have hidden that replica's writes from the records, and the floor
            // was computed with it: forget both for it, so the next pull fetches all its writes.
            for r in believed {
                if let x = try rix(r, create: false) { try db.run("DELETE FROM clock WHERE rix=?", .int(x)) }
                try db.run("UPDATE corrections SET forgot=? WHERE rid=?", .int(Int64(now())), .text(r.hex))
            }
            if let f = without(try loadFloor(), believed) { try setMeta(Self.floorKey, f.encoded) }
            report.clocks = true
        }
        if report.repaired {
            report.resync = true
            try setMeta(Self.resyncKey, "1")
            // This replica's announced acknowledgement may have carried the lie: announce again.
            try setMeta(Self.announcementDueKey, "1")
        }
    }

    /// Removes a record's row, its dots and its index keys (in the caller's transaction).
    func removeRow(rid: Int64, _ r: Record) throws {
        try keepRowNumberUnused(rid)
        try db.run("DELETE FROM records WHERE rid=?", .int(rid))
        for d in r.distinctDots { try removeDot(d, rid: rid) }
        if let specs = indexSpecs { try updateKeys(rid: rid, old: IndexKeys.of(r, specs: specs), new: .none) }
    }

    // MARK: Resync

    /// Client side, before a resync's first pull page: forgets what an earlier, cut-off resync had seen.
    public func beginResync() throws {
        try wrap { try db.exec("DELETE FROM resync_seen") }
    }

    /// Client side, once a resync's last page is applied: removes the records the peer
    /// no longer holds although it held them (under its purge floor `peerFloor`, and not
    /// among the records it sent): tombstones it purged, of which this replica may still
    /// hold a live copy. Ends the resync; returns how many records were removed.
    @discardableResult
    public func finishResync(peerFloor: VectorClock) throws -> Int {
        try exchange {
            var doomed: [(Int64, String)] = []
            if !peerFloor.isEmpty {
                let s = try db.prepare("""
                    SELECT rid, id, body FROM records WHERE kind<>\(RecordKind.replica.rawValue)
                    AND rid NOT IN (SELECT rid FROM resync_seen)
                    """)
                while try s.step() {
                    var probe = ClockReader()
                    do { try s.withBlob(2) { try walkEncodedRecord($0, &probe) } } catch let e as RecordDecodingError {
                        throw StoreError.corruptRecord(path: path, id: s.text(1), reason: e.description)
                    }
                    if VectorClock(probe.entries.map { ($0.replica, $0.counter) }).isDominated(by: peerFloor) {
                        doomed.append((s.int(0), s.text(1)))
                    }
                }
            }
            for (rid, id) in doomed {
                guard let r = try loadRecord(id) else { continue }
                try removeRow(rid: rid, r)
            }
            try db.exec("DELETE FROM resync_seen")
            try db.run("DELETE FROM meta WHERE key=?", .text(Self.resyncKey))
            return doomed.count
        }
    }

    /// Notes records a resync received (in the caller's transaction).
    func noteResyncSeen(_ rids: [Int64]) throws {
        for batch in stride(from: 0, to: rids.count, by: 100) {
            let part = rids[batch..<min(rids.count, batch + 100)]
            let s = try rowsStatement("INSERT OR IGNORE INTO resync_seen(rid) VALUES ", "(?)", ",", "", rows: part.count)
            defer { s.reset() }
            for (i, rid) in part.enumerated() { s.bind(int: rid, at: Int32(i + 1)) }
            while try s.step() {}
        }
    }
}

/// Whether a stored encoding's clock holds an entry that a predicate refutes. Reads the clock only.
struct LieProbe: EncodedRecordVisitor {
    let refuted: (ReplicaID, UInt64) -> Bool
    var found = false
    mutating func kind(_ kind: RecordKind) {}
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) { if refuted(replica, counter) { found = true } }
    mutating func clockEnd() -> Bool { false }
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
    mutating func field(_ name: UnsafeRawBufferPointer) {}
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
}

/// A stored encoding's clock entries. Reads the clock only.
struct ClockReader: EncodedRecordVisitor {
    var entries: [VectorClock.Entry] = []
    mutating func kind(_ kind: RecordKind) {}
    mutating func clockEntry(_ replica: ReplicaID, _ counter: UInt64) { entries.append(.init(replica: replica, counter: counter)) }
    mutating func clockEnd() -> Bool { false }
    mutating func deleted(_ value: Bool, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
    mutating func field(_ name: UnsafeRawBufferPointer) {}
    mutating func version(_ value: UnsafeRawBufferPointer, _ hlc: UInt64, _ clockIndex: Int, _ counter: UInt64) {}
}
