import Foundation
import Replica

/// A member of the replicated system as `member list` shows it.
public struct MemberInfo: Sendable, Equatable {
    /// The replica.
    public var replica: ReplicaID
    /// Whether it is this replica.
    public var isSelf: Bool
    /// When it was last heard of: a sync with it here, or the latest write it made to its own record.
    public var lastSeen: Date?
    /// The counter up to which its writes are kept, when it was retired.
    public var retired: UInt64?
    /// Tombstones held here that wait for it to acknowledge them before they can be purged.
    public var holdsBack: Int
}

/// Members that are gone for good (a lost laptop): `member retire` (Storage.docc/RetiringAMember.md).
///
/// Purging waits for every member's acknowledgement, so a member that never comes back
/// would keep every tombstone for ever. Retiring it writes `retired = <counter>` to its
/// member record (its writes up to that counter, as this replica holds them, are kept):
/// the record replicates like any other, and on every replica that holds it
/// - the stable point stops waiting for it, so purging resumes;
/// - its writes beyond that counter are refused and dropped, wherever they come from
///   (a retirement is a correction that never lifts: `Correction` with `made` pinned);
/// - it is refused if it syncs again, with "rebuild this replica".
extension ReplicaStore {
    /// Every member (every replica that ever held state, as member records say), with what
    /// each holds back from purging; this replica first.
    public func memberInfos() throws -> [MemberInfo] {
        try wrap {
            let mine = try loadClock()
            let direct = try directAcks()
            let records = try members()
            let corrections = try loadCorrections()
            let times = try correctionTimes()
            var seen: [ReplicaID: Date] = [:]
            let s = try db.prepare("SELECT rid, last_seen FROM clients")
            while try s.step() {
                if let id = ReplicaID(hex: s.text(0)), let t = Double(s.text(1)) { seen[id] = Date(timeIntervalSince1970: t) }
            }
            var tombstones: [VectorClock] = []
            let t = try db.prepare("SELECT id, body FROM records WHERE live=0 AND kind<>\(RecordKind.replica.rawValue)")
            while try t.step() {
                var probe = ClockReader()
                do { try t.withBlob(1) { try walkEncodedRecord($0, &probe) } } catch let e as RecordDecodingError {
                    throw StoreError.corruptRecord(path: path, id: t.text(0), reason: e.description)
                }
                tombstones.append(VectorClock(probe.entries.map { ($0.replica, $0.counter) }))
            }
            var ids = Set(direct.keys).union(records.keys)
            ids.insert(replicaID)
            var out: [MemberInfo] = []
            for m in ids {
                let record = records[m]
                let retired = record.flatMap(Self.retirement)
                var last = seen[m]
                // The latest write the member made to its own record (an introduction, an announcement).
                if let r = record {
                    for f in r.fields { for v in f.register.versions where v.dot.replica == m {
                        let d = Date(timeIntervalSince1970: Double(v.hlc.milliseconds) / 1000)
                        if last.map({ d > $0 }) ?? true { last = d }
                    } }
                }
                var holds = 0
                if m != replicaID && retired == nil {
                    // As the stable point uses it: the largest acknowledgement this replica may use.
                    var best: VectorClock?
                    for case let a? in [direct[m], record.flatMap { Self.announcedAck($0, of: m, times) }]
                        where a.isDominated(by: mine) && corrections.firstLie(in: a) == nil {
                        best = best.map { $0.merged(with: a) } ?? a
                    }
                    holds = tombstones.filter { c in best.map { !c.isDominated(by: $0) } ?? true }.count
                }
                out.append(MemberInfo(replica: m, isSelf: m == replicaID, lastSeen: m == replicaID ? nil : last,
                                      retired: retired, holdsBack: holds))
            }
            return out.sorted { ($0.isSelf ? 0 : 1, $0.replica) < ($1.isSelf ? 0 : 1, $1.replica) }
        }
    }

    /// The full id of the member `typed` names (an id or a unique prefix of one).
    public func resolveMember(_ typed: String) throws -> ReplicaID {
        let t = typed.lowercased()
        let all = try memberInfos().map(\.replica)
        if let exact = all.first(where: { $0.hex == t }) { return exact }
        let matches = all.filter { $0.hex.hasPrefix(t) }
        guard !t.isEmpty, matches.count == 1 else {
            throw StoreError.invalid(matches.isEmpty ? "no member \(typed) (see: member list)"
                                                    : "member id \(typed) is ambiguous: it starts \(matches.prefix(5).map(\.hex).joined(separator: ", "))")
        }
        return matches[0]
    }

    /// Retires `member`: writes `retired` (its writes up to what this replica holds of them
    /// are kept) to its member record, drops what this replica holds of its later writes,
    /// and purges what no longer waits for it. Returns the counter it was retired at.
    @discardableResult
    public func retire(member: ReplicaID) throws -> UInt64 {
        guard member != replicaID else { throw StoreError.invalid("this replica cannot retire itself (retire it from another replica)") }
        return try exchange {
            let point = try counter(of: member)
            try localWrite { tx in
                guard let r = try tx.record(member.hex), r.kind == .replica else {
                    throw StoreError.invalid("no member \(member.hex) (see: member list)")
                }
                if Self.retirement(r) == nil { try tx.write(id: member.hex, kind: .replica, [Self.retiredField: String(point)]) }
            }
            var report = Repair()
            try absorbRetirements(&report)
            try purgeStable()
            return point
        }
    }

    /// Pins, in the corrections table, every retirement the member records hold (in the
    /// caller's transaction): a retired replica's writes beyond its point are known lies
    /// from then on, and what this replica holds of them is dropped.
    func absorbRetirements(_ report: inout Repair) throws {
        var retirements = Corrections()
        for (m, r) in try members() where m != replicaID {
            if let point = Self.retirement(r) { retirements.merge(m, Correction(made: point, lie: 0, retired: true)) }
        }
        guard !retirements.isEmpty else { return }
        let learned = try learnInTransaction(retirements)
        report.corrected += learned.corrected
        report.records += learned.records
        report.removed += learned.removed
        report.clocks = report.clocks || learned.clocks
        report.resync = report.resync || learned.resync
    }
}
