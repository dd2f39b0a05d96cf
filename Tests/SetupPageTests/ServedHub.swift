import Foundation
import HTTP
import Hub
import SetupLinks
import Storage
import Synchronization
import Testing
import TestSupport

/// A replica served by a real `Hub` (libmicrohttpd on port 0), as `serve`
/// runs it, with the access log kept for the test and a clock it can move.
final class ServedHub: Sendable {
    let store: ReplicaStore
    let service: SetupLinkService
    let hub: Hub
    let port: UInt16
    let log = Locked<[String]>([])
    let clock = Locked(Date())

    init() throws {
        let dir = testFolderPath("page-http")
        store = try SetupLinkService.openStore(path: dir + "/hub.sqlite")
        service = try SetupLinkService(store: store, externalURL: "https://hub.example.test")
        let clock = self.clock
        service.now = { clock.withLock { $0 } }
        let log = self.log
        hub = try Hub(service: service, token: .fixed("peer-secret"), configuration: HTTPServerConfiguration(port: 0),
                      log: { entry in log.withLock { $0.append(entry.description) } })
        port = try hub.start()
    }

    deinit {
        hub.stop()
        store.close()
    }

    /// Moves the clock by `seconds`.
    func advance(_ seconds: TimeInterval) { clock.withLock { $0 = $0.addingTimeInterval(seconds) } }

    /// A setup link made as the admin would.
    func link(_ tenant: String = "acme", _ product: String = "crm", name: String? = nil, days: Int? = nil) throws -> SetupLink {
        try service.createLink(tenant: tenant, product: product, webhookURL: "https://hooks.example.com/x",
                               webhookSecret: "s3cret", name: name, expiryDays: days).0
    }

    /// One request on a fresh connection.
    func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: String = "") throws -> RawResponse {
        let client = try RawClient(port: port)
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        client.send(text)
        guard let response = client.readResponse(timeout: .seconds(10)) else { throw RawClientError.failed("no response to \(method) \(target)") }
        return response
    }

    /// GET a page.
    func get(_ target: String) throws -> RawResponse { try request("GET", target) }

    /// POST a form, as a browser sends it.
    func post(_ target: String, _ fields: [(String, String)]) throws -> RawResponse {
        try request("POST", target, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Self.form(fields))
    }

    /// `application/x-www-form-urlencoded`.
    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
    }

    /// The CSRF token a page carries in its forms.
    static func csrf(in page: String) -> String? {
        guard let r = page.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(page[r.upperBound...].prefix { $0 != "\"" })
    }
}


/// The headers of every answer of the setup page (SetupPage.docc/TenantSetupPage.md, "Safety").
func expectSecurityHeaders(_ r: RawResponse, sourceLocation: SourceLocation = #_sourceLocation) {
    let csp = r.headers["content-security-policy"] ?? ""
    #expect(csp.hasPrefix("default-src 'none'; style-src 'sha256-"), "CSP: \(csp)", sourceLocation: sourceLocation)
    #expect(csp.contains("script-src 'sha256-") && csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"),
            sourceLocation: sourceLocation)
    #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains("http"), sourceLocation: sourceLocation)
    #expect(r.headers["x-frame-options"] == "DENY", sourceLocation: sourceLocation)
    #expect(r.headers["referrer-policy"] == "no-referrer", sourceLocation: sourceLocation)
    #expect(r.headers["cache-control"] == "no-store", sourceLocation: sourceLocation)
    #expect(r.headers["x-content-type-options"] == "nosniff", sourceLocation: sourceLocation)
}
