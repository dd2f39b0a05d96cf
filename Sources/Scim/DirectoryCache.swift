import Foundation
import Synchronization

/// What admitting a SCIM request needs to know of a directory, kept for a
/// second so that a request's head is judged without waiting for the replica
/// (whose lock a batch of changes may hold): the SCIM token, which never
/// changes for a directory, and whether it was live and active when read.
///
/// Only admitting rests on it, and only an active entry is used (a refusal is
/// decided on the replica's current state: a directory activated again is served
/// at once). A change checks the directory
/// again inside its transaction, and a read again before it answers, so a
/// directory deactivated or deleted within that second still changes nothing
/// and shows nothing. Unknown ids are never cached (nothing to remember, and
/// no memory for a caller who tries ids at random).
final class DirectoryCache: Sendable {
    /// A directory as admission sees it.
    struct Entry: Sendable {
        /// The SCIM token (never empty: directories without one are not cached).
        var token: String
        /// Live and not deactivated, when read.
        var active: Bool
        var read: ContinuousClock.Instant
    }

    /// How long an entry answers for the replica.
    static let lifetime: Duration = .seconds(1)
    /// The most directories kept; past it the cache starts over.
    static let capacity = 10_000

    private let entries = Mutex<[String: Entry]>([:])

    /// The entry of `id` if read less than `lifetime` ago.
    func fresh(_ id: String) -> Entry? {
        entries.withLock { e in
            guard let entry = e[id], ContinuousClock.now - entry.read < Self.lifetime else { return nil }
            return entry
        }
    }

    /// Remembers what was just read of `id`.
    func store(_ id: String, token: String, active: Bool) {
        entries.withLock { e in
            if e.count >= Self.capacity && e[id] == nil { e.removeAll(keepingCapacity: true) }
            e[id] = Entry(token: token, active: active, read: ContinuousClock.now)
        }
    }
}
