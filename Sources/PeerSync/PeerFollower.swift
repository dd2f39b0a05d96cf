import Foundation
import HTTP
import Replica
import Storage
import Synchronization

/// Keeps a replica in sync with the peers it follows, while `serve` runs
/// (PeerSync.docc/SyncingPeers.md, "Following peers").
///
/// One thread per followed peer, so a peer that is down or slow never delays another.
/// Each runs the same `SyncClient.sync` as the `sync` command (pull, then push, the
/// outcome recorded on the peer), then waits:
/// - on the peer, with `POST /sync/v1/wait` and this replica's clock: answered as soon
///   as the peer holds a change this replica lacks;
/// - on this replica: a commit that gives it something the peer lacks (a SCIM change,
///   or changes pulled from another peer) cuts the wait short and syncs.
/// A failed sync or wait is retried after a backoff that doubles from `minBackoff` to
/// `maxBackoff`, with jitter (each delay is drawn between half and all of it), so
/// hubs that lost a peer together do not retry in step. A peer that answers the wait
/// with 404 (a version without it) is synced every `pollInterval` instead.
///
/// The followed peers are those marked (`peer add --follow`, `peer update --follow`)
/// and those named when the follower is made (`serve --follow NAME`); the peers table
/// is read again every `rescanInterval`, so marking or unmarking a peer, changing its
/// URL or token, or removing it takes effect without a restart.
public final class PeerFollower: @unchecked Sendable {
    // @unchecked Sendable: `loops` and `thread` are only touched with `condition` locked.

    /// Timings of the loops.
    public struct Options: Sendable {
        /// How long one wait on a peer lasts, at most (the peer answers sooner on a change).
        public var waitSeconds = 50
        /// The first delay after a failure.
        public var minBackoff: Duration = .milliseconds(500)
        /// The longest delay after failures in a row.
        public var maxBackoff: Duration = .seconds(30)
        /// How often a peer without `/sync/v1/wait` is synced.
        public var pollInterval: Duration = .seconds(5)
        /// How often the peers table is read again.
        public var rescanInterval: Duration = .seconds(2)
        /// The shortest time between two syncs that a wait started although the sync
        /// before found nothing to pull (a peer whose clock claims what it cannot give).
        public var idleResync: Duration = .seconds(1)

        public init() {}
    }

    /// The replica kept in sync.
    public let store: ReplicaStore
    private let named: Set<String>
    private let options: Options
    private let log: (@Sendable (String) -> Void)?
    private let condition = NSCondition()
    private var loops: [String: PeerLoop] = [:]
    private var thread: Thread?
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    /// A follower of the marked peers of `store` and of the peers `named`.
    /// `log` receives one line per sync that moved records and per failure.
    public init(store: ReplicaStore, named: Set<String> = [], options: Options = Options(),
                log: (@Sendable (String) -> Void)? = nil) {
        self.store = store
        self.named = named
        self.options = options
        self.log = log
    }

    /// The names of the peers followed now.
    public var following: [String] {
        condition.lock()
        defer { condition.unlock() }
        return loops.keys.sorted()
    }

    /// Starts following (a thread that reads the peers table and one per followed peer).
    public func start() {
        store.addCommitObserver { [weak self] in self?.localCommit() }
        rescan()
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil, !stopped else { return }
        let t = Thread { [self] in
            supervise()
            done.signal()
        }
        t.name = "setuplink-follow"
        thread = t
        t.start()
    }

    /// Stops every loop: a wait in flight is cut off, a sync in flight finishes its
    /// current request (what it applied is kept). Returns once every thread ended.
    public func stop() {
        condition.lock()
        stopped = true
        let running = thread
        thread = nil
        let all = Array(loops.values)
        loops = [:]
        condition.signal()
        condition.unlock()
        for l in all { l.stop() }
        for l in all { l.join() }
        if running != nil { done.wait() }
    }

    private func localCommit() {
        condition.lock()
        let all = Array(loops.values)
        condition.unlock()
        for l in all { l.localCommit() }
    }

    private func supervise() {
        while true {
            condition.lock()
            if stopped { condition.unlock(); return }
            _ = condition.wait(until: Date(timeIntervalSinceNow: options.rescanInterval.seconds))
            if stopped { condition.unlock(); return }
            condition.unlock()
            rescan()
        }
    }

    /// Starts a loop for each followed peer without one; stops those no longer followed.
    ///
    /// The peers are read before `condition` is taken: a commit calls `localCommit` with the
    /// store's lock held, which takes `condition`, so `condition` is never held while the
    /// store is called.
    private func rescan() {
        let peers: [Peer]
        do { peers = try store.peers.all() } catch {
            log?("follow: cannot read the peers: \(error)")
            return
        }
        let wanted = Set(peers.filter { $0.follow || named.contains($0.name) }.map(\.name))
        condition.lock()
        defer { condition.unlock() }
        if stopped { return }
        for (name, loop) in loops where !wanted.contains(name) {
            loops[name] = nil
            loop.stop()
            log?("follow: no longer following \(name)")
        }
        for name in wanted.sorted() where loops[name] == nil {
            let loop = PeerLoop(name: name, store: store, options: options, log: log)
            loops[name] = loop
            loop.start()
            log?("follow: following \(name)")
        }
    }
}

/// The loop that keeps one followed peer in sync.
final class PeerLoop: @unchecked Sendable {
    // @unchecked Sendable: the flags are only touched with `condition` locked.
    let name: String
    let store: ReplicaStore
    let options: PeerFollower.Options
    let log: (@Sendable (String) -> Void)?
    private let condition = NSCondition()
    private var stopped = false
    private var dirty = false
    private let done = DispatchSemaphore(value: 0)
    private var started = false

    init(name: String, store: ReplicaStore, options: PeerFollower.Options, log: (@Sendable (String) -> Void)?) {
        self.name = name
        self.store = store
        self.options = options
        self.log = log
    }

    func start() {
        started = true
        let t = Thread { [self] in
            run()
            done.signal()
        }
        t.name = "setuplink-follow-\(name)"
        t.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    func join() { if started { done.wait(); done.signal() } }

    func localCommit() {
        condition.lock()
        dirty = true
        condition.broadcast()
        condition.unlock()
    }

    private var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Sleeps up to `d`; returns early when stopped, or (with `wakeOnLocal`) on a local commit.
    private func sleep(_ d: Duration, wakeOnLocal: Bool = false) {
        let until = Date(timeIntervalSinceNow: d.seconds)
        condition.lock()
        defer { condition.unlock() }
        if wakeOnLocal { dirty = false }
        while !stopped && !(wakeOnLocal && dirty) {
            if !condition.wait(until: until) { break }
        }
    }

    /// The delay after `failures` failures in a row: doubling from `minBackoff`, capped, with jitter.
    func backoff(_ failures: Int) -> Duration {
        let base = options.minBackoff.seconds * pow(2, Double(min(failures - 1, 30)))
        let capped = min(base, options.maxBackoff.seconds)
        return .milliseconds(Int64(capped * Double.random(in: 0.5...1.0) * 1000))
    }

    private func run() {
        var failures = 0
        var readOnlyNoted = false
        var lastIdleSync: ContinuousClock.Instant?
        while !isStopped {
            guard let peer = (try? store.peers.named(name)) ?? nil else {
                log?("follow \(name): no such peer any more")
                return
            }
            var http = HTTPClient(caCertificatePEM: peer.cacert)
            http.monitor = { [self] _ in !isStopped }
            let client = SyncClient(http: http)
            // What this replica holds before the sync: the push gives the peer at least that.
            let startClock = (try? store.clock()) ?? VectorClock()
            // The sync, as `sync NAME` runs it.
            var report: SyncReport?
            do {
                report = try client.sync(store: store, url: peer.url, token: peer.token, peerName: name)
                if let refused = report?.pushRefused, !readOnlyNoted {
                    log?("follow \(name): \(refused); following it for pulls only")
                    readOnlyNoted = true
                }
            } catch {
                if isStopped { return }
                if case .peerError(_, _, 403, _) = error {
                    // A read-only credential: what was pulled is kept; follow it for pulls only.
                    if !readOnlyNoted { log?("follow \(name): \(error); following it for pulls only") }
                    readOnlyNoted = true
                } else {
                    failures += 1
                    let delay = backoff(failures)
                    log?("follow \(name): \(error) (attempt \(failures); again in \(String(format: "%.1f", delay.seconds)) s)")
                    sleep(delay)
                    continue
                }
            }
            if failures > 0 { log?("follow \(name): synced again after \(failures) failed attempt\(failures == 1 ? "" : "s")") }
            failures = 0
            if let report, report.pulled + report.pushed > 0 {
                log?("follow \(name): pulled \(report.pulled), pushed \(report.pushed)")
            }
            let pulled = report?.pulled ?? 0
            // Wait for the next change on either side.
            var peerClock = report?.peerClock ?? ((try? store.clock()) ?? VectorClock())
            let lastLocal = (try? store.clock()) ?? VectorClock()
            // A peer that did not take what this replica held (a read-only credential, or a peer
            // that refuses some dots) is pushed to again only when something new is committed here.
            let stuck = !startClock.isDominated(by: peerClock)
            waiting: while !isStopped {
                // Something committed here that the peer lacks: sync now.
                condition.lock()
                dirty = false
                condition.unlock()
                if let mine = try? store.clock(), !mine.isDominated(by: peerClock), !stuck || mine != lastLocal { break waiting }
                var waitHTTP = http
                let checked = Mutex<ContinuousClock.Instant>(.now)
                let knownPeer = peerClock
                waitHTTP.monitor = { [self] _ in
                    condition.lock()
                    let stop = stopped, local = dirty
                    dirty = false
                    condition.unlock()
                    if stop { return false }
                    // A local commit, or (once a second) one made by another process on the file.
                    let due = local || checked.withLock { last in
                        let now = ContinuousClock.now
                        guard now - last >= .seconds(1) else { return false }
                        last = now
                        return true
                    }
                    if due, let mine = try? store.clock(), !mine.isDominated(by: knownPeer), !stuck || mine != lastLocal { return false }
                    return true
                }
                do {
                    let answer = try SyncClient(http: waitHTTP).wait(store: store, url: peer.url, token: peer.token, peerName: name,
                                                                      seconds: options.waitSeconds)
                    peerClock = answer.peerClock
                    if answer.changed {
                        // A sync that found nothing to pull may mean the peer claims what it cannot give: not more than once a second.
                        if pulled == 0, let last = lastIdleSync, ContinuousClock.now - last < options.idleResync {
                            sleep(options.idleResync - (ContinuousClock.now - last))
                        }
                        lastIdleSync = pulled == 0 ? ContinuousClock.now : nil
                        break waiting
                    }
                } catch {
                    if isStopped { return }
                    if case .cancelled = error { break waiting }  // a local change: sync it
                    if case .peerError(_, _, 404, _) = error {
                        // A peer without /sync/v1/wait: poll it, and sync local changes as they come.
                        sleep(options.pollInterval, wakeOnLocal: true)
                        break waiting
                    }
                    failures += 1
                    let delay = backoff(failures)
                    try? store.peers.recordSyncFailure(peer: name, error: error.description)
                    log?("follow \(name): \(error) (attempt \(failures); again in \(String(format: "%.1f", delay.seconds)) s)")
                    sleep(delay)
                    break waiting
                }
            }
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
