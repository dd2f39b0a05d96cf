import JSON
import Foundation
import HTTP
import Replica
import Storage

/// Where a running sync is, reported after every page.
public struct SyncProgress: Sendable, Equatable {
    /// The two halves of a sync.
    public enum Phase: Sendable, Equatable {
        /// Receiving the peer's changes.
        case pull
        /// Sending this replica's changes.
        case push
    }

    /// The phase the page belongs to.
    public var phase: Phase
    /// Pages done so far in this phase.
    public var pages: Int
    /// Records received (pull) or sent (push) so far in this phase.
    public var records: Int
    /// Whether the peer or this replica said more pages follow.
    public var more: Bool
}

/// What a finished sync did.
public struct SyncReport: Sendable, Equatable {
    /// The peer's replica id.
    public var peerReplica: ReplicaID
    /// Records whose local state changed by what was pulled.
    public var pulled = 0
    /// Records sent to the peer.
    public var pushed = 0
    /// Local records that gained conflicts (or a delete that beat an update) from what was pulled.
    public var conflicts = 0
    /// Records on the peer that gained conflicts from what was pushed.
    public var peerConflicts = 0
    /// Pages pulled.
    public var pulledPages = 0
    /// Pages pushed.
    public var pushedPages = 0
    /// HTTP requests made.
    public var requests = 0
    /// Bytes sent on the wire (request lines, headers and bodies).
    public var bytesSent = 0
    /// Bytes received on the wire (status lines, headers and bodies).
    public var bytesReceived = 0
    /// The peer's replica clock after the push: what it has acknowledged.
    public var peerClock = VectorClock()
    /// The peer's purge floor, from its last answer.
    public var peerPurgeFloor = VectorClock()
    /// Tombstones this replica purged at the end of the sync.
    public var purged = 0
    /// Rounds the sync ran again after a correction (README "Lies about a third replica").
    public var correctionRounds = 0
    /// Whether this sync was a resync (a full pull after dropping a lie), and the records
    /// it removed because the peer had purged them.
    public var resynced = false
    /// Records a resync removed (the peer had purged them).
    public var resyncRemoved = 0

    /// An empty report for a sync with `peerReplica`.
    public init(peerReplica: ReplicaID) { self.peerReplica = peerReplica }
}

/// Sends one request of the peer protocol in place of libcurl: method, URL,
/// headers, body. Tests use it to run whole syncs in process, through the
/// server's real routes, and to cut them off at chosen points.
public typealias SyncTransport = @Sendable (_ method: String, _ url: String, _ headers: [String: String],
                                            _ body: [UInt8]?) throws(HTTPClientError) -> HTTPClientResponse

/// The client side of the peer protocol: syncs a local replica with a peer over HTTP (libcurl).
///
/// A sync is `GET /sync/v1/summary` (is it a setuplink peer? is the token
/// right?), then pull pages until the peer has nothing more, each applied in
/// its own transaction, then push pages until this replica has nothing more.
/// A sync cut off at any point loses nothing: applied pages stay applied, and
/// the next sync starts from the clocks both sides hold. A sync with nothing
/// to do is two small requests.
///
/// Purging (README "Tombstones"): every pull request carries the clock this
/// replica has *applied* (its acknowledgement) apart from the clock it pages
/// from; the pull ends with `finishPull` (adopt the peer's floor, join,
/// announce), the sync with `finishSync` (record the peer's applied clock,
/// purge). A peer whose clock does not cover this replica's purge floor gets
/// this replica's changes first, then is pulled from.
public struct SyncClient: Sendable {
    /// The HTTP client (timeouts, response size limit).
    public var http: HTTPClient
    /// Records per page, both ways (the server clamps pulls to `SyncServer.maxPageLimit`).
    public var pageLimit: Int
    /// The page encoding asked for: binary by default; a peer that answers JSON
    /// (an older one) is then spoken to in JSON. `.json` asks for JSON only.
    public var encoding: PageEncoding
    /// Sends the requests instead of `http` when set.
    public var transport: SyncTransport?

    /// Creates a client.
    public init(http: HTTPClient = HTTPClient(), pageLimit: Int = SyncServer.defaultPageLimit, encoding: PageEncoding = .binary,
                transport: SyncTransport? = nil) {
        self.http = http
        self.pageLimit = max(1, pageLimit)
        self.encoding = encoding
        self.transport = transport
    }

    /// Syncs `store` with the peer at `url`: pull, then push.
    ///
    /// With `peerName`, the outcome is recorded on that peer (`recordSync` with
    /// the clock the peer acknowledged, or `recordSyncFailure`). `progress` is
    /// called after every page, on the calling thread.
    public func sync(store: ReplicaStore, url: String, token: String?, peerName: String? = nil,
                     progress: ((SyncProgress) -> Void)? = nil) throws(SyncError) -> SyncReport {
        do throws(SyncError) {
            let report = try run(store: store, url: url, token: token, peerName: peerName, progress: progress)
            if let peerName { try local { try store.recordSync(peer: peerName, acked: report.peerClock) } }
            return report
        } catch {
            if let peerName { try? store.recordSyncFailure(peer: peerName, error: error.description) }
            throw error
        }
    }

    /// What one sync tracks about its peer.
    private struct Exchange {
        /// The peer's replica id.
        let peer: ReplicaID
        /// The latest clock the peer reported: what it has applied.
        var peerApplied: VectorClock
        /// The peer's purge floor, from its latest answer.
        var peerFloor: VectorClock
        /// The encoding the peer answered pulls in: pushes use it too.
        var pushEncoding = PageEncoding.json
        /// The corrections the peer's pull answers carried.
        var peerCorrections = Corrections()
    }

    /// How many times a sync runs again after learning a correction before it gives up.
    static let correctionRounds = 4

    /// Runs the sync; when a claim about some replica's writes turns out to be a lie
    /// (the peer answers with corrections, or this replica sees one), learns the
    /// corrections (dropping the lie from this replica's state) and runs it again.
    private func run(store: ReplicaStore, url rawURL: String, token: String?, peerName: String?,
                     progress: ((SyncProgress) -> Void)?) throws(SyncError) -> SyncReport {
        var round = 0
        while true {
            do {
                var report = try runOnce(store: store, url: rawURL, token: token, peerName: peerName, progress: progress)
                report.correctionRounds = round
                return report
            } catch {
                guard case .corrected(_, _, _, let corrections) = error, round < Self.correctionRounds else { throw error }
                round += 1
                _ = try local { try store.learn(corrections) }
            }
        }
    }

    private func runOnce(store: ReplicaStore, url rawURL: String, token: String?, peerName: String?,
                         progress: ((SyncProgress) -> Void)?) throws(SyncError) -> SyncReport {
        let base = try Self.baseURL(rawURL)
        var session = Session(http: http, transport: transport, base: base, token: token, peer: peerName)

        // Summary: a setuplink peer answers with its replica id and clock.
        let (summaryReplica, summaryClock, summaryFloor, summaryCorrections) = try session.summary()
        var report = SyncReport(peerReplica: summaryReplica)
        // What the peer knows of lies; and a claim of this replica's writes beyond its counter
        // is noted, so the pull request refutes it and the peer drops it before answering.
        // A peer retired here (`member retire`) is not synced with: it must be rebuilt.
        do { try store.checkPeerNotRetired(summaryReplica) } catch let e as RetiredReplicaError {
            throw SyncError.peerError(peer: session.peer, url: session.base, status: 409, message: e.description)
        } catch {
            throw SyncError.local("\(error)")
        }
        try local {
            try store.learn(summaryCorrections)
            let mine = try store.clock()[store.replicaID]
            if summaryClock[store.replicaID] > mine { try store.noteLieAboutSelf(claim: summaryClock[store.replicaID]) }
        }
        // Pushes speak JSON until a pull answer shows the peer speaks binary.
        var exchange = Exchange(peer: summaryReplica, peerApplied: summaryClock, peerFloor: summaryFloor)
        let isSelf = summaryReplica == store.replicaID
        var serverClock = summaryClock

        // A peer that lacks changes up to this replica's purge floor (a replica new to the others, or
        // one still catching up) might send records purged here: give it this replica's state first.
        if !isSelf, try !local({ try store.purgeFloor() }).isDominated(by: summaryClock) {
            try local { try store.introduce(peer: summaryReplica) }
            serverClock = try push(store: store, session: &session, since: serverClock, exchange: &exchange,
                                   report: &report, progress: progress)
        }
        serverClock = try pull(store: store, session: &session, exchange: &exchange, report: &report, progress: progress)
        if !isSelf { try local { try store.introduce(peer: summaryReplica) } }
        let since = try push(store: store, session: &session, since: serverClock, exchange: &exchange,
                             report: &report, progress: progress)

        report.peerClock = since
        report.peerPurgeFloor = exchange.peerFloor
        if !isSelf { report.purged = try local { try store.finishSync(with: summaryReplica, peerApplied: exchange.peerApplied) } }
        report.requests = session.requests
        report.bytesSent = session.bytesSent
        report.bytesReceived = session.bytesReceived
        return report
    }

    /// The pull phase; returns the peer's clock from its last answer.
    private func pull(store: ReplicaStore, session: inout Session, exchange: inout Exchange, report: inout SyncReport,
                      progress: ((SyncProgress) -> Void)?) throws(SyncError) -> VectorClock {
        // Pipelined: a fetcher thread requests, decodes and prepares page k+1 while this
        // thread applies page k (each batch one transaction, in order). The next
        // request pages from the clock page k brings the replica to, and says
        // separately what the replica has applied so far, which is all the peer
        // may count as acknowledged.
        var serverClock = exchange.peerApplied
        var pulledRecords = 0
        // A resync pages from nothing: the peer's whole state, then what it purged is dropped here.
        // The parts of a change an earlier, cut-off pull kept aside: the change comes again whole.
        try local { try store.dropStaged(session: ReplicaStore.pullSession(exchange.peer)) }
        let resyncDue = try local { try store.resyncDue() }
        let resync = exchange.peer != store.replicaID && resyncDue
        if resync {
            try local { try store.beginResync() }
            report.resynced = true
        }
        let committed = try local { try store.clock() }
        let floor = try local { try store.purgeFloor() }
        let corrections = try local { try store.corrections() }
        let forgot = try local { try store.forgotten() }
        // The fetcher counts its own requests and bytes; they are added when it is done.
        let pipeline = PullPipeline(session: session.fresh(), me: store.replicaID, peerReplica: exchange.peer,
                                    pageLimit: pageLimit, encoding: encoding, start: resync ? VectorClock() : committed,
                                    applied: committed, floor: floor, corrections: corrections, forgot: forgot, resync: resync,
                                    preparer: store.mergePreparer())
        defer { pipeline.finish() }
        var done = false
        while !done {
            // One transaction takes every page already received, and then, without
            // waiting, the pages that arrive while it applies them, up to a budget:
            // fewer, larger transactions write each index leaf once for more records.
            var taken: [(records: Int, more: Bool)] = []
            var inTransaction = 0
            let started = DispatchTime.now().uptimeNanoseconds
            func take(_ batch: [PullPipeline.Item]) -> [(page: ChangePage, peerClock: VectorClock, prepared: PreparedRecords?)] {
                for item in batch {
                    serverClock = item.serverClock
                    exchange.peerApplied.merge(item.serverClock)
                    exchange.pushEncoding = item.encoding
                    if let floor = item.purgeFloor { exchange.peerFloor = floor }
                    exchange.peerCorrections.merge(item.corrections)
                    taken.append((item.page.records.count, item.page.more))
                    inTransaction += item.page.records.count
                }
                return batch.map { ($0.page, $0.serverClock, $0.prepared) }
            }
            let first = take(try pipeline.nextBatch(maxRecords: Self.applyBudget))
            let summary: MergeSummary
            do {
                // Peer input: each page is checked against the clock its answer declared before anything is stored.
                summary = try store.apply(pulled: first, from: exchange.peer, resync: resync, more: {
                    guard taken.last?.more != false, inTransaction < Self.transactionRecords,
                          DispatchTime.now().uptimeNanoseconds - started < Self.transactionNanoseconds else { return [] }
                    return take(pipeline.readyBatch(maxRecords: Self.applyBudget))
                })
                // What the next requests may acknowledge (the fetcher never waits on the store).
                pipeline.committed(try store.clock())
            } catch let e as MergeError {
                throw SyncError.refusedChanges(peer: session.peer, url: session.base, reason: e.description)
            } catch let e as PeerInputError where e.lie != nil {
                // A lie about this replica's writes is noted, so the next request refutes it; a known
                // lie about another's is refuted by the corrections every request carries.
                if let lie = e.lie, lie.replica == store.replicaID { try? store.noteLieAboutSelf(claim: lie.counter) }
                throw SyncError.corrected(peer: session.peer, url: session.base, reason: e.description, corrections: Corrections())
            } catch let e as PeerInputError {
                throw SyncError.refusedChanges(peer: session.peer, url: session.base, reason: e.description)
            } catch let e as StaleReplicaError {
                throw SyncError.refusedChanges(peer: session.peer, url: session.base, reason: e.description)
            } catch {
                throw SyncError.local("\(error)")
            }
            report.pulled += summary.changed
            report.conflicts += summary.conflicts
            for item in taken {
                report.pulledPages += 1
                pulledRecords += item.records
                progress?(SyncProgress(phase: .pull, pages: report.pulledPages, records: pulledRecords, more: item.more))
                if !item.more { done = true }
            }
        }
        session.absorb(pipeline.finish())
        if exchange.peer != store.replicaID {
            try local {
                try store.learn(exchange.peerCorrections)
                if resync { report.resyncRemoved = try store.finishResync(peerFloor: exchange.peerFloor) }
                try store.finishPull(from: exchange.peer, peerFloor: exchange.peerFloor)
            }
        }
        return serverClock
    }

    /// The push phase: what the peer's clock says it lacks. Returns the clock the peer reaches.
    private func push(store: ReplicaStore, session: inout Session, since start: VectorClock, exchange: inout Exchange,
                      report: inout SyncReport, progress: ((SyncProgress) -> Void)?) throws(SyncError) -> VectorClock {
        let me = store.replicaID
        var since = start
        var cursor: PageCursor?
        var pages = 0, records = 0
        while true {
            // The message's clock is what this replica has committed: its acknowledgement.
            let (page, mine, floor, corrections, forgot) = try local {
                (try store.changes(since: since, limit: pageLimit, cursor: cursor), try store.clock(), try store.purgeFloor(),
                 try store.corrections(), try store.forgotten())
            }
            let reached = page.advance(since)
            if page.records.isEmpty && reached == since { break }
            cursor = page.partial?.cursor
            let message = PageMessage(sender: me, clock: mine, purgeFloor: floor, page: page, corrections: corrections, forgot: forgot)
            let body: [UInt8]
            switch exchange.pushEncoding {
            case .binary: body = BinaryPage.encode(message)
            case .json: body = try local { try WireFormat.encode(message) }
            }
            let answer = try session.post("/sync/v1/push", body, contentType: exchange.pushEncoding.mediaType)
            let after: VectorClock
            do throws(WireFormatError) {
                after = try WireFormat.clock(answer["clock"], "clock")
                if let c = answer["conflicts"]?.int64Value { report.peerConflicts += Int(c) }
                if answer["purge_floor"] != nil { exchange.peerFloor = try WireFormat.clock(answer["purge_floor"], "purge_floor") }
                exchange.peerCorrections.merge(try WireFormat.corrections(answer["corrections"], "corrections"))
            } catch {
                throw session.invalid("\(error)")
            }
            exchange.peerApplied.merge(after)
            // Merging in what the page vouches for guarantees progress even if the peer lags.
            since = after.merged(with: reached)
            report.pushed += page.records.count
            report.pushedPages += 1
            pages += 1
            records += page.records.count
            progress?(SyncProgress(phase: .push, pages: pages, records: records, more: page.more))
            guard page.more else { break }
        }
        return since
    }

    /// Records taken from the fetcher at once, at most (one page may exceed it); the
    /// fetcher's `depth` bounds it first.
    static let applyBudget = 10_000

    /// A pull's transaction keeps taking pages that are already received until it
    /// holds this many records (Benchmarks/README.md, "What a replica must store, and
    /// larger pull transactions": at 1M each transaction rewrites every index leaf it
    /// touches, and 50,000 records per transaction wrote 2.2 KB per record against
    /// 3.6 KB with 10,000)…
    static let transactionRecords = 50_000
    /// …or has lasted this long: the store's lock, and SQLite's write lock that other
    /// processes on the file wait for, are held for at most about this long.
    static let transactionNanoseconds: UInt64 = 1_000_000_000

    /// Runs a store call, turning its failure into `SyncError.local`.
    private func local<T>(_ body: () throws -> T) throws(SyncError) -> T {
        do { return try body() } catch { throw SyncError.local("\(error)") }
    }

    /// The URL without a trailing slash, or `invalidURL` unless it is absolute http(s) with a host, no query and no fragment.
    static func baseURL(_ url: String) throws(SyncError) -> String {
        guard !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }),
              let c = URLComponents(string: url),
              let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = c.host, !host.isEmpty, c.query == nil, c.fragment == nil
        else { throw .invalidURL(url) }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

/// Fetches, decodes and prepares (`MergePreparer`) pull pages on a thread of its own, ahead of the applier.
final class PullPipeline: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `cancelled`, `finished` and `applied` are touched only under
    // `condition`; `session` is the fetcher's until `finished` is set.
    typealias Item = (page: ChangePage, serverClock: VectorClock, purgeFloor: VectorClock?, encoding: PageEncoding,
                      prepared: PreparedRecords?, corrections: Corrections)

    /// How many decoded pages may wait for the applier (about 1 MB each with their
    /// prepared records). A transaction is not bounded by it (it keeps taking pages as
    /// they arrive), so six are enough: at 1M the client's peak was 125–126 MiB with
    /// six, 137–147 MiB with ten (Benchmarks/README.md, "What a replica must store, and
    /// larger pull transactions").
    static let depth = 6

    private let condition = NSCondition()
    private var queue: [Result<Item, SyncError>] = []
    private var cancelled = false
    private var finished = false
    private var session: Session
    /// The replica's clock after the last batch the applier committed: all a request may acknowledge.
    private var applied: VectorClock

    /// Starts fetching pages from `start` (the clock to page from: the committed clock, or
    /// nothing for a resync); `applied` is what the replica has committed, `corrections`
    /// what it knows of lies (every request carries both).
    init(session: Session, me: ReplicaID, peerReplica: ReplicaID, pageLimit: Int, encoding: PageEncoding, start: VectorClock,
         applied: VectorClock, floor: VectorClock, corrections: Corrections, forgot: [ReplicaID], resync: Bool, preparer: MergePreparer) {
        self.session = session
        self.applied = applied
        Thread { [self] in
            run(me: me, peerReplica: peerReplica, pageLimit: pageLimit, encoding: encoding, start: start, floor: floor,
                corrections: corrections, forgot: forgot, resync: resync, preparer: preparer)
        }.start()
    }

    /// Tells the fetcher what the replica has committed (the applier calls it after each batch).
    func committed(_ clock: VectorClock) {
        condition.lock()
        applied = clock
        condition.unlock()
    }

    private func run(me: ReplicaID, peerReplica: ReplicaID, pageLimit: Int, encoding: PageEncoding, start: VectorClock,
                     floor: VectorClock, corrections: Corrections, forgot: [ReplicaID], resync: Bool, preparer: MergePreparer) {
        var clock = start
        var cursor: PageCursor?
        var local = session
        defer {
            condition.lock()
            session = local
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        while true {
            let result: Result<Item, SyncError>
            do throws(SyncError) {
                // What is committed, unlike `clock`, which counts pages received and not yet applied.
                condition.lock()
                let applied = self.applied
                condition.unlock()
                var w = JSONWriter(capacity: 128 + (clock.entries.count + applied.entries.count + floor.entries.count) * 48)
                w.beginObject()
                w.key("replica"); w.string(me.hex)
                w.key("clock"); WireFormat.writeClock(clock, into: &w)
                w.key("applied"); WireFormat.writeClock(applied, into: &w)
                w.key("purge_floor"); WireFormat.writeClock(floor, into: &w)
                w.key("limit"); w.int(Int64(pageLimit))
                if !corrections.isEmpty { w.key("corrections"); WireFormat.writeCorrections(corrections, into: &w) }
                if !forgot.isEmpty { w.key("forgot"); WireFormat.writeReplicas(forgot, into: &w) }
                if let cursor { w.key("cursor"); WireFormat.writeCursor(cursor, into: &w) }
                if resync { w.key("resync"); w.bool(true) }
                w.endObject()
                // Binary preferred, JSON accepted (an older peer answers JSON).
                let accept = encoding == .binary ? "\(BinaryPage.mediaType), application/json;q=0.5" : "application/json"
                let response = try local.postRaw("/sync/v1/pull", w.bytes, accept: accept)
                var item = try local.decodePull(response, from: peerReplica)
                // Read the records here, on this thread, so the applier only does what needs the file.
                item.prepared = preparer.prepare(item.page)
                result = .success(item)
            } catch {
                result = .failure(error)
            }
            condition.lock()
            while queue.count >= Self.depth && !cancelled { condition.wait() }
            if cancelled { condition.unlock(); return }
            queue.append(result)
            condition.broadcast()
            condition.unlock()
            guard case .success(let item) = result, item.page.more else { return }
            let next = item.page.advance(clock)
            // A page that ends inside a change moves the cursor even when its coverage does not move.
            let nextCursor = item.page.partial?.cursor
            if next == clock && (nextCursor == nil || nextCursor == cursor) {
                condition.lock()
                queue.append(.failure(local.invalid("a page marked \"more\" brought no progress")))
                condition.broadcast()
                condition.unlock()
                return
            }
            clock = next
            cursor = nextCursor
        }
    }

    /// The pages received so far, in order: at least one, at most about `maxRecords`
    /// records; or the error that stopped the fetcher once the pages before it are taken.
    func nextBatch(maxRecords: Int) throws(SyncError) -> [Item] {
        try batch(maxRecords: maxRecords, waiting: true)
    }

    /// The pages received so far, in order, at most about `maxRecords` records, without
    /// waiting: none when none is there yet, and none at an error (left for `nextBatch`,
    /// so the pages before it are committed before the sync stops).
    func readyBatch(maxRecords: Int) -> [Item] {
        (try? batch(maxRecords: maxRecords, waiting: false)) ?? []
    }

    private func batch(maxRecords: Int, waiting: Bool) throws(SyncError) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        while waiting && queue.isEmpty { condition.wait() }
        var out: [Item] = []
        var records = 0
        while let first = queue.first {
            guard case .success(let item) = first else {
                if out.isEmpty && waiting {
                    queue.removeFirst()
                    condition.broadcast()
                    return [try first.get()]
                }
                break
            }
            if !out.isEmpty && records + item.page.records.count > maxRecords { break }
            queue.removeFirst()
            out.append(item)
            records += item.page.records.count
            if !item.page.more { break }
        }
        condition.broadcast()
        return out
    }

    /// Stops the fetcher, waits for it, and returns its session (with its byte counts).
    @discardableResult
    func finish() -> Session {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        while !finished { condition.wait() }
        return session
    }
}

/// The HTTP exchanges of one sync, with their byte counts.
struct Session: Sendable {
    let http: HTTPClient
    let transport: SyncTransport?
    let base: String
    let token: String?
    let peer: String?
    var requests = 0
    var bytesSent = 0
    var bytesReceived = 0

    init(http: HTTPClient, transport: SyncTransport? = nil, base: String, token: String?, peer: String?) {
        self.http = http
        self.transport = transport
        self.base = base
        self.token = token
        self.peer = peer
    }

    /// A session to the same peer with its own counts (for the pull fetcher).
    func fresh() -> Session { Session(http: http, transport: transport, base: base, token: token, peer: peer) }

    func invalid(_ reason: String) -> SyncError { .invalidAnswer(peer: peer, url: base, reason: reason) }

    /// Adds the requests and bytes of another session of the same sync (the pull fetcher's).
    mutating func absorb(_ other: Session) {
        requests += other.requests
        bytesSent += other.bytesSent
        bytesReceived += other.bytesReceived
    }

    /// Decodes a pull answer in the encoding its `Content-Type` names: the page,
    /// the server's clock and its purge floor. The answer must come from the
    /// replica the summary named and declare its clock.
    func decodePull(_ response: HTTPClientResponse, from peerReplica: ReplicaID) throws(SyncError) -> PullPipeline.Item {
        let encoding = PageEncoding.of(contentType: response.headers["content-type"])
        let message: PageMessage
        do throws(WireFormatError) {
            switch encoding {
            case .binary: message = try BinaryPage.decode(response.body)
            case .json: message = try WireFormat.decodeMessage(response.body)
            }
        } catch {
            throw invalid("/sync/v1/pull: \(error)")
        }
        guard message.sender == peerReplica else {
            throw invalid("/sync/v1/pull was answered by replica \(message.sender.hex), not \(peerReplica.hex) as its summary said")
        }
        guard let clock = message.clock else { throw invalid("/sync/v1/pull: clock: missing") }
        return (message.page, clock, message.purgeFloor, encoding, nil, message.corrections)
    }

    /// Sends one request; transport failures become `SyncError`s.
    mutating func send(_ method: String, _ path: String, _ body: [UInt8]?, contentType: String = "application/json",
                       accept: String? = nil) throws(SyncError) -> HTTPClientResponse {
        var headers: [String: String] = [:]
        if let token, !token.isEmpty { headers["Authorization"] = "Bearer \(token)" }
        if body != nil { headers["Content-Type"] = contentType }
        if let accept { headers["Accept"] = accept }
        let response: HTTPClientResponse
        do {
            if let transport {
                response = try transport(method, base + path, headers, body)
            } else {
                response = try http.send(method: method, url: base + path, headers: headers, body: body)
            }
        } catch {
            switch error {
            case .invalidURL: throw .invalidURL(base)
            case .timedOut: throw .timedOut(peer: peer, url: base, reason: error.reason)
            case .cancelled: throw .cancelled(peer: peer, url: base)
            case .responseTooLarge: throw invalid(error.reason)
            case .invalidRequest(let m): throw .local("cannot build the request: \(m)")
            case .connectionRefused, .couldNotResolve, .other:
                throw .unreachable(peer: peer, url: base, reason: error.reason)
            case .noAnswerToPlainHTTP:
                // Suggest the peer's https:// base URL, not the route's.
                throw .transport(peer: peer, url: base, reason: HTTPClientError.noAnswerToPlainHTTP(url: base).reason)
            case .tlsNotSpoken, .certificateNotTrusted, .certificateNameMismatch, .invalidCACertificate, .tls:
                throw .transport(peer: peer, url: base, reason: error.reason)
            }
        }
        requests += 1
        bytesSent += response.bytesSent
        bytesReceived += response.bytesReceived
        return response
    }

    /// The `error` text of a JSON error body, if it is one.
    static func errorText(_ body: [UInt8]) -> String? {
        guard let v = try? JSONParser.parse(body), let e = v["error"]?.stringValue else { return nil }
        return e
    }

    /// `GET /sync/v1/summary`: the peer's replica id, clock, purge floor and corrections, or why it is not a setuplink peer.
    mutating func summary() throws(SyncError) -> (ReplicaID, VectorClock, VectorClock, Corrections) {
        let r = try send("GET", "/sync/v1/summary", nil)
        let errorText = Self.errorText(r.body)
        switch r.status {
        case 200: break
        case 401 where errorText != nil: throw .unauthorized(peer: peer, url: base, tokenGiven: !(token ?? "").isEmpty)
        case 500... where errorText != nil: throw .peerError(peer: peer, url: base, status: r.status, message: errorText!)
        default: throw .notAPeer(url: base, reason: "GET /sync/v1/summary answered \(r.status)")
        }
        guard let v = try? JSONParser.parse(r.body) else {
            throw .notAPeer(url: base, reason: "its summary is not JSON")
        }
        do throws(WireFormatError) {
            let floor = v["purge_floor"] == nil ? VectorClock() : try WireFormat.clock(v["purge_floor"], "purge_floor")
            return (try WireFormat.replicaID(v["replica"], "replica"), try WireFormat.clock(v["clock"], "clock"), floor,
                    try WireFormat.corrections(v["corrections"], "corrections"))
        } catch {
            throw .notAPeer(url: base, reason: "its summary has no valid \(error.field)")
        }
    }

    /// POSTs a body and returns the JSON object answered, or the peer's refusal.
    mutating func post(_ path: String, _ body: [UInt8], contentType: String = "application/json") throws(SyncError) -> JSONValue {
        let bytes = try postRaw(path, body, contentType: contentType).body
        let v: JSONValue
        do { v = try JSONParser.parse(bytes, maxDepth: WireFormat.maxDepth) } catch { throw invalid("\(path): \(error)") }
        guard case .object = v else { throw invalid("\(path): the answer is not a JSON object") }
        return v
    }

    /// POSTs a body and returns the answer, or the peer's refusal.
    mutating func postRaw(_ path: String, _ body: [UInt8], contentType: String = "application/json",
                          accept: String? = nil) throws(SyncError) -> HTTPClientResponse {
        let r = try send("POST", path, body, contentType: contentType, accept: accept)
        guard r.status == 200 else {
            let text = Self.errorText(r.body)
            if r.status == 401 { throw .unauthorized(peer: peer, url: base, tokenGiven: !(token ?? "").isEmpty) }
            // A claim this request made is a lie the peer knows of: its corrections say what to drop.
            if r.status == 409, let v = try? JSONParser.parse(r.body, maxDepth: WireFormat.maxDepth), v["corrections"] != nil,
               let corrections = try? WireFormat.corrections(v["corrections"], "corrections") {
                throw .corrected(peer: peer, url: base, reason: text ?? "\(path) answered 409", corrections: corrections)
            }
            throw .peerError(peer: peer, url: base, status: r.status,
                             message: text ?? "\(path) answered without an error message")
        }
        return r
    }
}
