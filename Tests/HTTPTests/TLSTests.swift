import Foundation
import Testing
import HTTP
import TestSupport

/// HTTPS through libmicrohttpd's GnuTLS, against libcurl and the curl command line.
@Suite struct TLSTests {
    @Test func httpsIsServedAndTrustedOnlyWithTheCA() throws {
        let tls = try TLSFixture()
        let (server, port) = try startServer(HTTPServerConfiguration(tls: TLSIdentity(certificateFile: tls.certificateFile,
                                                                                      keyFile: tls.keyFile))) { request in
            .text("tls=\(request.head.isTLS)")
        }
        defer { server.stop() }
        #expect(server.isTLS)
        let url = "https://127.0.0.1:\(port)/x"

        let trusted = try HTTPClient(caCertificatePEM: tls.caCertificatePEM).send(method: "GET", url: url)
        #expect(trusted.status == 200)
        #expect(String(decoding: trusted.body, as: UTF8.self) == "tls=true")

        #expect(throws: HTTPClientError.certificateNotTrusted(url: url)) {
            try HTTPClient().send(method: "GET", url: url)
        }
        let otherCA = try String(contentsOfFile: tls.otherCACertificateFile, encoding: .utf8)
        #expect(throws: HTTPClientError.certificateNotTrusted(url: url)) {
            try HTTPClient(caCertificatePEM: otherCA).send(method: "GET", url: url)
        }

        let curl = try run("/usr/bin/curl", ["-sS", "--max-time", "5", "--cacert", tls.caCertificateFile, url])
        #expect(curl.status == 0, "\(curl.stderr)")
        #expect(curl.stdout == "tls=true")
        let untrusted = try run("/usr/bin/curl", ["-sS", "--max-time", "5", url])
        #expect(untrusted.status == 60, "curl refuses an unknown CA")
    }

    @Test func plainHTTPToATLSPortAndTLSToAPlainPortAreNamedInWords() throws {
        let tls = try TLSFixture()
        let (secure, securePort) = try startServer(HTTPServerConfiguration(tls: TLSIdentity(certificatePEM: tls.certificatePEM,
                                                                                          privateKeyPEM: tls.keyPEM)))
        defer { secure.stop() }
        let (plain, plainPort) = try startServer()
        defer { plain.stop() }

        let toTLS = "http://127.0.0.1:\(securePort)/x"
        #expect(throws: HTTPClientError.noAnswerToPlainHTTP(url: toTLS)) {
            try HTTPClient().send(method: "GET", url: toTLS)
        }
        #expect(HTTPClientError.noAnswerToPlainHTTP(url: toTLS).reason == "the peer speaks HTTPS, not plain HTTP (use https://127.0.0.1:\(securePort)/x)")

        let toPlain = "https://127.0.0.1:\(plainPort)/x"
        #expect(throws: HTTPClientError.tlsNotSpoken(url: toPlain)) {
            try HTTPClient(caCertificatePEM: tls.caCertificatePEM).send(method: "GET", url: toPlain)
        }
        #expect(HTTPClientError.tlsNotSpoken(url: toPlain).reason == "the peer does not speak TLS (is it a plain http:// URL?)")

        // Both servers still serve their own kind.
        #expect(try HTTPClient(caCertificatePEM: tls.caCertificatePEM).send(method: "GET", url: "https://127.0.0.1:\(securePort)/ok").status == 200)
        #expect(try HTTPClient().send(method: "GET", url: "http://127.0.0.1:\(plainPort)/ok").status == 200)
    }

    @Test func unusableCertificatesAreRefusedWithASentence() throws {
        let tls = try TLSFixture()
        #expect(throws: HTTPServerError.invalidTLS("cannot read the TLS certificate /nonexistent.pem")) {
            try TLSIdentity(certificateFile: "/nonexistent.pem", keyFile: tls.keyFile)
        }
        #expect(throws: HTTPServerError.invalidTLS("\(tls.keyFile) is not a PEM certificate (no BEGIN CERTIFICATE line)")) {
            try TLSIdentity(certificateFile: tls.keyFile, keyFile: tls.keyFile)
        }
        // A key that does not belong to the certificate: GnuTLS refuses it at start.
        let otherKey = tls.directory + "/other-ca.key"
        let mismatched = HTTPServer(configuration: HTTPServerConfiguration(tls: try TLSIdentity(certificateFile: tls.certificateFile,
                                                                                                keyFile: otherKey)),
                                    routes: [ClosureRoutes(responder: echo)])
        #expect(throws: HTTPServerError.self) { try mismatched.start() }
    }
}
