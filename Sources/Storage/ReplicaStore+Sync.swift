import Foundation
import Replica

/// A peer this replica syncs with, and what it last acknowledged.
public struct Peer: Sendable, Equatable {
    /// The name used in `sync NAME`.
    public var name: String
    /// The peer's base URL (`http://host:port`).
    public var url: String
    /// The bearer token for its sync routes.
    public var token: String?
    /// The peer's replica clock after the last successful sync: what it has acknowledged.
    public var acked: VectorClock
    /// When the last sync succeeded.
    public var lastSync: Date?
    /// The last sync's error, if it failed.
    public var lastError: String?
}

extension ReplicaStore {
    /// The changes a peer whose replica clock is `peer` lacks: one page of at most `limit` records,
    /// cut in the order of the dots index, read from one snapshot.
    ///
    /// Costs one indexed range query per replica the peer is behind on, plus one
    /// lookup per record returned: proportional to the answer, not the replica.
    public func changes(since peer: VectorClock, limit: Int) throws -> ChangePage {
        try wrap {
            try db.transaction(immediate: false) {
                let mine = try loadClock()
                let dotsQuery = try db.prepare("""
                    SELECT d.counter, r.id FROM dots d JOIN records r ON r.rid = d.rid
                    WHERE d.rix=? AND d.counter>? ORDER BY d.counter, d.rid LIMIT ?
                    """)
                return try cutPage(replicaClock: mine, peerClock: peer, limit: limit, dots: { o, after, n in
                    guard let r = try rix(o, create: false) else { return [] }
                    dotsQuery.reset()
                    dotsQuery.bind(int: r, at: 1)
                    dotsQuery.bind(int: Int64(bitPattern: after), at: 2)
                    dotsQuery.bind(int: Int64(min(n, Int(Int64.max))), at: 3)
                    var out: [(UInt64, String)] = []
                    while try dotsQuery.step() { out.append((UInt64(dotsQuery.int(0)), dotsQuery.text(1))) }
                    return out
                }, record: { try loadRecord($0) })
            }
        }
    }

    /// What a peer lacks, as stored encodings rather than decoded records: the
    /// server writes them to the wire without building `Record`s.
    public struct EncodedChanges: Sendable {
        /// Each record's id and canonical encoding.
        public var records: [(id: String, body: [UInt8])]
        /// As `ChangePage.coverage`.
        public var coverage: VectorClock
        /// As `ChangePage.more`.
        public var more: Bool
        /// As `ChangePage.base`: the clock the page was cut against.
        public var base: VectorClock
    }

    /// `changes(since:limit:)`, returning stored encodings; one query per replica
    /// the peer is behind on reads the dots and the bodies together.
    public func encodedChanges(since peer: VectorClock, limit: Int) throws -> EncodedChanges {
        try wrap {
            try db.transaction(immediate: false) {
                let mine = try loadClock()
                let q = try db.prepare("""
                    SELECT d.counter, r.id, r.body FROM dots d JOIN records r ON r.rid = d.rid
                    WHERE d.rix=? AND d.counter>? ORDER BY d.counter, d.rid LIMIT ?
                    """)
                var bodies: [String: [UInt8]] = [:]
                let (items, coverage, more) = try cutPage(replicaClock: mine, peerClock: peer, limit: limit, dots: { o, after, n in
                    guard let r = try rix(o, create: false) else { return [] }
                    q.reset()
                    q.bind(int: r, at: 1)
                    q.bind(int: Int64(bitPattern: after), at: 2)
                    q.bind(int: Int64(min(n, Int(Int64.max))), at: 3)
                    var out: [(UInt64, String)] = []
                    while try q.step() {
                        let id = q.text(1)
                        if bodies[id] == nil { bodies[id] = q.withBlob(2) { Array($0) } }
                        out.append((UInt64(q.int(0)), id))
                    }
                    return out
                }, item: { id -> (id: String, body: [UInt8])? in
                    guard let b = bodies[id] else { return nil }
                    return (id, b)
                })
                return EncodedChanges(records: items, coverage: coverage, more: more, base: peer)
            }
        }
    }

    /// Merges a page of remote records and raises the replica clock by its coverage,
    /// in one transaction: all or nothing. Re-applying a page changes nothing.
    ///
    /// A record that is unknown here and whose clock is below the purge floor is
    /// a stale copy of a purged tombstone: it is dropped, not revived.
    @discardableResult
    public func apply(_ page: ChangePage) throws -> MergeSummary {
        try apply([PreparedPage(page)])
    }

    /// Applies several decoded pages, in order, in one transaction.
    @discardableResult
    public func apply(_ pages: [ChangePage]) throws -> MergeSummary {
        try apply(pages.map(PreparedPage.init))
    }

    /// Applies several pages, in order, in one transaction: all or nothing.
    ///
    /// A sync groups the pages it has already received: one transaction writes
    /// each B-tree page of the id index once instead of once per received page,
    /// which is most of the cost of small transactions.
    @discardableResult
    public func apply(_ pages: [PreparedPage]) throws -> MergeSummary {
        try wrap {
            do {
                return try db.transaction {
                    var total = MergeSummary()
                    for page in pages { total = total + (try applyInTransaction(page)) }
                    return total
                }
            } catch {
                resetReplicaCache()
                throw error
            }
        }
    }

    /// Applies pages pulled from `peer`, in order, in one transaction: all or nothing.
    ///
    /// Each page comes with the peer's clock when it was cut. A page cut from a
    /// state older than what the peer had acknowledged (a page still in flight
    /// when this replica purged on that acknowledgement, or a peer restored
    /// from a backup) may hold live copies of purged records: it is refused
    /// with `StaleReplicaError`, and nothing is applied.
    @discardableResult
    public func apply(pulled pages: [(page: PreparedPage, peerClock: VectorClock)], from peer: ReplicaID) throws -> MergeSummary {
        try wrap {
            do {
                return try db.transaction {
                    var total = MergeSummary()
                    for (page, peerClock) in pages {
                        try checkNotBehindAcknowledgement(peer, holds: peerClock, side: .peer)
                        total = total + (try applyInTransaction(page))
                    }
                    return total
                }
            } catch {
                resetReplicaCache()
                throw error
            }
        }
    }

    /// Merges one page inside the caller's transaction.
    ///
    /// A record unknown here whose clock lies under the purge floor is a stale
    /// copy of a purged tombstone and is dropped. A page that brings tombstones
    /// marks this replica's acknowledgement as due (`announceIfDue`).
    func applyInTransaction(_ page: PreparedPage) throws -> MergeSummary {
        let floor = try loadFloor()
        var sawTombstone = false
        var summary = MergeSummary()
        var maxSeen = HLC.zero
        // A page whose coverage this replica already has is most likely a
        // re-delivery: probe each record's stored clock first and skip those
        // already contained. Otherwise try each record as new (one index seek,
        // as a plain insert costs) and merge those that turn out to exist.
        let likelyKnown = try page.coverage.isEmpty || page.coverage.isDominated(by: loadClock())
        for r in page.records {
            guard !r.id.isEmpty, r.id.utf8.count <= 256 else { throw MergeError.invalidRecord(id: r.id, reason: "bad id") }
            guard r.hasRegisters else { throw MergeError.invalidRecord(id: r.id, reason: "no registers") }
            var isNew = false
            if likelyKnown {
                let probe = try statement(.selectBody)
                let covered = try probe.withText(r.id, at: 1) { () throws -> Bool in
                    guard try probe.step() else { return false }
                    do { return try probe.withBlob(0) { try Record.encodedClock($0, covers: r.clock) } } catch let e as RecordDecodingError {
                        throw StoreError.corruptRecord(path: path, id: r.id, reason: e.description)
                    }
                }
                if covered { continue }
            }
            if !floor.isEmpty && r.clock.isDominated(by: floor) {
                // Under the purge floor: unknown here means a stale copy of a purged tombstone.
                if try loadRecord(r.id) == nil {
                    summary.dropped += 1
                    continue
                }
            } else {
                let insert = try statement(.insertRecordIfNew)
                insert.bind(text: r.id, at: 1)
                insert.bind(int: Int64(r.kind.rawValue), at: 2)
                insert.bind(int: r.isLive ? 1 : 0, at: 3)
                if let lookup = r.lookup { insert.bind(text: lookup, at: 4) } else { insert.bindNull(at: 4) }
                r.body.withUnsafeBytes { _ = insert.bind(blob: $0, at: 5) }
                while try insert.step() {}
                isNew = db.changes == 1
            }
            if isNew {
                let rid = db.lastInsertRowID
                summary.inserted += 1
                summary.changed += 1
                for d in r.dots { try addDot(d, rid: rid) }
                if !r.isLive { sawTombstone = true }
            } else {
                // It exists: the stored clock tells whether the remote state is already contained.
                let probe = try statement(.selectBody)
                probe.bind(text: r.id, at: 1)
                guard try probe.step() else { throw StoreError.invalid("record \(r.id) vanished during a merge") }
                let covered: Bool
                do { covered = try probe.withBlob(0) { try Record.encodedClock($0, covers: r.clock) } } catch let e as RecordDecodingError {
                    throw StoreError.corruptRecord(path: path, id: r.id, reason: e.description)
                }
                if covered {
                    probe.reset()
                    continue
                }
                let stored = try decode(id: r.id, probe, column: 0)
                probe.reset()
                let remote: Record
                do { remote = try r.record() } catch let e as RecordDecodingError {
                    throw MergeError.invalidRecord(id: r.id, reason: e.description)
                }
                guard let m = try mergeRecord(local: stored, remote: remote, summary: &summary) else { continue }
                try store(m, replacing: stored)
                if m.isDeleted { sawTombstone = true }
            }
            let h = r.maxHLC
            if h > maxSeen { maxSeen = h }
        }
        let before = try loadClock()
        let after = page.advance(before)
        for e in after.entries where e.counter > before[e.replica] { try raiseClock(e.replica, to: e.counter) }
        if maxSeen > (try loadHLC()) { try setMeta("hlc", String(maxSeen.rawValue)) }
        if sawTombstone { try markAnnouncementDue() }
        return summary
    }

    // MARK: Peers

    /// Remembers a peer; fails if the name is taken.
    public func addPeer(name: String, url: String, token: String?) throws {
        try wrap {
            if try db.scalar("SELECT 1 FROM peers WHERE name=?", .text(name)) != nil {
                throw StoreError.invalid("a peer named \"\(name)\" already exists (peer remove \(name) first)")
            }
            try db.run("INSERT INTO peers(name, url, token) VALUES(?, ?, ?)", .text(name), .text(url), token.map { .text($0) } ?? .null)
        }
    }

    /// Forgets a peer; returns whether it existed.
    @discardableResult
    public func removePeer(name: String) throws -> Bool {
        try wrap {
            try db.run("DELETE FROM peers WHERE name=?", .text(name))
            return db.changes > 0
        }
    }

    /// Every known peer, by name.
    public func peers() throws -> [Peer] {
        try wrap {
            let s = try db.prepare("SELECT name, url, token, acked, last_sync, last_error FROM peers ORDER BY name")
            var out: [Peer] = []
            while try s.step() {
                out.append(Peer(name: s.text(0), url: s.text(1), token: s.isNull(2) ? nil : s.text(2),
                                acked: VectorClock(encoded: s.text(3)) ?? VectorClock(),
                                lastSync: s.isNull(4) ? nil : Date(timeIntervalSince1970: Double(s.text(4)) ?? 0),
                                lastError: s.isNull(5) ? nil : s.text(5)))
            }
            return out
        }
    }

    /// One peer by name.
    public func peer(name: String) throws -> Peer? { try peers().first { $0.name == name } }

    /// Records a successful sync with a peer: the clock it acknowledged (merged with what it had acknowledged before).
    public func recordSync(peer name: String, acked: VectorClock, at date: Date = Date()) throws {
        try wrap {
            let old = VectorClock(encoded: try db.scalar("SELECT acked FROM peers WHERE name=?", .text(name))?.text ?? "") ?? VectorClock()
            try db.run("UPDATE peers SET acked=?, last_sync=?, last_error=NULL WHERE name=?",
                       .text(old.merged(with: acked).encoded), .text(String(date.timeIntervalSince1970)), .text(name))
        }
    }

    /// Records a failed sync with a peer.
    public func recordSyncFailure(peer name: String, error: String) throws {
        try wrap { try db.run("UPDATE peers SET last_error=? WHERE name=?", .text(error), .text(name)) }
    }

    /// How many entries of the dots index a replica with clock `acked` lacks: the changes it has not acknowledged.
    public func unacknowledged(by acked: VectorClock) throws -> Int {
        try wrap {
            var n = 0
            let mine = try loadClock()
            for e in mine.entries where e.counter > acked[e.replica] {
                guard let r = try rix(e.replica, create: false) else { continue }
                n += Int(try db.scalar("SELECT count(*) FROM dots WHERE rix=? AND counter>?",
                                       .int(r), .int(Int64(acked[e.replica])))?.int ?? 0)
            }
            return n
        }
    }
}
