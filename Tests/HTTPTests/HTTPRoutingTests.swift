import Foundation
import Synchronization
import Testing
@testable import HTTP
import TestSupport

/// The two-phase contract routes rely on: head first, body only when admitted.
@Suite struct HTTPRoutingTests {
    /// Admits only `Authorization: Bearer ok`; counts calls to `respond`.
    final class Guarded: HTTPRoutes {
        let responded = Atomic(0)
        func handles(_ head: HTTPHead) -> Bool { head.path.hasPrefix("/guarded") }
        func admit(_ head: HTTPHead) -> Admission {
            head.hasBearerToken("ok") ? .accept(maxBodyBytes: 100) : .reject(.error(status: 401, message: "no"))
        }
        func respond(_ request: HTTPRequest) -> HTTPResponse {
            responded.add(1, ordering: .relaxed)
            return .text("got \(request.body.count)")
        }
        func loggedPath(_ head: HTTPHead) -> String { head.path }
    }

    @Test func aRefusedHeadNeverReachesRespondAndGetsNo100Continue() throws {
        let guarded = Guarded()
        let server = HTTPServer(routes: [guarded])
        let port = try server.start()
        defer { server.stop() }
        let refused = try RawClient(port: port)
        refused.send("POST /guarded HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
        #expect(refused.readResponse()?.status == 401, "the refusal comes first, not 100 Continue")
        #expect(refused.isClosed(within: .seconds(2)))

        let admitted = try RawClient(port: port)
        admitted.send("POST /guarded HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
        #expect(admitted.readResponse()?.status == 100, "100 Continue only after the route admitted the head")
        admitted.send("0123456789")
        #expect(admitted.readResponse()?.body == "got 10")
        #expect(guarded.responded.load(ordering: .relaxed) == 1)
        #expect(server.bufferedBodyBytes == 0)
    }

    @Test func routesAreAskedInOrderAndNoneIs404() throws {
        let first = ClosureRoutes(prefix: "/a") { _ in .text("first") }
        let second = ClosureRoutes(prefix: "/") { _ in .text("second") }
        let server = HTTPServer(routes: [first, second])
        let port = try server.start()
        defer { server.stop() }
        #expect(try HTTPClient().send(method: "GET", url: "http://127.0.0.1:\(port)/a/x").body == Array("first".utf8))
        #expect(try HTTPClient().send(method: "GET", url: "http://127.0.0.1:\(port)/b").body == Array("second".utf8))
        let none = HTTPServer(routes: [first])
        let nonePort = try none.start()
        defer { none.stop() }
        let missing = try HTTPClient().send(method: "GET", url: "http://127.0.0.1:\(nonePort)/zzz")
        #expect(missing.status == 404)
        #expect(String(decoding: missing.body, as: UTF8.self) == #"{"error":"no route /zzz"}"#)
    }

    @Test func theHeadCarriesDecodedPathAndQueryHeadersAndTheClient() throws {
        let seen = Mutex<HTTPHead?>(nil)
        let (server, port) = try startServer { request in
            seen.withLock { $0 = request.head }
            return .text("ok")
        }
        defer { server.stop() }
        let client = try RawClient(port: port)
        client.send("GET /api/scim%20v2/Us%C3%A9rs?filter=userName+eq+%22bj%40x%22&aadOptscim062020&count=2 HTTP/1.1\r\n"
                    + "Host: x\r\nX-Twice: a\r\nx-twice: b\r\nContent-Type:  text/plain  \r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        let head = try #require(seen.withLock { $0 })
        #expect(head.method == "GET")
        #expect(head.path == "/api/scim v2/Usérs")
        #expect(head.rawPath == "/api/scim%20v2/Us%C3%A9rs")
        #expect(head.queryValue("filter") == "userName eq \"bj@x\"")
        #expect(head.queryValue("aadOptscim062020") == "")
        #expect(head.query.map(\.name) == ["filter", "aadOptscim062020", "count"])
        #expect(head.header("X-TWICE") == "a, b")
        #expect(head.header("content-type") == "text/plain")
        #expect(head.clientAddress.hasPrefix("127.0.0.1:"))
        #expect(!head.isTLS)
        #expect(head.version == "HTTP/1.1")
        #expect(head.contentLength == nil && !head.hasBody)
    }

    @Test func malformedPercentEncodingGets400() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        for target in ["/a%zz", "/a%C3", "/ok?x=%ff"] {
            let client = try RawClient(port: port)
            client.send("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(client.readResponse()?.status == 400, "\(target)")
        }
    }

    @Test func responseHeadersAreSentButNeverSplit() throws {
        let (server, port) = try startServer { _ in
            var response = HTTPResponse.redirect(to: "/setup/page").withSecurityHeaders()
            response.addHeader("Set-Cookie", "a=1")
            response.addHeader("Set-Cookie", "b=2")
            response.addHeader("X-Bad", "x\r\nInjected: yes")
            response.addHeader("Content-Length", "999")
            return response
        }
        defer { server.stop() }
        let result = try run("/usr/bin/curl", ["-sS", "-D", "-", "-o", "/dev/null", "http://127.0.0.1:\(port)/x"])
        let headers = result.stdout.lowercased()
        #expect(headers.hasPrefix("http/1.1 303"))
        #expect(headers.contains("location: /setup/page\r\n"))
        #expect(headers.contains("x-frame-options: deny\r\n") && headers.contains("referrer-policy: no-referrer\r\n"))
        #expect(headers.contains("cache-control: no-store\r\n") && headers.contains("content-security-policy: default-src 'none'"))
        #expect(headers.contains("set-cookie: a=1\r\n") && headers.contains("set-cookie: b=2\r\n"))
        #expect(!headers.contains("injected") && !headers.contains("x-bad"))
        #expect(headers.contains("content-length: 0\r\n"))
    }

    @Test func headRequestsGetHeadersOnly() throws {
        let (server, port) = try startServer { _ in .text("body text") }
        defer { server.stop() }
        let result = try run("/usr/bin/curl", ["-sS", "-I", "http://127.0.0.1:\(port)/x"])
        #expect(result.stdout.lowercased().contains("content-length: 9"))
        #expect(!result.stdout.contains("body text"))
    }

    @Test func percentDecodingAndFormBodies() {
        #expect(PercentDecoding.decode("a%20b+c", plusIsSpace: true) == "a b c")
        #expect(PercentDecoding.decode("a%20b+c", plusIsSpace: false) == "a b+c")
        #expect(PercentDecoding.decode("%E2%82%AC", plusIsSpace: false) == "€")
        #expect(PercentDecoding.decode("%", plusIsSpace: false) == nil)
        #expect(PercentDecoding.decode("%FF", plusIsSpace: false) == nil)
        let form = PercentDecoding.query("name=Acme+EU&type=azure-scim-v2&csrf=a%2Bb&empty")
        #expect(form?.map(\.name) == ["name", "type", "csrf", "empty"])
        #expect(form?.map(\.value) == ["Acme EU", "azure-scim-v2", "a+b", ""])
    }
}
