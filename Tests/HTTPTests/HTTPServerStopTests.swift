import Foundation
import Synchronization
import Testing
@testable import HTTP
import TestSupport
import Fixtures

/// Stopping a server while clients keep sending: nothing crashes.
@Suite struct HTTPServerStopTests {
    /// libmicrohttpd 0.9.75 crashes a worker that answers a malformed request by
    /// itself (here 505 for an HTTP version it does not support) while
    /// `MHD_stop_daemon` runs; `HTTPServer.stop` drains every connection first.
    /// Before that fix this loop crashed the test process within a few dozen rounds.
    @Test func stoppingWhileClientsSendMalformedRequestsNeverCrashes() throws {
        let seed = SeededGenerator.seed()
        print("stoppingWhileClientsSendMalformedRequestsNeverCrashes seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<60 {
            let (server, port) = try startServer()
            let done = Atomic(false)
            let finished = DispatchSemaphore(value: 0)
            for t in 0..<4 {
                Thread {
                    while !done.load(ordering: .relaxed) {
                        guard let client = try? RawClient(port: port) else { continue }
                        // A request line libmicrohttpd refuses itself, and a valid one.
                        client.send(t % 2 == 0 ? "GET / HTTP/2.0\r\nHost: x\r\n\r\n" : "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                        _ = client.readResponse(timeout: .milliseconds(200))
                    }
                    finished.signal()
                }.start()
            }
            usleep(UInt32(rng.next() % 20_000) + 500)
            server.stop()
            #expect(server.connectionCount == 0)
            done.store(true, ordering: .relaxed)
            for _ in 0..<4 { finished.wait() }
        }
    }
}
