import Foundation
import Synchronization
import Testing
@testable import HTTP
import TestSupport

/// Long polls: a request parks without holding a worker, is answered when woken with
/// something to say or at its deadline, and a stopping server answers every parked one.
@Suite struct LongPollTests {
    /// A server whose `/wait` parks until `ready` holds a value (answering it), with the
    /// given deadline; `/now` answers at once.
    static func server(ready: Ready, waitFor: Duration = .seconds(30)) throws -> (HTTPServer, UInt16) {
        try startServer { request in
            guard request.path == "/wait" else { return HTTPResponse(status: 200, body: Array("now".utf8)) }
            return .waiting(LongPoll(deadline: .now + waitFor) { final in
                if let v = ready.value { return HTTPResponse(status: 200, body: Array(v.utf8)) }
                return final ? HTTPResponse(status: 204) : nil
            })
        }
    }

    @Test func aParkedRequestHoldsNoWorkerAndIsAnsweredWhenWoken() throws {
        let ready = Ready()
        let (server, port) = try Self.server(ready: ready)
        defer { server.stop() }
        // More parked requests than the server has workers.
        let waiters = try (0..<24).map { _ in try RawClient(port: port) }
        for w in waiters { w.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n") }
        #expect(poll(until: { server.waitingCount == waiters.count }, deadline: .seconds(10)))
        // Others are served meanwhile.
        for _ in 0..<5 {
            let c = try RawClient(port: port)
            c.send("GET /now HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(c.readResponse()?.body == "now")
        }
        #expect(waiters[0].readResponse(timeout: .milliseconds(300)) == nil, "answered before anything was ready")
        ready.value = "event 1"
        server.wakeWaiting()
        for w in waiters {
            let r = w.readResponse(timeout: .seconds(10))
            #expect(r?.status == 200 && r?.body == "event 1")
        }
        #expect(server.waitingCount == 0)
        // The connections stay usable (keep-alive) after a parked answer.
        waiters[0].send("GET /now HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(waiters[0].readResponse()?.body == "now")
    }

    @Test func theDeadlineGivesTheFinalAnswerWithoutAWake() throws {
        let (server, port) = try Self.server(ready: Ready(), waitFor: .milliseconds(400))
        defer { server.stop() }
        let c = try RawClient(port: port)
        c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.readResponse(timeout: .seconds(10))?.status == 204)
        #expect(server.waitingCount == 0)
    }

    @Test func aChangeMadeWithoutAWakeIsSeenAtTheNextRecheck() throws {
        // Another process wrote: nobody calls wakeWaiting, the periodic recheck finds it.
        let ready = Ready()
        let (server, port) = try Self.server(ready: ready)
        defer { server.stop() }
        let c = try RawClient(port: port)
        c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(poll(until: { server.waitingCount == 1 }, deadline: .seconds(10)))
        ready.value = "from elsewhere"
        #expect(c.readResponse(timeout: .seconds(10))?.body == "from elsewhere")
    }

    @Test func aPollIsNotCheckedBeforeItsEarliestInstantEvenWhenWoken() throws {
        let early = Ready()
        let (server, port) = try startServer { _ in
            let earliest = ContinuousClock.now + .milliseconds(300)
            return .waiting(LongPoll(deadline: .now + .seconds(30), earliest: earliest) { final in
                if !final && ContinuousClock.now < earliest { early.value = "checked early" }
                return HTTPResponse(status: 200, body: Array("gathered".utf8))
            })
        }
        defer { server.stop() }
        let c = try RawClient(port: port)
        c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in 0..<20 { server.wakeWaiting(); usleep(5_000) }
        #expect(c.readResponse(timeout: .seconds(10))?.body == "gathered")
        #expect(early.value == nil, "the poll was checked before its earliest instant")
    }

    @Test func stoppingAnswersEveryParkedRequestAtOnce() throws {
        let (server, port) = try Self.server(ready: Ready(), waitFor: .seconds(120))
        let waiters = try (0..<6).map { _ in try RawClient(port: port) }
        for w in waiters { w.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n") }
        #expect(poll(until: { server.waitingCount == waiters.count }, deadline: .seconds(10)))
        // A client that went away while parked changes nothing for the others.
        waiters[0].hangUp()
        let stopped = DispatchSemaphore(value: 0)
        Thread { server.stop(); stopped.signal() }.start()
        for w in waiters.dropFirst() {
            #expect(w.readResponse(timeout: .seconds(10))?.status == 204)
        }
        #expect(stopped.wait(timeout: .now() + 30) == .success, "stop() did not return")
        #expect(server.waitingCount == 0)
    }

    @Test func aClientGoneWhileParkedFreesItsConnectionLongBeforeTheDeadline() throws {
        let (server, port) = try Self.server(ready: Ready(), waitFor: .seconds(120))
        defer { server.stop() }
        let clients = try (0..<10).map { _ in try RawClient(port: port) }
        for c in clients { c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n") }
        #expect(poll(until: { server.waitingCount == clients.count }, deadline: .seconds(10)))
        for c in clients { c.hangUp() }
        // Freed at the next look (at most a second), not after the 120 s wait.
        #expect(poll(until: { server.waitingCount == 0 && server.connectionCount == 0 }, deadline: .seconds(10)))
        let c = try RawClient(port: port)
        c.send("GET /now HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.readResponse()?.body == "now")
    }
}

/// The answer a parked request waits for, set by the test.
final class Ready: Sendable {
    private let m = Mutex<String?>(nil)
    var value: String? {
        get { m.withLock { $0 } }
        set { m.withLock { $0 = newValue } }
    }
}
