import Foundation
import Synchronization
import Testing
@testable import HTTP
import TestSupport

/// The server over real sockets: framing, limits, errors, stop, and real clients.
@Suite struct HTTPServerTests {
    /// A large answer gets time to match its size (a clone's snapshot of gigabytes): here 1 s
    /// plus 1 s per 8 MiB, so 32 MiB taken at 12 MiB/s (about 2.7 s) arrives whole, where the
    /// answer deadline alone (1 s) would cut it off.
    @Test func aLargeAnswerTakenSteadilyIsNotCutOff() throws {
        var configuration = HTTPServerConfiguration(responseDeadline: .seconds(1))
        configuration.minimumSendRate = 8 << 20
        let size = 32 << 20
        let path = testFolder("large-answer") + "/big"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: size)))
        let (server, port) = try startServer(configuration) { _ in
            .file(descriptor: open(path, O_RDONLY | O_CLOEXEC), length: size, contentType: "application/octet-stream")
        }
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let received = client.readSlowly(bytesPerSecond: 12 << 20, timeout: .seconds(30))
        #expect(received > size, "\(received) bytes of \(size) and a head")
        #expect(HTTPServerConfiguration().sendingDeadline(bytes: 7_400_000_000) > .seconds(7_000), "by default, a 7.4 GB snapshot gets about two hours")
    }

    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /one?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try #require(client.readResponse())
        #expect(first.status == 200)
        #expect(first.body == "GET /one?a=1 ")
        client.send("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        let second = try #require(client.readResponse())
        #expect(second.status == 200)
        #expect(second.body == "POST /two? hello")
        #expect(server.connectionCount == 1)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nxGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse()?.body == "POST /a? x")
        #expect(client.readResponse()?.body == "GET /b? ")
    }

    @Test func binaryBodyArrivingWithTheHeadersIsAccepted() throws {
        let (server, port) = try startServer { request in .json(Array("\(request.body)".utf8)) }
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n".utf8) + [0x00, 0x01, 0x7F, 0xFF])
        #expect(client.readResponse()?.body == "[0, 1, 127, 255]")
    }

    @Test func chunkedBodyIsReadAndCountedAgainstTheLimit() throws {
        let (server, port) = try startGuardedServer(admit: { _ in .accept(maxBodyBytes: 10) })
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(client.readResponse()?.body == "POST /c? helloabc")

        // Past the limit the connection is cut: 0.9.75 cannot answer mid-body.
        let over = try RawClient(port: port)
        over.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
        #expect(over.isClosed(within: .seconds(3)))
        #expect(poll { server.bufferedBodyBytes == 0 })
    }

    @Test func connectionCloseAndHTTP10CloseAfterTheAnswer() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        for request in ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"] {
            let client = try RawClient(port: port)
            client.send(request)
            let response = try #require(client.readResponse())
            #expect(response.status == 200)
            #expect(client.isClosed(within: .seconds(2)))
        }
    }

    @Test func garbageBytesAreRefusedAndTheServerKeepsServing() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send([0x16, 0x03, 0x01, 0x00, 0xFF, 0x0A, 0x0D, 0x0A])   // a TLS hello, say
        let response = client.readResponse(timeout: .seconds(2))
        #expect(response == nil || response?.status == 400)
        #expect(client.isClosed(within: .seconds(2)))

        let bad = try RawClient(port: port)
        bad.send("HELLO\r\n\r\n")
        let answer = bad.readResponse(timeout: .seconds(2))
        #expect(answer == nil || answer?.status == 400)

        let good = try RawClient(port: port)
        good.send("GET /still-here HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(good.readResponse()?.status == 200)
    }

    @Test func bodyOverTheLimitGets413WithoutBeingRead() throws {
        let (server, port) = try startGuardedServer(admit: { _ in .accept(maxBodyBytes: 1000) })
        defer { server.stop() }
        let client = try RawClient(port: port)
        // Announces 10 MB but sends none of it: the answer must not wait for the body.
        client.send("POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        let response = try #require(client.readResponse(timeout: .seconds(2)))
        #expect(response.status == 413)
        #expect(response.body == #"{"error":"request body of 10000000 bytes exceeds the limit of 1000 bytes"}"#)
        #expect(client.isClosed(within: .seconds(2)))
        #expect(server.bufferedBodyBytes == 0)
    }

    @Test func theServerCeilingAppliesWhateverARouteAdmits() throws {
        let (server, port) = try startGuardedServer(HTTPServerConfiguration(maxBodyBytes: 100), admit: { _ in .accept(maxBodyBytes: 1 << 30) })
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
        #expect(client.readResponse()?.status == 413)
    }

    @Test func atTheCapAnIdleConnectionMakesRoomAndABusyOneIsWaitedFor() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(threads: 1, maxConnections: 1))
        defer { server.stop() }
        let holder = try RawClient(port: port)
        holder.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(holder.readResponse()?.status == 200)   // accepted and kept alive, idle

        // A new client takes the idle connection's slot: that one is closed to make room.
        let extra = try RawClient(port: port)
        extra.send("GET /extra HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(extra.readResponse()?.body == "GET /extra? ", "served: the idle connection made room")
        #expect(holder.isClosed(within: .seconds(5)))

        // A connection in the middle of a request is not idle: the next client waits in the backlog.
        extra.send("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
        #expect(extra.readResponse()?.status == 100, "admitted: its body is awaited")
        extra.send("12345")
        let waiting = try RawClient(port: port)
        waiting.send("GET /waiting HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(waiting.readResponse(timeout: .milliseconds(300)) == nil, "not served while the slot is busy")
        extra.send("67890")
        #expect(extra.readResponse()?.body == "POST /body? 1234567890")
        #expect(waiting.readResponse()?.body == "GET /waiting? ", "served once the slot is idle")
    }

    @Test func stopLetsAnInFlightRequestFinishAndClosesIdleConnections() throws {
        let started = Mutex(false)
        let (server, port) = try startServer { request in
            guard request.path == "/slow" else { return echo(request) }
            started.withLock { $0 = true }
            usleep(300_000)   // the work in flight when stop() is called
            return .json(Array("{\"done\":true}".utf8))
        }
        let idle = try RawClient(port: port)
        idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(idle.readResponse()?.status == 200)

        let busy = try RawClient(port: port)
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(poll { started.withLock { $0 } })
        server.stop()

        let response = try #require(busy.readResponse(timeout: .seconds(1)))
        #expect(response.status == 200)
        #expect(response.body == "{\"done\":true}")
        #expect(idle.isClosed(within: .seconds(1)))
        #expect(server.connectionCount == 0)
        #expect((try? RawClient(port: port)) == nil)   // no longer listening
    }

    @Test func curlCommandLineTalksToTheServer() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let result = try run("/usr/bin/curl", ["-sS", "--max-time", "5", "-w", "\n%{http_code}",
                                               "-H", "Content-Type: application/json", "--data-binary", "{\"a\":1}",
                                               "http://127.0.0.1:\(port)/sync/v1/push?x=1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "POST /sync/v1/push?x=1 {\"a\":1}\n200")
    }

    @Test func pythonHTTPClientTalksToTheServer() throws {
        let python = try requires(.python3)
        let (server, port) = try startServer()
        defer { server.stop() }
        let script = """
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", \(port), timeout=5)
        c.request("POST", "/echo?q=2", body=b"hi there")
        r = c.getresponse(); print(r.status, r.read().decode())
        c.request("GET", "/second")
        r = c.getresponse(); print(r.status, r.read().decode())
        """
        let result = try run(python, ["-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "200 POST /echo?q=2 hi there\n200 GET /second? \n")
    }

    @Test func logHasTimeClientAddressAndRouteLoggedPathButNeverHeaders() throws {
        let entries = Mutex<[HTTPLogEntry]>([])
        struct Secretive: HTTPRoutes {
            func handles(_ head: HTTPHead) -> Bool { head.path.hasPrefix("/setup/") }
            func admit(_ head: HTTPHead) -> Admission { .accept(maxBodyBytes: 0) }
            func respond(_ request: HTTPRequest) -> HTTPResponse { .text("page") }
            func loggedPath(_ head: HTTPHead) -> String { "/setup/…" }
        }
        let server = HTTPServer(routes: [Secretive()], log: { entry in entries.withLock { $0.append(entry) } })
        let port = try server.start()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /setup/tok3n-value?x=secret HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        client.send("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse()?.status == 404)
        #expect(poll { entries.withLock { $0.count } == 2 })
        let lines = entries.withLock { $0.map(\.description) }
        let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ GET /setup/… 200 4B \d+\.\dms$/#
        #expect(lines.first?.wholeMatch(of: pattern) != nil, "\(lines)")
        #expect(lines.last?.contains(" GET /nothing-here 404 ") == true)
        let all = lines.joined()
        #expect(!all.contains("s3cret") && !all.contains("tok3n") && !all.contains("secret"))
    }

    @Test func internalErrorsShowAnIDAndLogTheDetail() throws {
        let entries = Mutex<[String]>([])
        let (server, port) = try startGuardedServer(log: { entry in entries.withLock { $0.append(entry.description) } }, handler: { _ in
            .internalError("SQLite error 1: no such table: widgets (in: SELECT * FROM widgets) /srv/hub.sqlite")
        })
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try #require(client.readResponse())
        #expect(response.status == 500)
        let id = try #require(response.body.wholeMatch(of: #/\{"error":"internal error ([0-9a-f]{6})"\}/#)?.1)
        #expect(poll { entries.withLock { $0.count } == 1 })
        let line = entries.withLock { $0[0] }
        #expect(line.contains(" 500 ") && line.contains("internal error \(id): SQLite error 1: no such table"))
    }

    @Test func startFailsWithAClearMessageWhenThePortIsTaken() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let second = HTTPServer(configuration: HTTPServerConfiguration(port: port), routes: [ClosureRoutes(responder: echo)])
        #expect(throws: HTTPServerError.cannotListen(address: "127.0.0.1", port: port, reason: "Address already in use")) {
            try second.start()
        }
        let error = HTTPServerError.cannotListen(address: "127.0.0.1", port: 80, reason: "Permission denied")
        #expect(error.description == "cannot listen on 127.0.0.1:80: Permission denied")
        let invalid = HTTPServer(configuration: HTTPServerConfiguration(bindAddress: "localhost"), routes: [])
        #expect(throws: HTTPServerError.self) { try invalid.start() }
    }

    @Test func ipv6LoopbackIsServed() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(bindAddress: "::1"))
        defer { server.stop() }
        let result = try run("/usr/bin/curl", ["-sS", "--max-time", "5", "http://[::1]:\(port)/v6"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "GET /v6? ")
    }
}

/// Bearer tokens, compared in constant time.
@Suite struct BearerTokenTests {
    @Test func bearerTokenMatchesOnlyTheSecret() {
        #expect(bearerTokenMatches(authorization: "Bearer s3cret", secret: "s3cret"))
        #expect(bearerTokenMatches(authorization: "bearer  s3cret ", secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: "Bearer s3cre", secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: "Basic s3cret", secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: nil, secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: "Bearer ", secret: ""))
        let head = HTTPHead(method: "GET", path: "/", headers: [("Authorization", "Bearer t")])
        #expect(head.hasBearerToken("t"))
        #expect(HTTPRequest(head: head).hasBearerToken("t"))
    }
}

/// What libmicrohttpd answers before any route sees the request.
@Suite struct HTTPServerFramingTests {
    @Test func invalidOrConflictingContentLengthIsRefusedAndNothingReachesARoute() throws {
        let (server, port) = try startServer { _ in .text("route reached") }
        defer { server.stop() }
        for field in ["Content-Length: -1", "Content-Length: abc", "Content-Length: 3\r\nContent-Length: 4", "Content-Length: 1, 2"] {
            let client = try RawClient(port: port)
            client.send("POST / HTTP/1.1\r\nHost: x\r\n\(field)\r\n\r\nabcd")
            let response = client.readResponse(timeout: .seconds(2))
            #expect(response?.body != "route reached", "\(field)")
            #expect(response == nil || (400..<500).contains(response!.status), "\(field): \(String(describing: response))")
        }
    }

    @Test func unsupportedVersionsAndLongTargetsAreRefused() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let v2 = try RawClient(port: port)
        v2.send("GET / HTTP/2.0\r\nHost: x\r\n\r\n")
        #expect(v2.readResponse()?.status == 505)
        let long = try RawClient(port: port)
        long.send("GET /" + String(repeating: "a", count: 40 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n")
        let status = long.readResponse()?.status
        #expect(status == 414 || status == 431, "\(String(describing: status))")
    }

    @Test func aLyingContentLengthIsCutAtTheBodyDeadline() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(bodyDeadline: .milliseconds(300)))
        defer { server.stop() }
        let liar = try RawClient(port: port)
        liar.send("POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
        #expect(liar.isClosed(within: .seconds(3)))
        #expect(poll { server.connectionCount == 0 && server.bufferedBodyBytes == 0 })
        let after = try RawClient(port: port)
        after.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(after.readResponse()?.status == 200)
    }
}
