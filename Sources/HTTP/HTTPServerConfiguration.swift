import Foundation

/// A certificate chain and its private key, both PEM text, for serving HTTPS.
public struct TLSIdentity: Sendable, Equatable {
    /// The server certificate, optionally followed by intermediates (PEM).
    public var certificatePEM: String
    /// The certificate's private key, unencrypted (PEM).
    public var privateKeyPEM: String

    /// Creates an identity from PEM text.
    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// Reads the certificate and key files; throws a sentence naming the file
    /// that is missing or is not the PEM expected.
    public init(certificateFile: String, keyFile: String) throws(HTTPServerError) {
        let certificate = try Self.read(certificateFile, what: "TLS certificate")
        let key = try Self.read(keyFile, what: "TLS key")
        guard certificate.contains("-----BEGIN CERTIFICATE-----") else {
            throw .invalidTLS("\(certificateFile) is not a PEM certificate (no BEGIN CERTIFICATE line)")
        }
        guard key.contains("PRIVATE KEY-----") else {
            throw .invalidTLS("\(keyFile) is not a PEM private key (no BEGIN … PRIVATE KEY line)")
        }
        guard !key.contains("ENCRYPTED") else {
            throw .invalidTLS("\(keyFile) is an encrypted key; give an unencrypted PEM key (openssl pkey -in KEY -out PLAIN)")
        }
        self.init(certificatePEM: certificate, privateKeyPEM: key)
    }

    private static func read(_ path: String, what: String) throws(HTTPServerError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidTLS("cannot read the \(what) \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// How an `HTTPServer` listens and what it tolerates from clients.
///
/// The defaults are for a hub facing the internet; tests shorten the deadlines.
/// What each limit protects against is in HTTP.docc/Transport.md ("Limits, and what they stop").
public struct HTTPServerConfiguration: Sendable {
    /// The address to bind: `127.0.0.1` (the default), `0.0.0.0`, `::`.
    public var bindAddress: String
    /// The port to bind; 0 picks a free port (read it from `start()`).
    public var port: UInt16
    /// Serve HTTPS with this certificate and key; `nil` serves plain HTTP.
    public var tls: TLSIdentity?
    /// The GnuTLS priority string of an HTTPS server: which protocol versions,
    /// key exchanges and ciphers it accepts (`serve --tls-priority`). The
    /// default, `defaultTLSPriority`, allows TLS 1.3 and 1.2 with forward-secret
    /// key exchanges and AEAD ciphers only.
    public var tlsPriority: String = HTTPServerConfiguration.defaultTLSPriority

    /// TLS 1.3 and 1.2 only; in TLS 1.2 only ephemeral (EC)DH key exchanges
    /// (forward secrecy: no static RSA) and AEAD ciphers (AES-GCM,
    /// ChaCha20-Poly1305: no CBC, no SHA-1 MACs). Every current browser, curl,
    /// Okta and Entra ID speak these.
    public static let defaultTLSPriority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA"
        + ":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"
    /// libmicrohttpd's worker threads (each runs its own epoll loop). New
    /// connections are spread over them evenly. A route that waits (a SCIM
    /// change waits for its group commit) holds its worker's other connections
    /// meanwhile, so there are more workers than cores: 16 by default.
    public var threads: Int
    /// Open connections at most; more wait in the kernel's listen backlog
    /// until one closes.
    public var maxConnections: Int
    /// Open connections from one IP address at most; more are closed at once.
    /// Far above what one legitimate client opens (an identity provider behind
    /// NAT, the test suite on loopback), below `maxConnections` so one address
    /// can never take every slot.
    public var maxConnectionsPerIP: Int
    /// Per-connection memory for the request line, headers and read buffer;
    /// a header block that does not fit is answered 431.
    public var connectionMemoryLimit: Int
    /// A ceiling on every request body, whatever a route admits.
    public var maxBodyBytes: Int
    /// Request bodies held in memory at once, over every connection: a body over
    /// `smallBodyBytes` that would pass it is answered 503 with `Retry-After`
    /// before it is read (see `BodyBudget`).
    public var maxBufferedBodyBytes: Int = 256 * 1024 * 1024
    /// One client address's share of `maxBufferedBodyBytes`.
    public var maxBufferedBodyBytesPerAddress: Int = 64 * 1024 * 1024
    /// Bodies up to this size are not counted against the budget (every client's
    /// ordinary requests always pass; the connection limit bounds them).
    public var smallBodyBytes: Int = 64 * 1024
    /// A connection silent for this long is closed (libmicrohttpd's timeout,
    /// whole seconds, at least 1).
    public var idleTimeout: Duration
    /// The request line and headers must be complete within this time of the
    /// connection opening (or of the previous answer plus `idleTimeout` on a
    /// kept-alive connection), however slowly bytes keep arriving.
    public var headerDeadline: Duration
    /// A body must be complete within this time of its head.
    public var bodyDeadline: Duration
    /// An answer must be taken by the client within this time of being queued, plus a second
    /// for every `minimumSendRate` bytes of it (`sendingDeadline`).
    public var responseDeadline: Duration
    /// The slowest average rate, in bytes a second, at which a client may take a large answer
    /// (a clone's multi-gigabyte snapshot): 1 MiB/s. A client that takes nothing for
    /// `stalledSendTimeout` is cut off whatever the size.
    public var minimumSendRate: Int = 1 << 20

    /// How long a client has to take an answer of `bytes`.
    public func sendingDeadline(bytes: Int) -> Duration {
        responseDeadline + .milliseconds(Int64(max(0, bytes)) * 1000 / Int64(max(1, minimumSendRate)))
    }
    /// A connection whose answers wait in the kernel while nothing could be sent for
    /// this long (its client reads nothing: a pipeline it never reads) is cut.
    public var stalledSendTimeout: Duration = .seconds(10)
    /// Connections kept for addresses holding fewer than `fairShareConnections`: once
    /// `maxConnections - reservedConnections` are open, an address that already has
    /// `fairShareConnections` is refused further ones (closed at once), so a new
    /// client always finds a slot. At most an eighth of `maxConnections` is kept.
    public var reservedConnections: Int = 256
    /// See `reservedConnections`.
    public var fairShareConnections: Int = 64
    /// How long `stop()` lets requests in flight finish before closing them.
    public var stopGracePeriod: Duration

    /// Creates a configuration; every limit has a production default.
    public init(bindAddress: String = "127.0.0.1", port: UInt16 = 0, tls: TLSIdentity? = nil,
                threads: Int = 16, maxConnections: Int = 2048, maxConnectionsPerIP: Int = 1024,
                connectionMemoryLimit: Int = 32 * 1024, maxBodyBytes: Int = 16 * 1024 * 1024,
                idleTimeout: Duration = .seconds(30), headerDeadline: Duration = .seconds(10),
                bodyDeadline: Duration = .seconds(120), responseDeadline: Duration = .seconds(120),
                stopGracePeriod: Duration = .seconds(5)) {
        self.bindAddress = bindAddress
        self.port = port
        self.tls = tls
        self.threads = threads
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.connectionMemoryLimit = connectionMemoryLimit
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.headerDeadline = headerDeadline
        self.bodyDeadline = bodyDeadline
        self.responseDeadline = responseDeadline
        self.stopGracePeriod = stopGracePeriod
    }

    /// The first configuration problem, or `nil`.
    func problem() -> String? {
        if threads < 1 || threads > 64 { return "threads must be 1 to 64" }
        if maxConnections < 1 { return "maxConnections must be at least 1" }
        if maxConnectionsPerIP < 0 { return "maxConnectionsPerIP must not be negative (0: no limit)" }
        if reservedConnections < 0 { return "reservedConnections must not be negative" }
        if fairShareConnections < 1 { return "fairShareConnections must be at least 1" }
        if stalledSendTimeout <= .zero { return "stalledSendTimeout must be positive" }
        if connectionMemoryLimit < 4096 { return "connectionMemoryLimit must be at least 4096 bytes" }
        if maxBodyBytes < 0 { return "maxBodyBytes must not be negative" }
        if maxBufferedBodyBytes < 0 || maxBufferedBodyBytesPerAddress < 0 || smallBodyBytes < 0 {
            return "the buffered body budget must not be negative"
        }
        if tlsPriority.isEmpty || tlsPriority.utf8.count > 1024 || tlsPriority.utf8.contains(where: { $0 < 0x21 || $0 > 0x7E }) {
            return "the TLS priority string must be 1 to 1024 printable ASCII characters without spaces"
        }
        for (name, value) in [("idleTimeout", idleTimeout), ("headerDeadline", headerDeadline),
                              ("bodyDeadline", bodyDeadline), ("responseDeadline", responseDeadline)] where value <= .zero {
            return "\(name) must be positive"
        }
        if minimumSendRate <= 0 { return "minimumSendRate must be positive" }
        return nil
    }
}

/// Why an `HTTPServer` could not start.
public enum HTTPServerError: Error, CustomStringConvertible, Equatable {
    /// Binding or listening failed, e.g. the port is taken or privileged.
    case cannotListen(address: String, port: UInt16, reason: String)
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// The TLS certificate or key cannot be used.
    case invalidTLS(String)
    /// libmicrohttpd refused to start.
    case cannotStart(String)
    /// `start()` was called on a server that is running or was stopped.
    case alreadyStarted

    /// One sentence: `cannot listen on 127.0.0.1:80: Permission denied`.
    public var description: String {
        switch self {
        case let .cannotListen(address, port, reason):
            let host = address.contains(":") ? "[\(address)]" : address
            return "cannot listen on \(host):\(port): \(reason)"
        case let .invalidConfiguration(message):
            return "invalid server configuration: \(message)"
        case let .invalidTLS(message):
            return message
        case let .cannotStart(message):
            return "the HTTP server could not start: \(message)"
        case .alreadyStarted:
            return "the server was already started; create a new one"
        }
    }
}

extension Duration {
    /// This duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
