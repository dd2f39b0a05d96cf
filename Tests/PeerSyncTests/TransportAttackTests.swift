import Foundation
import Glibc
import HTTP
import TestSupport
import Replica
import Storage
import Synchronization
import Testing
@testable import PeerSync

/// After an attack: the server still answers, the replica is as it was, and a
/// real sync (a push and a pull) still works.
private func expectSurvived(_ served: ServedReplica, digest before: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
    let health = try HTTPClient(timeout: .seconds(5)).send(method: "GET", url: served.url + "/healthz")
    #expect(health.status == 200, "the server stopped answering", sourceLocation: sourceLocation)
    #expect(try served.store.digest() == before, "the replica changed", sourceLocation: sourceLocation)
    let laptop = try temporaryReplica()
    try writeLink(laptop, "after-" + UUID().uuidString, ["tenant": "later", "product": "p", "token": "t"])
    let report = try sync(laptop, with: served)
    // The link, and the laptop's two member records of its first contact (Storage.docc/Tombstones.md).
    #expect(report.pushed == 1 + 2, sourceLocation: sourceLocation)
    #expect(try laptop.digest() == served.store.digest(), "a sync after the attack converged", sourceLocation: sourceLocation)
}

/// Thread-safe lines of a server log.
private final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    var sink: @Sendable (HTTPLogEntry) -> Void { { entry in self.lines.withLock { $0.append(entry.description) } } }
    func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }
}

/// Attacks on the transport from issue 8, each over real sockets against a
/// served replica: the server lives, answers as it should, changes nothing,
/// and syncs afterwards.
@Suite struct TransportAttackTests {
    @Test func aRequestSplitAtEveryBytePositionIsAnswered() throws {
        let served = try servedWithOneLink()
        let before = try served.store.digest()
        let request = Array(rawRequest("GET", "/sync/v1/summary").utf8)
        for split in 1..<request.count {
            let client = try RawClient(port: served.port)
            client.send(Array(request[..<split]))
            usleep(1_000)   // lets the first part be read on its own
            client.send(Array(request[split...]))
            #expect(client.readResponse()?.status == 200, "split at byte \(split)")
        }
        try expectSurvived(served, digest: before)
    }

    @Test func a16355ByteHeaderIsServedAndA40KiBHeaderGets431() throws {
        let served = try servedWithOneLink()
        let before = try served.store.digest()
        let header = "X: " + String(repeating: "a", count: 16_355)
        let curl = try run("/usr/bin/curl", ["-sS", "--max-time", "5", "-H", header, served.url + "/healthz"])
        #expect(curl.status == 0, "\(curl.stderr)")
        #expect(curl.stdout.contains("\"status\":\"ok\""))

        let client = try RawClient(port: served.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "b", count: 40 * 1024) + "\r\n\r\n")
        #expect(client.readResponse()?.status == 431)
        try expectSurvived(served, digest: before)
    }

    @Test func hugeDeclaredBodiesAreRefusedFromTheHeadWithoutHoldingSlotsOrMemory() throws {
        let served = try servedWithOneLink()
        let before = try served.store.digest()
        let limit = SyncRoutes.defaultMaxBodyBytes
        for (token, length, status) in [(nil, limit, 401), ("wrong", limit, 401), (testToken, limit + 1, 413)] {
            var clients: [RawClient] = []
            for _ in 0..<64 {
                let client = try RawClient(port: served.port)
                var head = "POST /sync/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                if let token { head += "Authorization: Bearer \(token)\r\n" }
                client.send(head + "Expect: 100-continue\r\nContent-Length: \(length)\r\n\r\n")
                clients.append(client)
            }
            for client in clients {
                // Answered at once, from the head: no 100 Continue first, no body read.
                let response = client.readResponse(timeout: .seconds(3))
                #expect(response?.status == status)
                client.send("{")   // the trickle goes on; nobody is listening
                #expect(client.isClosed(within: .seconds(3)))
            }
            #expect(served.server.http.bufferedBodyBytes == 0, "no body byte was kept")
            #expect(poll { served.server.http.connectionCount == 0 }, "no slot is held")
        }
        try expectSurvived(served, digest: before)
    }

    @Test func fiveHundredIdleConnectionsDoNotStopHealthz() throws {
        let served = try servedWithOneLink()
        let before = try served.store.digest()
        let idle = try (0..<500).map { _ in try RawClient(port: served.port) }
        #expect(poll { served.server.http.connectionCount >= 500 })
        // A bound, not a benchmark: the old server stalled 10 s and more here.
        let health = try HTTPClient(timeout: .seconds(5)).send(method: "GET", url: served.url + "/healthz")
        #expect(health.status == 200)
        try expectSurvived(served, digest: before)
        withExtendedLifetime(idle) {}
    }

    @Test func bareLFRequestsAreAnsweredNotHung() throws {
        let served = try servedWithOneLink()
        let before = try served.store.digest()
        let client = try RawClient(port: served.port)
        client.send("GET /healthz HTTP/1.1\nHost: x\n\n")
        #expect(client.readResponse(timeout: .seconds(2))?.status == 200)
        client.send("GET /sync/v1/summary HTTP/1.1\nHost: x\nAuthorization: Bearer \(testToken)\n\n")
        #expect(client.readResponse(timeout: .seconds(2))?.status == 200)
        try expectSurvived(served, digest: before)
    }

    @Test func garbageBytesAreDroppedCleanly() throws {
        // Refused at once, or (what libmicrohttpd waits on) cut at the header deadline.
        let served = try servedWithOneLink(HTTPServerConfiguration(headerDeadline: .milliseconds(500)))
        let before = try served.store.digest()
        for garbage: [UInt8] in [[0x16, 0x03, 0x01, 0x00, 0xFF, 0x0A, 0x0D, 0x0A], Array("HELLO\r\n\r\n".utf8), [0, 0, 0, 0x0A, 0x0A]] {
            let client = try RawClient(port: served.port)
            client.send(garbage)
            let response = client.readResponse(timeout: .seconds(2))
            #expect(response == nil || response?.status == 400, "\(garbage): \(String(describing: response))")
            #expect(client.isClosed(within: .seconds(2)), "\(garbage)")
        }
        try expectSurvived(served, digest: before)
    }

    @Test func slowAndIdleClientsNeverStopARealSyncOf10000Records() throws {
        let served = try ServedReplica()
        try served.store.write { tx in
            for i in 0..<10_000 {
                _ = try tx.write(id: "bulk-\(i)", kind: .link, ["tenant": "t\(i)", "product": "p", "token": "tok-\(i)"])
            }
        }
        let before = try served.store.digest()
        let idle = try (0..<300).map { _ in try RawClient(port: served.port) }
        let slow = try (0..<200).map { _ in try RawClient(port: served.port) }
        let stop = Mutex(false)
        let trickled = DispatchSemaphore(value: 0)
        let request = Array("GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Padding: \(String(repeating: "p", count: 64))\r\n\r\n".utf8)
        let trickler = Thread {
            // One byte a second on each slow connection, until the sync is over.
            var position = 0
            while !stop.withLock({ $0 }) && position < request.count {
                for client in slow { client.send([request[position]]) }
                position += 1
                for _ in 0..<20 where !stop.withLock({ $0 }) { usleep(50_000) }
            }
            trickled.signal()
        }
        trickler.start()
        let laptop = try temporaryReplica()
        let report = try sync(laptop, with: served)
        stop.withLock { $0 = true }
        trickled.wait()
        // The links, and the server's member records of its first contact with the laptop.
        #expect(report.pulled == 10_000 + 2, "the sync completed")
        #expect(try laptop.digest() == served.store.digest())
        #expect(try served.store.counts().links == 10_000 && before != "")
        try expectSurvived(served, digest: try served.store.digest())
        withExtendedLifetime((idle, slow)) {}
    }

    @Test func headerAndBodyDeadlinesCutOffAByteASecondClient() throws {
        let log = LogLines()
        // Bytes every 100 ms: the 3 s inactivity timeout never fires, only the total deadlines can.
        let configuration = HTTPServerConfiguration(idleTimeout: .seconds(3), headerDeadline: .milliseconds(400),
                                                    bodyDeadline: .milliseconds(400))
        let served = try ServedReplica(configuration: configuration, accessLog: log.sink)
        try writeLink(served.store, "link-1", ["tenant": "acme", "product": "crm", "token": "tok"])
        let before = try served.store.digest()

        func trickle(_ client: RawClient, _ bytes: [UInt8]) -> Bool {
            for byte in bytes {
                client.send([byte])
                if client.isClosed(within: .milliseconds(100)) { return true }
            }
            return false
        }
        let slowHead = try RawClient(port: served.port)
        let head = Array(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "s", count: 100)).utf8)
        #expect(trickle(slowHead, head), "cut off while still sending its headers")
        #expect(poll { log.contains("closed: request headers not complete within the deadline") })

        let slowBody = try RawClient(port: served.port)
        slowBody.send("POST /sync/v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(testToken)\r\nContent-Length: 1000\r\n\r\n")
        #expect(trickle(slowBody, Array(repeating: UInt8(ascii: " "), count: 100)), "cut off while still sending its body")
        #expect(poll { log.contains("closed: request body not complete within the deadline") })
        #expect(poll { served.server.http.bufferedBodyBytes == 0 })
        try expectSurvived(served, digest: before)
    }

    @Test func anInternalErrorShowsOnlyAnIDAndTheServerLogHasTheDetail() throws {
        let log = LogLines()
        let served = try ServedReplica(accessLog: log.sink)
        served.store.close()   // every query now fails inside SQLite
        let client = try RawClient(port: served.port)
        client.send(rawRequest("GET", "/sync/v1/summary"))
        let response = try #require(client.readResponse())
        #expect(response.status == 500)
        let id = try #require(response.body.wholeMatch(of: #/\{"error":"internal error ([0-9a-f]{6})"\}/#)?.1)
        #expect(!response.body.contains("SQL") && !response.body.contains(served.store.path))
        #expect(poll { log.contains("internal error \(id): GET /sync/v1/summary: ") })
        #expect(log.lines.withLock { $0.joined() }.contains(served.store.path), "the log has the detail")
    }
}
