import Bytes
import Crypto
import Foundation

/// A credential another replica syncs with this one by (`serve peer-token create NAME`).
public struct PeerCredential: Sendable, Equatable {
    /// Its name, shown in `serve peer-token list` and in the refusal of a read-only push.
    public var name: String
    /// A read-only credential may pull and wait, never push.
    public var readOnly: Bool
    /// When it was created.
    public var created: Date
    /// When a request last used it (written at most once a minute), or `nil`.
    public var lastUsed: Date?

    public init(name: String, readOnly: Bool, created: Date = Date(), lastUsed: Date? = nil) {
        self.name = name
        self.readOnly = readOnly
        self.created = created
        self.lastUsed = lastUsed
    }
}

/// The per-peer credentials of this replica's sync routes: a local table of the file
/// (never a record, never synced: each hub decides who may sync with it).
///
/// Only a SHA-256 of each token is stored. A token is 32 random bytes, so a hash
/// without salt or stretching is as strong as the token; a request's token is
/// hashed and compared with every stored hash in constant time.
public struct PeerTokenStore: Sendable {
    let store: ReplicaStore

    /// The name of the credential the serve token (`--token-file`, `SETUPLINK_TOKEN`
    /// or the stored token) stands for.
    public static let defaultName = "default"

    /// The hash stored for `token`.
    public static func hash(_ token: [UInt8]) -> [UInt8] {
        var h = SHA256Hasher()
        h.update(token)
        return h.finalizeBytes()
    }

    /// Creates credential `name` and returns its token, which is not kept: it is shown once.
    public func create(name: String, readOnly: Bool, now: Date = Date()) throws -> String {
        let token = "slp_" + Hex.encode(SecureRandom.bytes(32))
        try store.wrap {
            if try store.db.scalar("SELECT 1 FROM peer_tokens WHERE name=?", .text(name)) != nil {
                throw StoreError.invalid("a peer token named \"\(name)\" already exists (revoke it first: serve peer-token revoke \(name))")
            }
            try store.db.run("INSERT INTO peer_tokens(name, hash, read_only, created) VALUES(?, ?, ?, ?)", .text(name),
                             .text(Hex.encode(Self.hash(Array(token.utf8)))), .int(readOnly ? 1 : 0),
                             .int(Int64(now.timeIntervalSince1970)))
        }
        return token
    }

    /// Removes credential `name`; returns whether it existed.
    @discardableResult
    public func revoke(name: String) throws -> Bool {
        try store.wrap {
            try store.db.run("DELETE FROM peer_tokens WHERE name=?", .text(name))
            return store.db.changes > 0
        }
    }

    /// Every credential, by name.
    public func all() throws -> [PeerCredential] {
        try store.wrap {
            let s = try store.db.prepare("SELECT name, read_only, created, last_used FROM peer_tokens ORDER BY name")
            var out: [PeerCredential] = []
            while try s.step() {
                out.append(PeerCredential(name: s.text(0), readOnly: s.int(1) != 0,
                                          created: Date(timeIntervalSince1970: Double(s.int(2))),
                                          lastUsed: s.isNull(3) ? nil : Date(timeIntervalSince1970: Double(s.int(3)))))
            }
            return out
        }
    }

    /// The stored hashes, with each credential's name and whether it is read-only.
    public func hashes() throws -> [(name: String, hash: [UInt8], readOnly: Bool)] {
        try store.wrap {
            let s = try store.db.prepare("SELECT name, hash, read_only FROM peer_tokens")
            var out: [(String, [UInt8], Bool)] = []
            while try s.step() { out.append((s.text(0), Hex.decode(s.text(1)) ?? [], s.int(2) != 0)) }
            return out
        }
    }

    /// Notes that credential `name` was used at `date`.
    public func touch(name: String, at date: Date = Date()) throws {
        try store.wrap {
            try store.db.run("UPDATE peer_tokens SET last_used=? WHERE name=?", .int(Int64(date.timeIntervalSince1970)), .text(name))
        }
    }
}

extension ReplicaStore {
    /// The credentials other replicas sync with this one by (local, never synced).
    public var peerTokens: PeerTokenStore { PeerTokenStore(store: self) }
}
