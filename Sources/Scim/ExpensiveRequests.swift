import Synchronization

/// Fair sharing of the server between directories for requests that cost a lot:
/// reading a large group with its members, replacing or deleting one.
///
/// Such a request holds one of the server's worker threads (and, for a change, the
/// replica's write lock) for as long as it takes, and a worker's other connections
/// wait meanwhile. So at most `perDirectory` of them run at once for one directory,
/// and at most `total` over all directories (a quarter of the server's 16 workers);
/// one more is answered at once `429 Too Many Requests` with `Retry-After: 1`, never
/// queued on a worker. A group is large from `largeGroup` memberships (counted in
/// the index alone, without reading a record). Small groups, users, lists and
/// `excludedAttributes=members` reads are never limited: identity providers'
/// everyday requests do not meet this.
public final class ExpensiveRequests: Sendable {
    /// Concurrent expensive requests of one directory.
    public let perDirectory: Int
    /// Concurrent expensive requests over every directory.
    public let total: Int
    /// Memberships from which a group is large.
    public let largeGroup: Int

    private struct State {
        var running: [String: Int] = [:]
        var total = 0
    }
    private let state = Mutex(State())

    /// Defaults: 2 per directory, 4 in all, groups of 10,000 memberships or more.
    public init(perDirectory: Int = 2, total: Int = 4, largeGroup: Int = 10_000) {
        self.perDirectory = max(1, perDirectory)
        self.total = max(1, total)
        self.largeGroup = max(1, largeGroup)
    }

    /// Takes a slot for `directory`, or `false` when it already has `perDirectory` or
    /// the server `total` running. Every `true` must be followed by `leave(directory)`.
    public func enter(_ directory: String) -> Bool {
        state.withLock { s in
            guard s.total < total, s.running[directory, default: 0] < perDirectory else { return false }
            s.total += 1
            s.running[directory, default: 0] += 1
            return true
        }
    }

    /// Gives back a slot `enter` gave.
    public func leave(_ directory: String) {
        state.withLock { s in
            s.total -= 1
            let n = s.running[directory, default: 1] - 1
            s.running[directory] = n > 0 ? n : nil
        }
    }

    /// Expensive requests running now.
    public var running: Int { state.withLock { $0.total } }
}
