import Foundation
import JSON
import HTTP
import Replica
import Storage

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
/// Purging (Storage.docc/Tombstones.md): every pull request carries the clock this
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
            if let peerName { try local { try store.peers.recordSync(peer: peerName, acked: report.peerClock) } }
            return report
        } catch {
            if let peerName { try? store.peers.recordSyncFailure(peer: peerName, error: error.description) }
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
        let since: VectorClock
        do {
            since = try push(store: store, session: &session, since: serverClock, exchange: &exchange,
                             report: &report, progress: progress)
        } catch .peerError(_, _, 403, let message) {
            // A read-only credential: the pull is committed and is what it may do. The peer
            // holds what it held; the sync succeeded, and says what it could not give.
            report.pushRefused = message
            since = serverClock
        }

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
            report.discarded += summary.discarded
            for (raw, n) in summary.changedByKind { if let k = RecordKind(rawValue: raw) { report.pulledByKind[k, default: 0] += n } }
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
            for r in page.records where r.bytes.count > 1 {
                if let k = RecordKind(rawValue: r.bytes[1]) { report.pushedByKind[k, default: 0] += 1 }
            }
            report.pushedPages += 1
            pages += 1
            records += page.records.count
            progress?(SyncProgress(phase: .push, pages: pages, records: records, more: page.more))
            guard page.more else { break }
        }
        return since
    }

    /// What `POST /sync/v1/wait` answered: whether the peer holds a change the clock sent
    /// lacks, and the peer's clock.
    public struct WaitAnswer: Sendable {
        public var changed: Bool
        public var peerClock: VectorClock
        public var bytes: Int
    }

    /// `POST /sync/v1/wait`: waits up to `seconds` for the peer at `url` to hold a change
    /// `store`'s clock lacks. The HTTP client's timeout is raised above `seconds`.
    public func wait(store: ReplicaStore, url: String, token: String?, peerName: String? = nil,
                     seconds: Int) throws(SyncError) -> WaitAnswer {
        let base = try Self.baseURL(url)
        var client = http
        client.timeout = max(client.timeout, .seconds(seconds + 15))
        var session = Session(http: client, transport: transport, base: base, token: token, peer: peerName)
        let clock = try local { try store.clock() }
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("replica"); w.string(store.replicaID.hex)
        w.key("clock"); WireFormat.writeClock(clock, into: &w)
        w.key("timeout"); w.int(Int64(seconds))
        w.endObject()
        let answer = try session.post("/sync/v1/wait", w.bytes)
        do throws(WireFormatError) {
            let peerClock = try WireFormat.clock(answer["clock"], "clock")
            guard case .bool(let changed)? = answer["changed"] else {
                throw WireFormatError(field: "changed", reason: "must be true or false")
            }
            return WaitAnswer(changed: changed, peerClock: peerClock, bytes: session.bytesSent + session.bytesReceived)
        } catch {
            throw session.invalid("/sync/v1/wait: \(error)")
        }
    }

    /// Records taken from the fetcher at once, at most (one page may exceed it); the
    /// fetcher's `depth` bounds it first.
    static let applyBudget = 10_000

    /// A pull's transaction keeps taking pages that are already received until it
    /// holds this many records (Benchmarks/HISTORY.md, "What a replica must store, and
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
