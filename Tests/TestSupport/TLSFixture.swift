import Foundation

/// A private CA and a server certificate it signed (for `127.0.0.1` and
/// `localhost`), made with the openssl command line in a temporary folder.
public struct TLSFixture: Sendable {
    /// The folder holding the files.
    public let directory: String
    /// The CA certificate (what clients trust with `--cacert`).
    public var caCertificateFile: String { directory + "/ca.pem" }
    /// The server certificate.
    public var certificateFile: String { directory + "/server.pem" }
    /// The server's private key (unencrypted).
    public var keyFile: String { directory + "/server.key" }
    /// A second, unrelated CA (for "the wrong CA" tests).
    public var otherCACertificateFile: String { directory + "/other-ca.pem" }

    /// The CA certificate's PEM text.
    public var caCertificatePEM: String { (try? String(contentsOfFile: caCertificateFile, encoding: .utf8)) ?? "" }
    /// The server certificate's PEM text.
    public var certificatePEM: String { (try? String(contentsOfFile: certificateFile, encoding: .utf8)) ?? "" }
    /// The server key's PEM text.
    public var keyPEM: String { (try? String(contentsOfFile: keyFile, encoding: .utf8)) ?? "" }

    /// Makes the CA, the server key and certificate, and another CA (EC P-256 keys: fast to make).
    public init() throws {
        directory = testFolder("tls")
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for (name, subject) in [("ca", "/CN=setuplink test CA"), ("other-ca", "/CN=another CA")] {
            try Self.openssl(["req", "-x509"] + ec + ["-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).pem",
                              "-days", "2", "-subj", subject,
                              "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        try Self.openssl(["req"] + ec + ["-keyout", keyFile, "-out", "\(directory)/server.csr", "-subj", "/CN=localhost"])
        try Self.openssl(["x509", "-req", "-in", "\(directory)/server.csr", "-CA", caCertificateFile, "-CAkey", "\(directory)/ca.key",
                          "-CAcreateserial", "-out", certificateFile, "-days", "2", "-extfile", "\(directory)/server.ext"])
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try run("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw RawClientError.failed("openssl \(arguments.first ?? ""): \(result.stderr)") }
    }
}
