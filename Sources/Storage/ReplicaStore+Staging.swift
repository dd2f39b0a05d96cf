import Foundation
import Replica

/// Changes larger than a page (Storage.docc/LargeChanges.md).
///
/// A page that ends inside a change (`ChangePage.partial`) carries the change's
/// first records last; the receiver checks them like any record and keeps them
/// aside, in the `staged` table, under a session that names the peer and the
/// direction. The first page whose coverage reaches the change's counter
/// completes it: the records kept aside are applied with that page, in the same
/// transaction, so a change is applied all or nothing whatever its size, and no
/// transaction waits on the network for the rest of one. What a cut-off sync
/// kept aside is dropped when the next exchange with that peer starts (its
/// clock still lacks the change, so the change is sent again from its start);
/// a session abandoned on the server side is dropped after an hour.
extension ReplicaStore {
    /// How long the parts of a change a peer stopped sending are kept.
    static let stagedLifetime: UInt64 = 3_600_000
    /// Records of a change kept aside applied per chunk (one page each, in one transaction).
    static let stagedChunk = 2000

    /// The session under which a pull from `peer` keeps parts of a change.
    public static func pullSession(_ peer: ReplicaID) -> String { "pull:" + peer.hex }
    /// The session under which pushes from `client` keep parts of a change.
    public static func pushSession(_ client: ReplicaID) -> String { "push:" + client.hex }

    /// Drops what `session` kept aside (a new exchange starts from the clocks both sides hold).
    public func dropStaged(session: String) throws {
        try wrap { try db.run("DELETE FROM staged WHERE session=?", .text(session)) }
    }

    /// How many records `session` keeps aside (for tests and status).
    public func stagedCount(session: String) throws -> Int {
        try wrap { Int(try db.scalar("SELECT count(*) FROM staged WHERE session=?", .text(session))?.int ?? 0) }
    }

    /// Applies one page inside the caller's transaction, keeping aside the part of a change
    /// it ends inside and completing the change kept aside under `session` when it can.
    func applyStaging(_ page: ChangePage, from sender: PeerSender?, prepared: PreparedRecords?, seen: inout [Int64]?,
                      session: String) throws -> MergeSummary {
        var summary = MergeSummary()
        // The change kept aside: completed by this page, continued by it, or given up.
        if let kept = try db.scalar("SELECT replica || ':' || counter FROM staged WHERE session=? LIMIT 1", .text(session))?.text {
            let parts = kept.split(separator: ":")
            let replica = ReplicaID(hex: parts[0]), counter = UInt64(parts[1]) ?? 0
            if let replica, page.coverage[replica] >= counter, page.base[replica] < counter {
                summary = summary + (try applyKept(session: session, like: page, from: sender, seen: &seen))
            } else if let replica, page.partial?.dot == Dot(replica: replica, counter: counter) {
                // The next part: kept with the others below.
            } else {
                try db.run("DELETE FROM staged WHERE session=?", .text(session))
            }
        }
        guard let partial = page.partial else {
            return summary + (try applyInTransaction(page, from: sender, prepared: prepared, seen: &seen))
        }
        // The page's own records, checked as one page; then its complete ones applied, the rest kept.
        if let sender {
            let input = PeerInput(receiver: replicaID, receiverCounter: try counter(of: replicaID), now: now(),
                                  sender: sender.replica, senderCounter: sender.replica.flatMap { sender.clock?[$0] },
                                  corrections: try loadCorrections())
            try input.check(page: page)
            for (i, r) in page.records.enumerated() where i >= page.records.count - partial.records {
                let facts: RecordFacts
                do { facts = try r.facts() } catch { throw MergeError.invalidRecord(id: r.id, reason: "not a canonical record encoding: \(error.description)") }
                try input.check(record: facts, of: page, at: i)
                try checkRules(r, kind: facts.kind, at: i)
            }
        }
        let head = ChangePage(records: Array(page.completeRecords), coverage: page.coverage, more: true, base: page.base)
        summary = summary + (try applyInTransaction(head, from: sender, prepared: nil, seen: &seen))
        let at = Int64(now())
        for r in page.partialRecords {
            try db.run("INSERT OR REPLACE INTO staged(session, id, replica, counter, at, body) VALUES(?, ?, ?, ?, ?, ?)",
                       .text(session), .text(r.id), .text(partial.replica.hex), .int(Int64(partial.counter)), .int(at), .blob(r.bytes))
        }
        return summary
    }

    /// Applies what `session` kept aside, in chunks, as pages covered like `page` (which completes the change).
    private func applyKept(session: String, like page: ChangePage, from sender: PeerSender?, seen: inout [Int64]?) throws -> MergeSummary {
        var summary = MergeSummary()
        var last = ""
        while true {
            let s = try db.prepare("SELECT id, body FROM staged WHERE session=? AND id>? ORDER BY id LIMIT ?")
            s.bind(text: session, at: 1)
            s.bind(text: last, at: 2)
            s.bind(int: Int64(Self.stagedChunk), at: 3)
            var records: [EncodedRecord] = []
            while try s.step() { records.append(EncodedRecord(id: s.text(0), bytes: s.withBlob(1) { Array($0) })) }
            s.reset()
            guard let end = records.last?.id else { break }
            last = end
            let chunk = ChangePage(records: records, coverage: page.coverage, more: true, base: page.base)
            summary = summary + (try applyInTransaction(chunk, from: sender, prepared: nil, seen: &seen))
        }
        try db.run("DELETE FROM staged WHERE session=?", .text(session))
        return summary
    }

    /// Drops the parts of changes that peers stopped sending over an hour ago.
    func dropStaleStaged() throws {
        try db.run("DELETE FROM staged WHERE at < ?", .int(Int64(now()) - Int64(Self.stagedLifetime)))
    }
}
