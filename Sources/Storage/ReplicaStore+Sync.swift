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
    /// The CA certificate (PEM) its TLS certificate is checked against, for a
    /// private CA; `nil` uses the system's CAs.
    public var cacert: String?
    /// The peer's replica clock after the last successful sync: what it has acknowledged.
    public var acked: VectorClock
    /// When the last sync succeeded.
    public var lastSync: Date?
    /// The last sync's error, if it failed.
    public var lastError: String?
}

extension ReplicaStore {
    // MARK: Peers

    /// Remembers a peer; fails if the name is taken.
    public func addPeer(name: String, url: String, token: String?, cacert: String? = nil) throws {
        try wrap {
            if try db.scalar("SELECT 1 FROM peers WHERE name=?", .text(name)) != nil {
                throw StoreError.invalid("a peer named \"\(name)\" already exists (change it with: peer update \(name))")
            }
            try db.run("INSERT INTO peers(name, url, token, cacert) VALUES(?, ?, ?, ?)", .text(name), .text(url),
                       token.map { .text($0) } ?? .null, cacert.map { .text($0) } ?? .null)
        }
    }

    /// Changes what is given of a peer's URL, token and CA certificate (`nil`
    /// leaves a value as it is); returns whether the peer exists. What the peer
    /// acknowledged is kept: it is the same replica at a new address or with a new token.
    @discardableResult
    public func updatePeer(name: String, url: String? = nil, token: String? = nil, cacert: String? = nil) throws -> Bool {
        try wrap {
            try db.transaction {
                guard try db.scalar("SELECT 1 FROM peers WHERE name=?", .text(name)) != nil else { return false }
                if let url { try db.run("UPDATE peers SET url=? WHERE name=?", .text(url), .text(name)) }
                if let token { try db.run("UPDATE peers SET token=? WHERE name=?", .text(token), .text(name)) }
                if let cacert { try db.run("UPDATE peers SET cacert=? WHERE name=?", .text(cacert), .text(name)) }
                return true
            }
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
            let s = try db.prepare("SELECT name, url, token, acked, last_sync, last_error, cacert FROM peers ORDER BY name")
            var out: [Peer] = []
            while try s.step() {
                out.append(Peer(name: s.text(0), url: s.text(1), token: s.isNull(2) ? nil : s.text(2),
                                cacert: s.isNull(6) ? nil : s.text(6),
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

    /// Records what a replica this one synced with (either as its server or as its client) has acknowledged.
    public func recordClient(_ replica: ReplicaID, acked: VectorClock, at date: Date = Date()) throws {
        try wrap {
            let old = VectorClock(encoded: try db.scalar("SELECT acked FROM clients WHERE rid=?", .text(replica.hex))?.text ?? "") ?? VectorClock()
            try db.run("""
                INSERT INTO clients(rid, acked, last_seen) VALUES(?, ?, ?)
                ON CONFLICT(rid) DO UPDATE SET acked=excluded.acked, last_seen=excluded.last_seen
                """, .text(replica.hex), .text(old.merged(with: acked).encoded), .text(String(date.timeIntervalSince1970)))
        }
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

    /// The purge floor: every change up to it is known to this replica and every known peer.
    public func purgeFloor() throws -> VectorClock {
        try wrap { VectorClock(encoded: try meta("purge_floor") ?? "") ?? VectorClock() }
    }

    /// The stable point: the meet of this replica's clock and the clock every
    /// replica it has synced with (in either direction) last acknowledged, and
    /// whether every replica that wrote here is among them. `nil` with no known replica.
    func stablePoint() throws -> (VectorClock, allWritersKnown: Bool)? {
        var acks: [ReplicaID: VectorClock] = [:]
        let c = try db.prepare("SELECT rid, acked FROM clients")
        while try c.step() {
            if let id = ReplicaID(hex: c.text(0)) { acks[id] = VectorClock(encoded: c.text(1)) ?? VectorClock() }
        }
        guard !acks.isEmpty else { return nil }
        var stable = try loadClock()
        let allKnown = stable.entries.allSatisfy { $0.replica == replicaID || acks[$0.replica] != nil }
        for a in acks.values { stable = stable.meet(a) }
        return (stable, allKnown)
    }

    /// Purges tombstones that every replica this one has synced with has acknowledged; returns how many.
    ///
    /// Every neighbour keeps a tombstone until each of its own neighbours has
    /// it, so a replica holding an older live copy always has a neighbour that
    /// can still send it the delete. A replica decides on its own only when it
    /// has heard directly from every replica that wrote to it (a hub); the
    /// others adopt their server's floor (`adoptPurgeFloor`). Purged tombstones
    /// raise the purge floor, so a stale copy arriving later is dropped, not revived.
    @discardableResult
    public func purgeTombstones() throws -> Int {
        try wrap {
            try db.transaction {
                guard let (stable, allKnown) = try stablePoint(), allKnown else { return 0 }
                return try purge(upTo: stable)
            }
        }
    }

    /// Adopts a server's purge floor, as far as every replica this one has synced with has acknowledged, and purges below it.
    @discardableResult
    public func adoptPurgeFloor(_ floor: VectorClock) throws -> Int {
        guard !floor.isEmpty else { return 0 }
        return try wrap {
            try db.transaction {
                guard let (stable, _) = try stablePoint() else { return 0 }
                return try purge(upTo: floor.meet(stable))
            }
        }
    }

    /// Deletes tombstones whose clock is within `stable` and raises the floor to it (in the caller's transaction).
    func purge(upTo stable: VectorClock) throws -> Int {
        let s = try db.prepare("SELECT id, body, rid FROM records WHERE live=0")
        var doomed: [(Int64, Record)] = []
        while try s.step() {
            let r = try decode(id: s.text(0), s, column: 1)
            if r.isDeleted && r.clock.isDominated(by: stable) { doomed.append((s.int(2), r)) }
        }
        for (rid, r) in doomed {
            try db.run("DELETE FROM records WHERE rid=?", .int(rid))
            for d in r.distinctDots { try removeDot(d, rid: rid) }
        }
        let old = VectorClock(encoded: try meta("purge_floor") ?? "") ?? VectorClock()
        let floor = old.merged(with: stable)
        if floor != old { try setMeta("purge_floor", floor.encoded) }
        return doomed.count
    }
}
