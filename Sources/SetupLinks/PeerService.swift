import Storage

/// The peers this replica syncs with: name, URL, credentials, and how far each
/// has caught up. A local registry, never replicated.
///
/// A thin door onto ``PeerRegistry`` for the console.
public struct PeerService: Sendable {
    /// A known peer and what it last acknowledged.
    public typealias Peer = Storage.Peer

    private let store: ReplicaStore

    /// A door onto `store`.
    public init(store: ReplicaStore) { self.store = store }

    /// Every known peer, by name.
    public func all() throws -> [Peer] { try store.peers.all() }

    /// The peer named `name`, if known.
    public func named(_ name: String) throws -> Peer? { try store.peers.named(name) }

    /// Remembers a peer; fails if the name is taken.
    public func add(name: String, url: String, token: String?, cacert: String?, follow: Bool = false) throws {
        try store.peers.add(name: name, url: url, token: token, cacert: cacert, follow: follow)
    }

    /// Changes what is given (`nil` keeps a value); returns whether the peer exists.
    public func update(name: String, url: String?, token: String?, cacert: String?, follow: Bool? = nil) throws -> Bool {
        try store.peers.update(name: name, url: url, token: token, cacert: cacert, follow: follow)
    }

    /// Forgets a peer; returns whether it existed.
    public func remove(name: String) throws -> Bool { try store.peers.remove(name: name) }

    /// How many changes of this replica `peer` has not acknowledged yet.
    public func unacknowledged(by peer: Peer) throws -> Int { try store.unacknowledged(by: peer.acked) }
}
