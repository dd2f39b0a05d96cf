import Bytes

/// The request line and headers of one request: all a route sees before it
/// decides whether the body may be read (`HTTPRoutes.admit`).
///
/// Values are as the client sent them, decoded once: the path and the query
/// are percent-decoded (a query's `+` is a space, as HTML forms send it);
/// header names are lowercased. Nothing here has been authenticated yet.
public struct HTTPHead: Sendable {
    /// The method as sent, e.g. `GET` (methods are case-sensitive in HTTP).
    public var method: String
    /// The request target's path, percent-decoded, without the query: `/setup/abc`.
    public var path: String
    /// The path exactly as sent (still percent-encoded).
    public var rawPath: String
    /// The query arguments in the order sent, names and values percent-decoded;
    /// an argument without `=` has an empty value (`?aadOptscim062020`).
    public var query: [(name: String, value: String)]
    /// The header fields in the order sent, names lowercased, values trimmed.
    public var headers: [(name: String, value: String)]
    /// The client's address and port: `127.0.0.1:53122`, `[::1]:53122`.
    public var clientAddress: String
    /// Whether the request came over TLS.
    public var isTLS: Bool
    /// The protocol version from the request line, e.g. `HTTP/1.1`.
    public var version: String

    /// Creates a head; the server builds these, and tests of routes may too.
    public init(method: String, path: String, rawPath: String? = nil, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)] = [], clientAddress: String = "127.0.0.1:0",
                isTLS: Bool = false, version: String = "HTTP/1.1") {
        self.method = method
        self.path = path
        self.rawPath = rawPath ?? path
        self.query = query
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        self.clientAddress = clientAddress
        self.isTLS = isTLS
        self.version = version
    }

    /// The value of header `name` (any case); repeated fields joined with `, `
    /// as RFC 9110 allows; `nil` when absent.
    public func header(_ name: String) -> String? {
        let key = name.lowercased()
        let values = headers.filter { $0.name == key }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// The first value of query argument `name` (exact case), or `nil`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Whether the request has a body in chunked transfer coding (no length known up front).
    public var isChunked: Bool {
        header("transfer-encoding")?.lowercased().contains("chunked") == true
    }

    /// The declared `Content-Length`, or `nil` when absent, chunked or malformed.
    ///
    /// Repeated fields must agree (`Content-Length: 5, 5` is 5); libmicrohttpd
    /// has already refused requests whose length it cannot parse.
    public var contentLength: Int? {
        guard !isChunked, let field = header("content-length") else { return nil }
        var result: Int?
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let digits = String(part).trimmingASCIIWhitespace()
            guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = Int(digits) else { return nil }
            if let result, result != value { return nil }
            result = value
        }
        return result
    }

    /// Whether a body follows the head (a non-zero length, or chunked).
    public var hasBody: Bool { isChunked || (contentLength ?? 0) > 0 }

    /// Whether the request carries `Authorization: Bearer <secret>`, compared in constant time.
    public func hasBearerToken(_ secret: String) -> Bool {
        bearerTokenMatches(authorization: header("authorization"), secret: secret)
    }
}

/// One request with its whole body, handed to `HTTPRoutes.respond` after the
/// route admitted its head.
public struct HTTPRequest: Sendable {
    /// The request line and headers.
    public var head: HTTPHead
    /// The body (empty when none was sent).
    public var body: [UInt8]

    /// Creates a request from its head and body.
    public init(head: HTTPHead, body: [UInt8] = []) {
        self.head = head
        self.body = body
    }

    /// The method, e.g. `POST`.
    public var method: String { head.method }
    /// The percent-decoded path.
    public var path: String { head.path }
    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? { head.header(name) }
    /// The first value of query argument `name`.
    public func queryValue(_ name: String) -> String? { head.queryValue(name) }
}

/// Percent-decoding of URL parts (RFC 3986).
public enum PercentDecoding {
    /// Decodes `%XX` escapes (and, with `plusIsSpace`, `+` as a space, for
    /// query strings); `nil` if an escape is malformed or the bytes are not UTF-8.
    public static func decode(_ text: String, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Hex.value), let low = iterator.next().flatMap(Hex.value) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Splits a raw query string (`a=1&b=x%20y`) into decoded pairs; `nil` if any part is malformed.
    public static func query(_ raw: String) -> [(name: String, value: String)]? {
        var pairs: [(name: String, value: String)] = []
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(String(pieces[0]), plusIsSpace: true),
                  let value = decode(pieces.count == 2 ? String(pieces[1]) : "", plusIsSpace: true) else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }
}
