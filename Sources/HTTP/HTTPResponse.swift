import Bytes
import Crypto
import Foundation
import JSON

/// A response produced by a route.
///
/// The server writes `Content-Length`, `Date` and `Connection` itself; route
/// values for those are ignored, as are header names that are not HTTP tokens
/// and values containing CR, LF or NUL (so a route can never split a response).
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields in the order they are sent; a name may repeat (`Set-Cookie`).
    public var headers: [(name: String, value: String)]
    /// The body (not sent for `HEAD`).
    public var body: [UInt8]
    /// A line for the server log only, never sent to the client: the detail
    /// behind an internal error (SQL, paths), or why a request was refused.
    public var logNote: String?
    /// Set by `waiting(_:)`: the answer comes later (a long poll).
    public var longPoll: LongPoll?
    /// A body sent from an open file instead of `body`: `length` bytes from offset 0 of
    /// `descriptor`, which the server owns from then on (it closes it once sent, or on a
    /// refusal). For large answers (a replica snapshot) that must not sit in memory.
    public var file: (descriptor: Int32, length: Int)?

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [], logNote: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.logNote = logNote
    }

    /// The first value of header `name` (any case), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Sets header `name` to `value`, replacing any field of that name.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        headers.append((name, value))
    }

    /// Adds a field without removing others of the same name (e.g. a second `Set-Cookie`).
    public mutating func addHeader(_ name: String, _ value: String) {
        headers.append((name, value))
    }

    /// This response with header `name` set to `value` (replacing any of that name).
    public func setting(_ name: String, _ value: String) -> HTTPResponse {
        var copy = self
        copy.setHeader(name, value)
        return copy
    }

    // MARK: Bodies

    /// Already-encoded JSON, `Content-Type: application/json`.
    public static func json(_ bytes: [UInt8], status: Int = 200, contentType: String = "application/json") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: bytes)
    }

    /// The open file `descriptor` (`length` bytes from offset 0) as the body: the server owns
    /// the descriptor and closes it once the answer is sent or the connection is cut.
    public static func file(descriptor: Int32, length: Int, contentType: String) -> HTTPResponse {
        var r = HTTPResponse(status: 200, headers: [("Content-Type", contentType)])
        r.file = (descriptor, length)
        return r
    }

    /// An HTML page, `Content-Type: text/html; charset=utf-8`. The caller
    /// escapes every value it puts in (the setup page's `HTML` does).
    public static func html(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(text.utf8))
    }

    /// Plain text, `Content-Type: text/plain; charset=utf-8`.
    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// A redirect to `location` (303 See Other by default: after a form POST, GET the page again).
    public static func redirect(to location: String, status: Int = 303) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Location", location)])
    }

    /// An error in the JSON shape every peer route uses: `{"error":"<message>"}`.
    public static func error(status: Int, message: String) -> HTTPResponse {
        var body = JSONWriter(capacity: message.utf8.count + 16)
        body.beginObject()
        body.key("error")
        body.string(message)
        body.endObject()
        return .json(body.bytes, status: status)
    }

    /// A 500 that tells the client only a short random id,
    /// `{"error":"internal error 7f3a9c"}`; `detail` (SQL, paths) goes to the
    /// server log under the same id, so an operator can match a user's report.
    public static func internalError(_ detail: String) -> HTTPResponse {
        let id = internalErrorID()
        var response = error(status: 500, message: "internal error \(id)")
        response.logNote = "internal error \(id): \(detail)"
        return response
    }

    /// Six hex digits from the system CSPRNG: the id a 500 shows and the log repeats.
    public static func internalErrorID() -> String { Hex.encode(SecureRandom.bytes(3)) }

    // MARK: Security headers

    /// The default `Content-Security-Policy` of `withSecurityHeaders`: nothing
    /// loads from anywhere, inline styles are allowed, forms post only to this origin.
    public static let defaultContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// This response with the headers a browser-facing page needs:
    /// `Content-Security-Policy`, `X-Frame-Options: DENY`,
    /// `Referrer-Policy: no-referrer`, `Cache-Control: no-store`,
    /// `X-Content-Type-Options: nosniff`.
    public func withSecurityHeaders(contentSecurityPolicy: String = HTTPResponse.defaultContentSecurityPolicy) -> HTTPResponse {
        var copy = self
        copy.setHeader("Content-Security-Policy", contentSecurityPolicy)
        copy.setHeader("X-Frame-Options", "DENY")
        copy.setHeader("Referrer-Policy", "no-referrer")
        copy.setHeader("Cache-Control", "no-store")
        copy.setHeader("X-Content-Type-Options", "nosniff")
        return copy
    }

    // MARK: Checks

    /// Whether the server sends this header field as given (see the type's note).
    static func isSendable(name: String, value: String) -> Bool {
        let lowered = name.lowercased()
        return !name.isEmpty && name.utf8.allSatisfy(isTokenByte)
            && lowered != "content-length" && lowered != "connection" && lowered != "transfer-encoding"
            && lowered != "date"
            // Unicode scalars, not Characters: "\r\n" is one Character.
            && !value.unicodeScalars.contains { $0 == "\r" || $0 == "\n" || $0 == "\0" }
    }
}

/// Bytes allowed in a method or header name (RFC 9110 `tchar`).
func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
    }
}
