import JSON
import Foundation
import Glibc
import Synchronization
import Crypto
import HTTP
import Replica
import Storage

/// The peer protocol's routes (PeerSync.docc/PeerProtocol.md), for `HTTPServer` (the hub mounts
/// them beside SCIM and the setup page).
///
/// Routes:
/// - `GET /healthz` → `{"status":"ok","replica":"<hex>"}`, without auth;
/// - `GET /sync/v1/summary` → `{"replica":…,"clock":{…},"purge_floor":{…}}`;
/// - `POST /sync/v1/pull`, body `{"replica":"<client>","clock":{…},"applied":{…},"purge_floor":{…},"limit":N}`
///   → `{"replica":…,"clock":{…},"purge_floor":{…},"page":{…}}`, the changes the
///   client lacks, or the same message in the binary page encoding when `Accept`
///   names `application/vnd.setuplink.page`. `clock` is what the client pages
///   from; `applied` what it has applied and committed: only that counts as its
///   acknowledgement (Storage.docc/Tombstones.md);
/// - `POST /sync/v1/push`, body `{"replica":"<client>","clock":{…},"purge_floor":{…},"page":{…}}` (JSON)
///   or a binary page message (`Content-Type: application/vnd.setuplink.page`),
///   checked as peer input and applied in one transaction →
///   `{"clock":{…},"applied":n,"conflicts":n,"purge_floor":{…}}`. Its `clock` is
///   the client's committed clock: its acknowledgement;
/// - `GET /sync/v1/snapshot` → the whole replica as one SQLite file
///   (`application/vnd.setuplink.replica`, with `Content-Length`), a consistent copy made
///   a new replica as `backup` makes one (no peers, tokens, outbox or secrets of this hub);
///   for `setuplink clone`. One at a time: 503 while another is being made;
/// - `POST /sync/v1/wait`, body `{"replica":"<client>","clock":{…},"timeout":S}` → `{"replica":…,"clock":{…},"changed":bool}`,
///   a long poll answered when this replica holds a change the client's clock lacks, or after S seconds.
///
/// Everything is decided from the head before a body is read: the method
/// (405 with `Allow`), the bearer token (401: `authenticate` finds no credential for it;
/// an empty token refuses every sync request), a push with a read-only credential (403),
/// the declared size (413). Then
/// 400 malformed, 409 a replica that holds less than it acknowledged after
/// tombstones were purged on that acknowledgement (it must be rebuilt), 422 peer
/// input refused by `PeerInput` or records that cannot merge, 500 with a short
/// id (the detail goes to the server log only). None of them changes the replica.
public struct SyncRoutes: HTTPRoutes {
    /// The largest page a client may ask for; larger limits are clamped to it.
    public static let maxPageLimit = 5000
    /// The page limit when a pull names none.
    public static let defaultPageLimit = 1000
    /// The default limit on a pull or push body.
    public static let defaultMaxBodyBytes = 16 * 1024 * 1024

    /// The replica served.
    public let store: ReplicaStore
    /// The limit on a pull or push body.
    public let maxBodyBytes: Int
    private let authenticate: @Sendable (_ token: [UInt8]) -> PeerCredential?
    private let replicaHex: String

    /// The longest a `POST /sync/v1/wait` waits (a larger `timeout` is clamped to it).
    public static let maxWaitSeconds = 120
    /// How long a wait without `timeout` waits.
    public static let defaultWaitSeconds = 50

    /// Routes for `store`, guarded by a fixed bearer `token`.
    public init(store: ReplicaStore, token: String, maxBodyBytes: Int = SyncRoutes.defaultMaxBodyBytes) {
        self.init(store: store, maxBodyBytes: maxBodyBytes, token: { token })
    }

    /// Routes for `store` whose bearer token is read from `token` for every
    /// request (so a rotated token takes effect without a restart).
    public init(store: ReplicaStore, maxBodyBytes: Int = SyncRoutes.defaultMaxBodyBytes, token: @escaping @Sendable () -> String) {
        self.init(store: store, maxBodyBytes: maxBodyBytes, authenticate: { given in
            let secret = token()
            guard !secret.isEmpty, constantTimeEquals(given, Array(secret.utf8)) else { return nil }
            return PeerCredential(name: PeerTokenStore.defaultName, readOnly: false)
        })
    }

    /// Routes for `store` whose requests are judged by `authenticate`: the credential a
    /// bearer token stands for, or `nil` (401). A read-only credential may not push (403).
    public init(store: ReplicaStore, maxBodyBytes: Int = SyncRoutes.defaultMaxBodyBytes,
                authenticate: @escaping @Sendable (_ token: [UInt8]) -> PeerCredential?) {
        self.store = store
        self.maxBodyBytes = maxBodyBytes
        self.authenticate = authenticate
        self.replicaHex = store.replicaID.hex
    }

    /// `/healthz` and everything under `/sync/`.
    public func handles(_ head: HTTPHead) -> Bool {
        head.path == "/healthz" || head.path.hasPrefix("/sync/")
    }

    /// Method, token and size, from the head alone.
    public func admit(_ head: HTTPHead) -> Admission {
        let allowed: String
        switch head.path {
        case "/healthz", "/sync/v1/summary", "/sync/v1/snapshot": allowed = "GET"
        case "/sync/v1/pull", "/sync/v1/push", "/sync/v1/wait": allowed = "POST"
        default: return .reject(.error(status: 404, message: "no route \(head.path)"))
        }
        guard head.method == allowed else {
            return .reject(HTTPResponse.error(status: 405, message: "\(head.path) accepts \(allowed), not \(head.method)")
                .setting("Allow", allowed))
        }
        if head.path == "/healthz" { return .accept(maxBodyBytes: 0) }
        guard let given = head.bearerToken, let credential = authenticate(given) else {
            return .reject(HTTPResponse.error(status: 401, message: "missing, wrong or revoked bearer token")
                .setting("WWW-Authenticate", "Bearer"))
        }
        if head.path == "/sync/v1/push" && credential.readOnly {
            return .reject(.error(status: 403, message: "the peer token \"\(credential.name)\" is read-only: it may pull, not push; nothing was applied"))
        }
        return .accept(maxBodyBytes: allowed == "POST" ? (head.path == "/sync/v1/wait" ? 64 * 1024 : maxBodyBytes) : 0)
    }

    /// The path; peer routes carry no secret in it (the token is a header, never logged).
    public func loggedPath(_ head: HTTPHead) -> String { head.path }

    /// Turns one admitted request into its answer; never touches the replica on a refusal.
    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        do {
            switch request.path {
            case "/healthz": return healthz()
            case "/sync/v1/summary": return try summary()
            case "/sync/v1/snapshot": return snapshot()
            case "/sync/v1/pull": return try pull(request)
            case "/sync/v1/wait": return try wait(request)
            default: return try push(request)
            }
        } catch let e as WireFormatError {
            return .error(status: 400, message: "invalid request: \(e)")
        } catch let e as PeerInputError where e.lie != nil {
            return correction(for: e)
        } catch let e as PeerInputError {
            return .error(status: 422, message: "changes refused, nothing applied: \(e)")
        } catch let e as RetiredReplicaError {
            return .error(status: 409, message: "\(e)")
        } catch let e as MergeError {
            return .error(status: 422, message: "changes refused, nothing applied: \(e)")
        } catch let e as StaleReplicaError {
            return .error(status: 409, message: "\(e)")
        } catch {
            return .internalError("\(request.method) \(request.path): \(error)")
        }
    }

    /// The answer to a claim about a replica's writes that this replica knows is a lie:
    /// 409 with what it knows (`corrections`), so the client drops the lie and syncs
    /// again, instead of a refusal it could never get past. A lie about this replica
    /// itself is noted first, so the corrections refute it.
    private func correction(for e: PeerInputError) -> HTTPResponse {
        do {
            if let lie = e.lie, lie.replica == store.replicaID { try store.noteLieAboutSelf(claim: lie.counter) }
            var w = JSONWriter(capacity: 256)
            w.beginObject()
            w.key("error"); w.string("changes refused, nothing applied: \(e); the corrections in this answer say how many writes "
                                     + "that replica made: drop the claims they refute and sync again")
            w.key("corrections"); WireFormat.writeCorrections(try store.corrections(), into: &w)
            w.endObject()
            return HTTPResponse(status: 409, headers: [("Content-Type", "application/json")], body: w.bytes)
        } catch {
            return .internalError("correction: \(error)")
        }
    }

    /// The media type of `GET /sync/v1/snapshot`: an SQLite replica file.
    public static let snapshotMediaType = "application/vnd.setuplink.replica"

    /// `GET /sync/v1/snapshot`: a copy of this replica made with the online backup API in one
    /// read transaction (`ReplicaStore.backup`), so it is the replica at one instant and already a
    /// new replica without this hub's peers, tokens, outbox or secrets. Made in a temporary file
    /// beside the replica, opened, then unlinked at once: the server streams the open file and
    /// the disk space is given back when the answer is over (or the hub stops), whatever happens.
    /// One copy is made at a time per replica file: a second request meanwhile gets 503.
    private func snapshot() -> HTTPResponse {
        let temporary = store.path + ".snapshot"
        guard SnapshotGate.enter(temporary) else {
            return HTTPResponse.error(status: 503, message: "a snapshot of this replica is being made for another clone; retry in a minute")
                .setting("Retry-After", "30")
        }
        defer { SnapshotGate.leave(temporary) }
        // A copy left by a hub killed while making one is stale: removed first.
        for f in [temporary, temporary + ".partial", temporary + ".partial-wal", temporary + ".partial-shm",
                  temporary + ".partial-journal"] { unlink(f) }
        do {
            // The client runs `PRAGMA integrity_check` on what it receives: not done twice.
            _ = try ReplicaStore.backup(from: store.path, to: temporary, integrityCheck: false, servedHere: true)
        } catch {
            return .internalError("GET /sync/v1/snapshot: \(error)")
        }
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        unlink(temporary)
        guard fd >= 0 else { return .internalError("GET /sync/v1/snapshot: cannot open the copy: \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            return .internalError("GET /sync/v1/snapshot: cannot stat the copy")
        }
        return HTTPResponse.file(descriptor: fd, length: Int(info.st_size), contentType: Self.snapshotMediaType)
            .setting("Cache-Control", "no-store")
    }

    private func healthz() -> HTTPResponse {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("status"); w.string("ok")
        w.key("replica"); w.string(replicaHex)
        w.endObject()
        return .json(w.bytes)
    }

    private func summary() throws -> HTTPResponse {
        let clock = try store.clock()
        let floor = try store.purgeFloor()
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("replica"); w.string(replicaHex)
        w.key("clock"); WireFormat.writeClock(clock, into: &w)
        w.key("purge_floor"); WireFormat.writeClock(floor, into: &w)
        let corrections = try store.corrections()
        if !corrections.isEmpty { w.key("corrections"); WireFormat.writeCorrections(corrections, into: &w) }
        w.endObject()
        return .json(w.bytes)
    }

    /// `POST /sync/v1/wait`, body `{"replica":"<client>","clock":{…},"timeout":S}`: answers
    /// `{"replica":…,"clock":{…},"changed":true}` as soon as this replica holds a change the
    /// client's clock lacks, else `"changed":false` after S seconds (default 50, at most 120).
    /// Parked without a thread (`LongPoll`), checked again after every commit to the replica.
    private func wait(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try WireFormat.parse(request.body)
        _ = try WireFormat.object(body, "body")
        _ = try WireFormat.replicaID(body["replica"], "replica")
        let clientClock = try WireFormat.clock(body["clock"], "clock")
        var seconds = SyncRoutes.defaultWaitSeconds
        if let t = body["timeout"] {
            guard case .int(let n) = t, n >= 0 else {
                throw WireFormatError(field: "timeout", reason: "must be a whole number of seconds from 0 to \(SyncRoutes.maxWaitSeconds)")
            }
            seconds = Int(min(n, Int64(SyncRoutes.maxWaitSeconds)))
        }
        let store = self.store, replicaHex = self.replicaHex
        @Sendable func answer(_ final: Bool) -> HTTPResponse? {
            do {
                let clock = try store.clock()
                let changed = !clock.isDominated(by: clientClock)
                guard changed || final else { return nil }
                var w = JSONWriter(capacity: 256)
                w.beginObject()
                w.key("replica"); w.string(replicaHex)
                w.key("clock"); WireFormat.writeClock(clock, into: &w)
                w.key("changed"); w.bool(changed)
                w.endObject()
                return .json(w.bytes)
            } catch {
                return .internalError("POST /sync/v1/wait: \(error)")
            }
        }
        if seconds == 0 { return answer(true)! }
        if let now = answer(false) { return now }
        return .waiting(LongPoll(deadline: ContinuousClock.now + .seconds(seconds), check: answer))
    }

    /// `POST /sync/v1/pull`: the body is JSON (`replica`, `clock`, `applied`, `purge_floor`, `limit`); the page
    /// comes back in the encoding `Accept` asks for (binary or JSON).
    private func pull(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try WireFormat.parse(request.body)
        _ = try WireFormat.object(body, "body")
        let client = try WireFormat.replicaID(body["replica"], "replica")
        let clientClock = try WireFormat.clock(body["clock"], "clock")
        var limit = SyncRoutes.defaultPageLimit
        if let l = body["limit"] {
            guard case .int(let n) = l else {
                throw WireFormatError(field: "limit", reason: "must be an integer, not \(WireFormat.typeName(l))")
            }
            limit = Int(min(max(n, 1), Int64(SyncRoutes.maxPageLimit)))
        }
        // Only what the client has applied is its acknowledgement (older clients send no `applied`).
        let applied = body["applied"] == nil ? nil : try WireFormat.clock(body["applied"], "applied")
        let clientFloor = body["purge_floor"] == nil ? nil : try WireFormat.clock(body["purge_floor"], "purge_floor")
        var resync = false
        if let r = body["resync"] {
            guard case .bool(let b) = r else { throw WireFormatError(field: "resync", reason: "must be true or false, not \(WireFormat.typeName(r))") }
            resync = b
        }
        // What the client knows of lies first: a correction may void what would refute its clocks.
        // Not from a retired client, nor one restored from a copy of its file: its word on its own writes is wrong.
        try store.checkPeerNotRetired(client)
        try store.checkCounterNotBehind(client, counter: max(clientClock[client], applied?[client] ?? 0))
        try store.learn(try WireFormat.corrections(body["corrections"], "corrections"))
        // The clocks a client sends claim what it holds: none of this replica's writes beyond its counter.
        let input = try store.peerInput()
        try input.check(clock: clientClock, field: "clock")
        if let applied { try input.check(clock: applied, field: "applied") }
        if let clientFloor { try input.check(clock: clientFloor, field: "purge_floor") }
        // Refuses a client behind its acknowledgement, records what it applied, introduces it, purges.
        try store.servePull(client: client, position: clientClock, applied: applied, clientFloor: clientFloor, resync: resync,
                            forgot: try WireFormat.replicas(body["forgot"], "forgot"))
        // Read before the page is cut: the client judges the page by it (never newer than the page).
        let clock = try store.clock()
        let message = PageMessage(sender: store.replicaID, clock: clock, purgeFloor: try store.purgeFloor(),
                                  page: try store.changes(since: clientClock, limit: limit,
                                                          cursor: try WireFormat.cursor(body["cursor"], "cursor")),
                                  corrections: try store.corrections())
        switch PageEncoding.accepted(request.header("Accept")) {
        case .binary:
            return .json(BinaryPage.encode(message), contentType: BinaryPage.mediaType)
        case .json:
            return .json(try WireFormat.encode(message))
        }
    }

    /// `POST /sync/v1/push`: a page message in the encoding its `Content-Type` names,
    /// checked as peer input and applied in one transaction.
    private func push(_ request: HTTPRequest) throws -> HTTPResponse {
        let message: PageMessage
        switch PageEncoding.of(contentType: request.header("Content-Type")) {
        case .binary: message = try BinaryPage.decode(request.body)
        case .json: message = try WireFormat.decodeMessage(request.body)
        }
        // What the client knows of lies first: a correction may void what would refute its page.
        // Not from a client restored from a copy of its file: its word on its own writes is wrong.
        try store.checkPeerNotRetired(message.sender)
        if let c = message.clock { try store.checkCounterNotBehind(message.sender, counter: c[message.sender]) }
        try store.learn(message.corrections)
        // Read on this request's thread, before the store's lock: the lock is held only for what needs the file.
        let prepared = store.mergePreparer().prepare(message.page)
        // The message's clock is the client's committed clock: its acknowledgement.
        let summary = try store.receivePush(client: message.sender, applied: message.clock, clientFloor: message.purgeFloor,
                                            page: message.page, prepared: prepared, forgot: message.forgot)
        let clock = try store.clock()
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("clock"); WireFormat.writeClock(clock, into: &w)
        w.key("applied"); w.int(Int64(summary.changed))
        w.key("conflicts"); w.int(Int64(summary.conflicts))
        w.key("purge_floor"); WireFormat.writeClock(try store.purgeFloor(), into: &w)
        let corrections = try store.corrections()
        if !corrections.isEmpty { w.key("corrections"); WireFormat.writeCorrections(corrections, into: &w) }
        w.endObject()
        return .json(w.bytes)
    }
}

/// The replica files a snapshot is being made of right now (one at a time per file).
enum SnapshotGate {
    private static let busy = Mutex<Set<String>>([])

    /// Claims `path`; false if a snapshot of it is being made.
    static func enter(_ path: String) -> Bool { busy.withLock { $0.insert(path).inserted } }

    /// Releases `path`.
    static func leave(_ path: String) { _ = busy.withLock { $0.remove(path) } }
}
