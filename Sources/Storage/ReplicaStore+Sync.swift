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
