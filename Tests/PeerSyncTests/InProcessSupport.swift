import Foundation
import TestSupport
@testable import HTTP
import Replica
import Storage
@testable import PeerSync

/// Replicas served in process: a sync's requests go straight to each server's
/// routes (`SyncRoutes.admit`, then `respond`), so the client, the server and
/// the page codecs all run as over HTTP, without sockets. A fault cuts a sync off from a chosen
/// request on: before the server sees it, or after the server answered (the
/// answer is lost, as when a client dies between fetching a page and applying it).
final class InProcessNetwork: @unchecked Sendable {
    // @unchecked Sendable: every field is guarded by `lock`.
    private let lock = NSLock()
    private var routes: [String: SyncRoutes] = [:]
    private var requests = 0
    private var failFrom: Int?
    private var afterAnswer = false
    private var victim: ReplicaStore?
    private var filters: [String: @Sendable (String, [UInt8], HTTPResponse) -> HTTPResponse] = [:]

    /// Serves `store` at `url(host)` (replacing what was served there).
    func serve(_ store: ReplicaStore, host: String) {
        lock.withLock { routes[host] = SyncRoutes(store: store, token: testToken) }
    }

    /// Passes every answer `host` gives through `filter` (path, request body, answer): a
    /// replica that lies in what it serves.
    func filterAnswers(of host: String, _ filter: @escaping @Sendable (String, [UInt8], HTTPResponse) -> HTTPResponse) {
        lock.withLock { filters[host] = filter }
    }

    /// The base URL of `host`.
    func url(_ host: String) -> String { "http://\(host).test" }

    /// Requests from the `n`th from now on fail (1 is the next one). With
    /// `killing`, that store is closed when the cut happens, as if its process
    /// died there (`kill -9`): pages it had received and not yet applied are lost.
    func cut(atRequest n: Int, afterAnswer: Bool, killing: ReplicaStore? = nil) {
        lock.withLock {
            failFrom = requests + n
            self.afterAnswer = afterAnswer
            victim = killing
        }
    }

    /// Lets every request through again.
    func heal() { lock.withLock { failFrom = nil; victim = nil } }

    /// The transport a `SyncClient` uses to reach these replicas.
    var transport: SyncTransport {
        { [self] method, url, headers, body throws(HTTPClientError) in try send(method, url, headers, body) }
    }

    private func send(_ method: String, _ url: String, _ headers: [String: String], _ body: [UInt8]?) throws(HTTPClientError) -> HTTPClientResponse {
        guard let c = URLComponents(string: url), let host = c.host, host.hasSuffix(".test") else { throw .invalidURL(url) }
        let (handler, failBefore, failAfter, kill, filter): (SyncRoutes?, Bool, Bool, ReplicaStore?,
                                                             (@Sendable (String, [UInt8], HTTPResponse) -> HTTPResponse)?) = lock.withLock {
            requests += 1
            let failing = failFrom.map { requests >= $0 } ?? false
            // Once the cut request was answered and lost, nothing else gets through either.
            let before = failing && (!afterAnswer || requests > failFrom!)
            let kill = failing ? victim : nil
            if failing { victim = nil }
            let name = String(host.dropLast(5))
            return (routes[name], before, failing && !before, kill, filters[name])
        }
        if failBefore {
            kill?.close()
            throw .connectionRefused(url: url)
        }
        guard let handler else { throw .connectionRefused(url: url) }
        let head = HTTPHead(method: method, path: c.path, headers: headers.map { (name: $0.key, value: $0.value) })
        var response: HTTPResponse
        switch handler.admit(head) {
        case .reject(let r): response = r
        case .accept: response = handler.respond(HTTPRequest(head: head, body: body ?? []))
        }
        if let filter { response = filter(c.path, body ?? [], response) }
        if failAfter {
            kill?.close()
            throw .timedOut(url: url, seconds: 30)
        }
        var responseHeaders: [String: String] = [:]
        for (name, value) in response.headers { responseHeaders[name.lowercased()] = value }
        return HTTPClientResponse(status: response.status, headers: responseHeaders, body: response.body,
                                  bytesSent: (body?.count ?? 0) + 100, bytesReceived: response.body.count + 100)
    }
}

/// Real HTTP (libcurl to a real server) that a test can cut off at a chosen
/// request, on the client's side: the request never leaves, or its answer is
/// lost, as when the network drops; the server keeps running.
final class CuttableHTTP: @unchecked Sendable {
    // @unchecked Sendable: every field is guarded by `lock`.
    private let lock = NSLock()
    private var requests = 0
    private var failFrom: Int?
    private var afterAnswer = false
    private let http = HTTPClient(timeout: .seconds(30))

    /// Requests from the `n`th from now on fail (1 is the next one).
    func cut(atRequest n: Int, afterAnswer: Bool) {
        lock.withLock {
            failFrom = requests + n
            self.afterAnswer = afterAnswer
        }
    }

    /// Lets every request through again.
    func heal() { lock.withLock { failFrom = nil } }

    /// The transport a `SyncClient` uses.
    var transport: SyncTransport {
        { [self] method, url, headers, body throws(HTTPClientError) in
            let (before, after): (Bool, Bool) = lock.withLock {
                requests += 1
                let failing = failFrom.map { requests >= $0 } ?? false
                let before = failing && (!afterAnswer || requests > failFrom!)
                return (before, failing && !before)
            }
            if before { throw .connectionRefused(url: url) }
            let response = try http.send(method: method, url: url, headers: headers, body: body)
            if after { throw .timedOut(url: url, seconds: 30) }
            return response
        }
    }
}

/// A replica file that a test can "crash": close and open again from the file.
final class InProcessReplica {
    /// The file.
    let path: String
    /// Its host name on the network.
    let host: String
    /// The open store.
    private(set) var store: ReplicaStore
    private let network: InProcessNetwork

    /// A fresh replica served on `network` as `host`.
    init(host: String, network: InProcessNetwork) throws {
        let dir = testFolder("purge")
        path = dir + "/replica.sqlite"
        self.host = host
        self.network = network
        store = try ReplicaStore(path: path)
        network.serve(store, host: host)
    }

    /// The URL it is served at.
    var url: String { network.url(host) }

    /// Simulates `kill -9` and a restart: whatever was not committed is gone.
    func reopen() throws {
        store.close()
        store = try ReplicaStore(path: path)
        network.serve(store, host: host)
    }

    /// Syncs this replica, as a client, with `server`.
    @discardableResult
    func sync(with server: InProcessReplica, pageLimit: Int) throws(SyncError) -> SyncReport {
        try SyncClient(pageLimit: pageLimit, transport: network.transport).sync(store: store, url: server.url, token: testToken)
    }
}

/// The join of every state any local write produced: what replicas hold when
/// nothing is ever purged. Purging must not change what is visible.
struct Oracle {
    /// By id.
    private(set) var records: [String: Record] = [:]

    /// Claims at least this large are lies (a liar in a test claims them; no honest replica here gets near).
    var lieFloor: UInt64?

    /// Adds the states of `ids` as `store` holds them after a local write. With `lieFloor`,
    /// a state written while its replica believed a lie is noted without it (as the repair
    /// drops it): the write did not see what the lie claimed.
    mutating func note(_ ids: some Sequence<String>, in store: ReplicaStore) throws {
        for id in ids {
            guard var r = try store.record(id: id) else { continue }
            if let floor = lieFloor {
                guard let clean = r.droppingLies({ _, c in c >= floor }) else { continue }
                r = clean
            }
            records[id] = records[id].map { $0.merged(with: r) } ?? r
        }
    }
}
