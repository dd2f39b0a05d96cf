import JSON
import Foundation
import Synchronization
import Testing
@testable import PeerSync

/// The server over real sockets: framing, limits, errors, stop, and real clients.
@Suite struct HTTPServerTests {
    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /one?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try #require(client.readResponse())
        #expect(first.status == 200)
        #expect(first.body == "GET /one?a=1 ")
        #expect(first.headers["connection"] == "keep-alive")
        client.send("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        let second = try #require(client.readResponse())
        #expect(second.status == 200)
        #expect(second.body == "POST /two? hello")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /b HTTP/1.1\r\n\r\n")
        #expect(client.readResponse()?.body == "POST /a? x")
        #expect(client.readResponse()?.body == "GET /b? ")
    }

    @Test func binaryBodyArrivingWithTheHeadersIsAccepted() throws {
        let (server, port) = try startServer { request in .json(Array("\(request.body)".utf8)) }
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send(Array("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n".utf8) + [0x00, 0x01, 0x7F, 0xFF])
        #expect(client.readResponse()?.body == "[0, 1, 127, 255]")
    }

    @Test func connectionCloseAndHTTP10CloseAfterTheAnswer() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        for request in ["GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"] {
            let client = try RawClient(port: port)
            client.send(request)
            let response = try #require(client.readResponse())
            #expect(response.status == 200)
            #expect(response.headers["connection"] == "close")
            #expect(client.isClosed(within: .seconds(2)))
        }
    }

    @Test func garbageBytesGet400AndTheServerKeepsServing() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send([0x16, 0x03, 0x01, 0x00, 0xFF, 0x0A, 0x0D, 0x0A])   // a TLS hello, say
        let response = try #require(client.readResponse())
        #expect(response.status == 400)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.body.hasPrefix("{\"error\":\"malformed"))
        #expect(client.isClosed(within: .seconds(2)))

        let bad = try RawClient(port: port)
        bad.send("HELLO\r\n")
        #expect(bad.readResponse()?.status == 400)

        let good = try RawClient(port: port)
        good.send("GET /still-here HTTP/1.1\r\n\r\n")
        #expect(good.readResponse()?.status == 200)
    }

    @Test func requestLineOverTheLimitGets413() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(maxHeaderBytes: 1024))
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /" + String(repeating: "a", count: 4000))
        let response = try #require(client.readResponse())
        #expect(response.status == 413)
        #expect(response.body.contains("exceed 1024 bytes"))

        let headers = try RawClient(port: port)
        headers.send("GET / HTTP/1.1\r\nX-Big: " + String(repeating: "b", count: 2000) + "\r\n\r\n")
        #expect(headers.readResponse()?.status == 413)
    }

    @Test func bodyOverTheLimitGets413WithoutBeingRead() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(maxBodyBytes: 1000))
        defer { server.stop() }
        let client = try RawClient(port: port)
        // Announces 10 MB but sends none of it: the answer must not wait for the body.
        client.send("POST /push HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n")
        let response = try #require(client.readResponse(timeout: .seconds(2)))
        #expect(response.status == 413)
        #expect(response.body == #"{"error":"request body of 10000000 bytes exceeds the limit of 1000 bytes"}"#)
    }

    @Test func invalidContentLengthGets400() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        for field in ["Content-Length: -1", "Content-Length: abc", "Content-Length: 3\r\nContent-Length: 4", "Content-Length: 1, 2"] {
            let client = try RawClient(port: port)
            client.send("POST / HTTP/1.1\r\n\(field)\r\n\r\nabcd")
            let response = try #require(client.readResponse())
            #expect(response.status == 400, "\(field)")
            #expect(response.body.contains("invalid Content-Length"))
        }
        let same = try RawClient(port: port)
        same.send("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
        #expect(same.readResponse()?.body == "POST /? ok")
    }

    @Test func lyingContentLengthIsDroppedAfterTheReadTimeout() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(readTimeout: .milliseconds(300)))
        defer { server.stop() }
        let liar = try RawClient(port: port)
        liar.send("POST /push HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly ten b")
        let staller = try RawClient(port: port)
        staller.send("GET / HTTP/1.1\r\nHost: ")

        let other = try RawClient(port: port)
        other.send("GET /other HTTP/1.1\r\n\r\n")
        #expect(other.readResponse()?.status == 200)

        #expect(liar.isClosed(within: .seconds(3)))
        #expect(staller.isClosed(within: .seconds(3)))
        #expect(eventually { server.connectionCount <= 1 })
        let after = try RawClient(port: port)
        after.send("GET /after HTTP/1.1\r\n\r\n")
        #expect(after.readResponse()?.status == 200)
    }

    @Test func chunkedBodyGetsAJSONError() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        let response = try #require(client.readResponse())
        #expect(response.status == 411)
        #expect(response.body.contains("Content-Length"))
    }

    @Test func unsupportedHTTPVersionGets505() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET / HTTP/2.0\r\n\r\n")
        #expect(client.readResponse()?.status == 505)
    }

    @Test func connectionsBeyondTheCapGet503() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(maxConnections: 1))
        defer { server.stop() }
        let holder = try RawClient(port: port)
        holder.send("GET / HTTP/1.1\r\n\r\n")
        #expect(holder.readResponse()?.status == 200)   // accepted and kept alive

        let extra = try RawClient(port: port)
        extra.send("GET / HTTP/1.1\r\n\r\n")
        let response = try #require(extra.readResponse())
        #expect(response.status == 503)
        #expect(response.body.hasPrefix("{\"error\":"))

        holder.send("GET /again HTTP/1.1\r\n\r\n")
        #expect(holder.readResponse()?.status == 200)
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
        idle.send("GET / HTTP/1.1\r\n\r\n")
        #expect(idle.readResponse()?.status == 200)

        let busy = try RawClient(port: port)
        busy.send("GET /slow HTTP/1.1\r\n\r\n")
        #expect(eventually { started.withLock { $0 } })
        server.stop()

        let response = try #require(busy.readResponse(timeout: .seconds(1)))
        #expect(response.status == 200)
        #expect(response.body == "{\"done\":true}")
        #expect(response.headers["connection"] == "close")
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
        let python = try #require(python3Path(), "python3 not found on PATH")
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

    @Test func accessLogGetsOneLinePerRequestWithoutHeaders() throws {
        let entries = Mutex<[HTTPAccessLogEntry]>([])
        let server = HTTPServer(accessLog: { entry in entries.withLock { $0.append(entry) } }, handler: echo)
        let port = try server.start()
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /x?secret=no HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n")
        _ = client.readResponse()
        client.send("BAD\r\n\r\n")
        _ = client.readResponse()
        #expect(eventually { entries.withLock { $0.count } == 2 })
        let lines = entries.withLock { $0.map(\.description) }
        #expect(lines.first?.hasPrefix("GET /x 200 ") == true)
        #expect(lines.last?.hasPrefix("- - 400 ") == true)
        #expect(!lines.joined().contains("s3cret"))
    }

    @Test func startFailsWithAClearMessageWhenThePortIsTaken() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let second = HTTPServer(configuration: HTTPServerConfiguration(port: port), handler: echo)
        #expect(throws: HTTPServerError.cannotListen(address: "127.0.0.1", port: port, reason: "Address already in use")) {
            try second.start()
        }
        let error = HTTPServerError.cannotListen(address: "127.0.0.1", port: 80, reason: "Permission denied")
        #expect(error.description == "cannot listen on 127.0.0.1:80: Permission denied")
    }

    @Test func errorResponsesEscapeTheMessageAsJSON() {
        let response = HTTPResponse.error(status: 400, message: "bad \"name\"\\\n\u{01}")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"bad \"name\"\\\n\u0001"}"#)
        #expect(response.headers["Content-Type"] == "application/json")
    }
}

/// Secret comparison for bearer tokens.
@Suite struct ConstantTimeTests {
    @Test func equalsComparesContentAndLength() {
        #expect(constantTimeEquals(Array("secret".utf8), Array("secret".utf8)))
        #expect(!constantTimeEquals(Array("secret".utf8), Array("secreT".utf8)))
        #expect(!constantTimeEquals(Array("secret".utf8), Array("secret2".utf8)))
        #expect(!constantTimeEquals([], [0]))
        #expect(constantTimeEquals([], []))
    }

    @Test func bearerTokenMatchesOnlyTheSecret() {
        #expect(bearerTokenMatches(authorization: "Bearer s3cret", secret: "s3cret"))
        #expect(bearerTokenMatches(authorization: "bearer  s3cret ", secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: "Bearer s3cre", secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: "Basic s3cret", secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: nil, secret: "s3cret"))
        #expect(!bearerTokenMatches(authorization: "Bearer ", secret: ""))
        let request = HTTPRequest(method: "GET", path: "/", headers: ["Authorization": "Bearer t"])
        #expect(request.hasBearerToken("t"))
    }
}

/// What the server writes for a handler's response.
@Suite struct HTTPResponseSerializationTests {
    @Test func handlerHeadersWithLineBreaksAreDropped() {
        let response = HTTPResponse(status: 200, headers: ["X-Ok": "yes", "X-Bad": "a\r\nSet-Cookie: x", "Content-Length": "99"])
        let text = String(decoding: serialize(response, keepAlive: true, includeBody: true), as: UTF8.self)
        #expect(text == "HTTP/1.1 200 OK\r\nX-Ok: yes\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
    }
}
