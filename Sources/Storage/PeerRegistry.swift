import Foundation
import Replica

/// The peers this replica syncs with and the log of its syncs with them: a local
/// table of the replica file (never a record, never synced), over the store's
/// connection and lock.
///
/// What a peer has acknowledged here is what the last successful sync with it
/// reported; the replica's own purge bookkeeping (`ReplicaStore.recordClient`)
/// does not read it.
public struct PeerRegistry: Sendable {
    /// The replica file whose connection and lock the registry uses.
    let store: ReplicaStore

    /// Remembers a peer; fails if the name is taken.
    public func add(name: String, url: String, token: String?, cacert: String? = nil, follow: Bool = false) throws {
        try store.wrap {
            if try store.db.scalar("SELECT 1 FROM peers WHERE name=?", .text(name)) != nil {
                throw StoreError.invalid("a peer named \"\(name)\" already exists (change it with: peer update \(name))")
            }
            try store.db.run("INSERT INTO peers(name, url, token, cacert, follow) VALUES(?, ?, ?, ?, ?)", .text(name), .text(url),
                             token.map { .text($0) } ?? .null, cacert.map { .text($0) } ?? .null, .int(follow ? 1 : 0))
        }
    }

    /// Changes what is given of a peer's URL, token and CA certificate (`nil`
    /// leaves a value as it is); returns whether the peer exists. What the peer
    /// acknowledged is kept: it is the same replica at a new address or with a new token.
    @discardableResult
    public func update(name: String, url: String? = nil, token: String? = nil, cacert: String? = nil, follow: Bool? = nil) throws -> Bool {
        try store.wrap {
            try store.db.transaction {
                guard try store.db.scalar("SELECT 1 FROM peers WHERE name=?", .text(name)) != nil else { return false }
                if let url { try store.db.run("UPDATE peers SET url=? WHERE name=?", .text(url), .text(name)) }
                if let token { try store.db.run("UPDATE peers SET token=? WHERE name=?", .text(token), .text(name)) }
                if let cacert { try store.db.run("UPDATE peers SET cacert=? WHERE name=?", .text(cacert), .text(name)) }
                if let follow { try store.db.run("UPDATE peers SET follow=? WHERE name=?", .int(follow ? 1 : 0), .text(name)) }
                return true
            }
        }
    }

    /// Forgets a peer; returns whether it existed.
    @discardableResult
    public func remove(name: String) throws -> Bool {
        try store.wrap {
            try store.db.run("DELETE FROM peers WHERE name=?", .text(name))
            return store.db.changes > 0
        }
    }

    /// Every known peer, by name.
    public func all() throws -> [Peer] {
        try store.wrap {
            let s = try store.db.prepare("SELECT name, url, token, acked, last_sync, last_error, cacert, follow FROM peers ORDER BY name")
            var out: [Peer] = []
            while try s.step() {
                out.append(Peer(name: s.text(0), url: s.text(1), token: s.isNull(2) ? nil : s.text(2),
                                cacert: s.isNull(6) ? nil : s.text(6),
                                acked: VectorClock(encoded: s.text(3)) ?? VectorClock(),
                                lastSync: s.isNull(4) ? nil : Date(timeIntervalSince1970: Double(s.text(4)) ?? 0),
                                lastError: s.isNull(5) ? nil : s.text(5), follow: s.int(7) != 0))
            }
            return out
        }
    }

    /// One peer by name.
    public func named(_ name: String) throws -> Peer? { try all().first { $0.name == name } }

    /// Records a successful sync with a peer: the clock it acknowledged (merged with what it had acknowledged before).
    public func recordSync(peer name: String, acked: VectorClock, at date: Date = Date()) throws {
        try store.wrap {
            let old = VectorClock(encoded: try store.db.scalar("SELECT acked FROM peers WHERE name=?", .text(name))?.text ?? "")
                ?? VectorClock()
            try store.db.run("UPDATE peers SET acked=?, last_sync=?, last_error=NULL WHERE name=?",
                             .text(old.merged(with: acked).encoded), .text(String(date.timeIntervalSince1970)), .text(name))
        }
    }

    /// Records a failed sync with a peer.
    public func recordSyncFailure(peer name: String, error: String) throws {
        try store.wrap { try store.db.run("UPDATE peers SET last_error=? WHERE name=?", .text(error), .text(name)) }
    }

    /// Replaces, in the caller's transaction, each peer's acknowledged clock by what
    /// `change` makes of it (`nil`: left as it is). Learning a lie rewrites them
    /// (`ReplicaStore.dropLies`): a peer may have acknowledged it.
    func rewriteAcknowledgements(_ change: (VectorClock) -> VectorClock?) throws {
        var acks: [(String, String)] = []
        let p = try store.db.prepare("SELECT name, acked FROM peers")
        while try p.step() { acks.append((p.text(0), p.text(1))) }
        for (name, text) in acks {
            if let c = change(VectorClock(encoded: text) ?? VectorClock()) {
                try store.db.run("UPDATE peers SET acked=? WHERE name=?", .text(c.encoded), .text(name))
            }
        }
    }
}

extension ReplicaStore {
    /// The peers this replica syncs with (a local table of the file, never synced).
    public var peers: PeerRegistry { PeerRegistry(store: self) }
}
