import Foundation
import Testing
import HTTP
import TestSupport

/// The TLS policy (issue 26): TLS 1.3 and 1.2 only, forward-secret AEAD suites only,
/// checked with `openssl s_client` against an RSA certificate (with an EC one, the
/// static-RSA suites could not be offered at all, so refusing them would prove nothing).
@Suite struct TLSPolicyTests {
    /// A self-signed RSA certificate for 127.0.0.1.
    static func rsaIdentity() throws -> (TLSIdentity, String) {
        let dir = testFolder("tls-rsa")
        let result = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem",
                                                  "-out", dir + "/cert.pem", "-days", "2", "-subj", "/CN=localhost",
                                                  "-addext", "subjectAltName=IP:127.0.0.1"])
        guard result.status == 0 else { throw RawClientError.failed("openssl req: \(result.stderr)") }
        return (try TLSIdentity(certificateFile: dir + "/cert.pem", keyFile: dir + "/key.pem"), dir + "/cert.pem")
    }

    /// What `openssl s_client` negotiated with `options`, or `nil` when the handshake failed.
    /// `@SECLEVEL=0` lets the client offer what OpenSSL 3 would not: a refusal is the server's.
    static func negotiated(_ port: UInt16, _ options: [String]) throws -> String? {
        let result = try runChild(URL(fileURLWithPath: "/usr/bin/openssl"),
                                  ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"] + options)
        guard let line = result.stdout.split(separator: "\n").first(where: { $0.contains("Cipher is ") }),
              !line.contains("(NONE)") else { return nil }
        return String(line)
    }

    @Test func onlyTLS12And13WithForwardSecretAEADSuitesAreNegotiated() throws {
        let (identity, _) = try Self.rsaIdentity()
        let (server, port) = try startServer(HTTPServerConfiguration(tls: identity)) { _ in .text("ok") }
        defer { server.stop() }
        let old = "DEFAULT@SECLEVEL=0"
        #expect(try Self.negotiated(port, ["-tls1", "-cipher", old]) == nil, "TLS 1.0 is refused")
        #expect(try Self.negotiated(port, ["-tls1_1", "-cipher", old]) == nil, "TLS 1.1 is refused")
        for suite in ["AES128-SHA", "AES256-GCM-SHA384", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"] {
            // Static RSA (no forward secrecy), or CBC with an HMAC (not AEAD).
            #expect(try Self.negotiated(port, ["-tls1_2", "-cipher", suite + ":@SECLEVEL=0"]) == nil, "\(suite) is refused")
        }
        let tls12 = try #require(try Self.negotiated(port, ["-tls1_2"]), "TLS 1.2 is accepted")
        #expect(tls12.contains("ECDHE") && (tls12.contains("GCM") || tls12.contains("CHACHA20")), "\(tls12)")
        let tls13 = try #require(try Self.negotiated(port, ["-tls1_3"]), "TLS 1.3 is accepted")
        #expect(tls13.contains("TLSv1.3"), "\(tls13)")
        // And an ordinary client is served all along.
        let curl = try run("/usr/bin/curl", ["-sS", "-k", "--max-time", "5", "https://127.0.0.1:\(port)/x"])
        #expect(curl.status == 0 && curl.stdout == "ok", "\(curl.stderr)")
    }

    @Test func anOperatorCanWidenThePriorityAndABadStringIsASentence() throws {
        let (identity, _) = try Self.rsaIdentity()
        var wide = HTTPServerConfiguration(tls: identity)
        wide.tlsPriority = "NORMAL:+VERS-TLS1.2:+RSA:+AES-128-CBC:+SHA1"
        let (server, port) = try startServer(wide) { _ in .text("ok") }
        defer { server.stop() }
        #expect(try Self.negotiated(port, ["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"]) != nil, "the operator's string applies")

        var bad = HTTPServerConfiguration(tls: identity)
        bad.tlsPriority = "NOT-A-PRIORITY"
        let refused = HTTPServer(configuration: bad, routes: [ClosureRoutes(responder: echo)])
        #expect(throws: HTTPServerError.cannotStart(
            "libmicrohttpd refused the TLS priority string NOT-A-PRIORITY or the certificate or key (is the string valid for GnuTLS, do the certificate and key match?)")) {
            try refused.start()
        }
        var spaced = HTTPServerConfiguration(tls: identity)
        spaced.tlsPriority = "NORMAL -VERS-ALL"
        #expect(throws: HTTPServerError.invalidConfiguration("the TLS priority string must be 1 to 1024 printable ASCII characters without spaces")) {
            try HTTPServer(configuration: spaced, routes: [ClosureRoutes(responder: echo)]).start()
        }
    }
}
