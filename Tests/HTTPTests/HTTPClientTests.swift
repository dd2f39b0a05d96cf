import CCurl
import Foundation
import Synchronization
import Testing
@testable import HTTP
import TestSupport

/// The libcurl client against a real local server: results and actionable errors.
@Suite struct HTTPClientTests {
    @Test func anOptionLibcurlRefusesIsAnInvalidRequestNamingIt() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        let options = CurlOptions(handle: handle)
        #expect(throws: HTTPClientError.invalidRequest("libcurl refused CURLOPT_MAXREDIRS: A libcurl function was given a bad argument")) {
            try options.set(CURLOPT_MAXREDIRS, -2)
        }
        try options.set(CURLOPT_MAXREDIRS, 0)
    }

    @Test func getReturnsStatusBodyHeadersAndWireByteCounts() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let response = try HTTPClient().send(method: "GET", url: "http://127.0.0.1:\(port)/healthz?x=1", headers: [:], body: nil)
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "GET /healthz?x=1 ")
        #expect(response.headers["content-type"] == "text/plain")
        #expect(response.bytesReceived > response.body.count)   // status line and headers count too
        #expect(response.bytesSent > 0)
    }

    @Test func postSendsBodyAndHeaders() throws {
        let (server, port) = try startServer { request in
            let text = "\(request.header("Authorization") ?? "-") \(request.header("content-length") ?? "-") "
            return .json(Array(text.utf8) + request.body)
        }
        defer { server.stop() }
        let body = Array("{\"changes\":[]}".utf8)
        let response = try HTTPClient().send(method: "POST", url: "http://127.0.0.1:\(port)/sync/v1/push",
                                             headers: ["Authorization": "Bearer t0k"], body: body)
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "Bearer t0k 14 {\"changes\":[]}")
        #expect(response.bytesSent >= body.count + 40)
    }

    @Test func largeBodyGoesThroughExpectContinue() throws {
        let (server, port) = try startServer { request in .json(Array("\(request.body.count)".utf8)) }
        defer { server.stop() }
        let body = [UInt8](repeating: 0x61, count: 3 * 1024 * 1024)
        let response = try HTTPClient().send(method: "POST", url: "http://127.0.0.1:\(port)/big", headers: [:], body: body)
        #expect(String(decoding: response.body, as: UTF8.self) == "\(body.count)")
    }

    @Test func errorStatusesAreResponsesNotErrors() throws {
        let (server, port) = try startServer { _ in .error(status: 404, message: "no such route") }
        defer { server.stop() }
        let response = try HTTPClient().send(method: "GET", url: "http://127.0.0.1:\(port)/nope", headers: [:], body: nil)
        #expect(response.status == 404)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"no such route"}"#)
    }

    @Test func closedPortIsConnectionRefused() throws {
        // Bind a listener to get a free port, then close it so nothing listens there.
        let port = try freePort()
        let url = "http://127.0.0.1:\(port)/healthz"
        #expect(throws: HTTPClientError.connectionRefused(url: url)) {
            try HTTPClient(connectTimeout: .seconds(2)).send(method: "GET", url: url, headers: [:], body: nil)
        }
        let error = HTTPClientError.connectionRefused(url: url)
        #expect(error.description.contains("connection refused"))
        #expect("peer \"hub\" unreachable at \(url): \(error.reason)" == "peer \"hub\" unreachable at \(url): connection refused")
    }

    @Test func slowServerTimesOut() throws {
        let (server, port) = try startServer { request in
            usleep(1_000_000)   // longer than the client's 300 ms budget
            return echo(request)
        }
        defer { server.stop() }
        let url = "http://127.0.0.1:\(port)/slow"
        let started = ContinuousClock.now
        #expect(throws: HTTPClientError.timedOut(url: url, seconds: 0.3)) {
            try HTTPClient(timeout: .milliseconds(300)).send(method: "GET", url: url, headers: [:], body: nil)
        }
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(HTTPClientError.timedOut(url: url, seconds: 0.3).description == "\(url): timed out after 0.3 s")
    }

    @Test func responseOverTheLimitIsResponseTooLarge() throws {
        let (server, port) = try startServer { _ in .json([UInt8](repeating: 0x20, count: 10_000)) }
        defer { server.stop() }
        #expect(throws: HTTPClientError.responseTooLarge(limit: 1000)) {
            try HTTPClient(maxResponseBytes: 1000).send(method: "GET", url: "http://127.0.0.1:\(port)/", headers: [:], body: nil)
        }
        let exact = try HTTPClient(maxResponseBytes: 10_000).send(method: "GET", url: "http://127.0.0.1:\(port)/", headers: [:], body: nil)
        #expect(exact.body.count == 10_000)
    }

    @Test(arguments: ["ftp://x", "not a url", "http://", "/relative/path", "", "http://host/a b"])
    func invalidURLIsRejectedBeforeSending(url: String) {
        #expect(throws: HTTPClientError.invalidURL(url)) {
            try HTTPClient().send(method: "GET", url: url, headers: [:], body: nil)
        }
    }

    @Test func invalidHeaderIsRejectedBeforeSending() {
        #expect(throws: HTTPClientError.invalidRequest("header X-A contains a line break")) {
            try HTTPClient().send(method: "GET", url: "http://127.0.0.1:1/", headers: ["X-A": "b\r\nX-Injected: 1"], body: nil)
        }
        #expect(throws: HTTPClientError.invalidRequest("invalid method \"GE T\"")) {
            try HTTPClient().send(method: "GE T", url: "http://127.0.0.1:1/", headers: [:], body: nil)
        }
    }

    @Test func unknownHostCouldNotResolve() {
        #expect(throws: HTTPClientError.couldNotResolve(host: "no-such-host.invalid")) {
            try HTTPClient(connectTimeout: .seconds(3)).send(method: "GET", url: "http://no-such-host.invalid/", headers: [:], body: nil)
        }
    }

    @Test(arguments: [200_000, 3 * 1024 * 1024])
    func bodyOverTheServerLimitComesBackAs413(size: Int) throws {
        // 200 kB is sent at once; 3 MiB goes through Expect: 100-continue.
        let (server, port) = try startGuardedServer(admit: { _ in .accept(maxBodyBytes: 1000) })
        defer { server.stop() }
        let response = try HTTPClient().send(method: "POST", url: "http://127.0.0.1:\(port)/push", headers: [:],
                                             body: [UInt8](repeating: 0x61, count: size))
        #expect(response.status == 413)
        #expect(String(decoding: response.body, as: UTF8.self).contains("exceeds the limit of 1000 bytes"))
    }

    @Test func concurrentClientsAreAllServed() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let failures = Mutex(0)
        let done = DispatchGroup()
        for worker in 0..<8 {
            done.enter()
            Thread {
                for i in 0..<10 {
                    let url = "http://127.0.0.1:\(port)/w\(worker)/\(i)"
                    let ok = (try? HTTPClient().send(method: "GET", url: url, headers: [:], body: nil))
                        .map { String(decoding: $0.body, as: UTF8.self) == "GET /w\(worker)/\(i)? " } ?? false
                    if !ok { failures.withLock { $0 += 1 } }
                }
                done.leave()
            }.start()
        }
        #expect(done.wait(timeout: .now() + .seconds(20)) == .success)
        #expect(failures.withLock { $0 } == 0)
    }
}
