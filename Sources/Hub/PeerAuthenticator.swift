import Crypto
import Foundation
import Storage
import Synchronization

/// Who may sync with this hub (Hub.docc/Serve.md, "Peer tokens"): the serve token, as
/// the credential `default`, and the per-peer tokens of `serve peer-token create`.
///
/// Per-peer tokens are read from the replica on every request, so `serve peer-token
/// revoke NAME` (from any process) refuses that peer's next request; a request's token
/// is hashed and compared with every stored hash in constant time, without stopping at
/// a match. `last_used` is written at most once a minute per credential.
final class PeerAuthenticator: Sendable {
    private let defaultToken: TokenSource
    private let store: ReplicaStore
    private let touched = Mutex<[String: Date]>([:])
    /// How often a credential's `last_used` is written, at most.
    static let touchInterval: TimeInterval = 60

    init(defaultToken: TokenSource, store: ReplicaStore) {
        self.defaultToken = defaultToken
        self.store = store
    }

    /// The credential `token` stands for, or `nil`.
    func authenticate(_ token: [UInt8]) -> PeerCredential? {
        var found: PeerCredential?
        let secret = defaultToken.current()
        if !secret.isEmpty, constantTimeEquals(token, Array(secret.utf8)) {
            found = PeerCredential(name: PeerTokenStore.defaultName, readOnly: false)
        }
        let hash = PeerTokenStore.hash(token)
        // Every stored hash is compared, whatever matched before.
        for stored in (try? store.peerTokens.hashes()) ?? [] where constantTimeEquals(hash, stored.hash) {
            found = PeerCredential(name: stored.name, readOnly: stored.readOnly)
        }
        if let found, found.name != PeerTokenStore.defaultName {
            let now = Date()
            let due = touched.withLock { last in
                guard last[found.name].map({ now.timeIntervalSince($0) >= Self.touchInterval }) ?? true else { return false }
                last[found.name] = now
                return true
            }
            if due { try? store.peerTokens.touch(name: found.name, at: now) }
        }
        return found
    }
}
