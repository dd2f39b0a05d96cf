import Foundation
import Replica
import SetupLinks
import Storage
import HTTP
import TestSupport
@testable import PeerSync

/// The bearer token every test server is started with.
let testToken = "s3cret-token"

/// A fresh replica file in its own temporary folder, with the flows' indexes but not their
/// record rules: these tests exercise the protocol with records of any content (the rules
/// have tests of their own, `RecordRulesTests`).
func temporaryReplica() throws -> ReplicaStore {
    let dir = testFolder("sync")
    return try ReplicaStore(path: dir + "/replica.sqlite", indexes: SetupLinkService.indexes)
}

/// A replica served on a port chosen by the system.
final class ServedReplica {
    /// The replica.
    let store: ReplicaStore
    /// Its server (replaced by `restart()`).
    private(set) var server: SyncServer
    /// `http://127.0.0.1:<port>` of the current server.
    private(set) var url: String
    private let configuration: HTTPServerConfiguration
    private let accessLog: (@Sendable (HTTPLogEntry) -> Void)?

    /// Serves `store` (a fresh one unless given).
    init(_ store: ReplicaStore? = nil, configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
         accessLog: (@Sendable (HTTPLogEntry) -> Void)? = nil) throws {
        self.store = try store ?? temporaryReplica()
        self.configuration = configuration
        self.accessLog = accessLog
        server = SyncServer(store: self.store, token: testToken, configuration: configuration, accessLog: accessLog)
        url = "http://127.0.0.1:\(try server.start())"
    }

    /// The current port.
    var port: UInt16 { UInt16(url.split(separator: ":").last!)! }

    /// Stops the current server and serves the same replica again on a new port.
    func restart() throws {
        server.stop()
        server = SyncServer(store: store, token: testToken, configuration: configuration, accessLog: accessLog)
        url = "http://127.0.0.1:\(try server.start())"
    }

    deinit { server.stop() }
}

/// Syncs `store` with `peer` using the test token.
@discardableResult
func sync(_ store: ReplicaStore, with peer: ServedReplica, pageLimit: Int = 1000, peerName: String? = nil,
          encoding: PageEncoding = .binary, progress: ((SyncProgress) -> Void)? = nil) throws(SyncError) -> SyncReport {
    try SyncClient(pageLimit: pageLimit, encoding: encoding).sync(store: store, url: peer.url, token: testToken,
                                                                  peerName: peerName, progress: progress)
}

/// Writes a link with the given fields as one local transaction.
func writeLink(_ store: ReplicaStore, _ id: String, _ values: [String: String]) throws {
    try store.write { tx in _ = try tx.write(id: id, kind: .link, values) }
}

/// Writes `count` links `prefix0`… as one transaction each.
func writeLinks(_ store: ReplicaStore, prefix: String, count: Int) throws {
    for i in 0..<count {
        try writeLink(store, "\(prefix)\(i)", ["tenant": "t\(i)", "product": prefix, "token": UUID().uuidString])
    }
}

/// A request as raw HTTP/1.1 text, with `Content-Length` for the body.
func rawRequest(_ method: String, _ path: String, token: String? = testToken, body: String? = nil) -> String {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: test\r\n"
    if let token { text += "Authorization: Bearer \(token)\r\n" }
    if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
    return text + "\r\n" + (body ?? "")
}

/// A served replica holding one link, for bad inputs to bounce off.
func servedWithOneLink(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration()) throws -> ServedReplica {
    let served = try ServedReplica(configuration: configuration)
    try writeLink(served.store, "link-1", ["tenant": "acme", "product": "crm", "token": "tok"])
    return served
}

