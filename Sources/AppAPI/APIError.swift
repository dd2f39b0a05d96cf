import HTTP
import JSON

/// A refusal of the app API: the HTTP status and one sentence, answered as Jackson does,
/// `{"error":{"message":"…","code":<status>}}` (Jackson writes `code` on some routes
/// only; we always do, and clients that read `message` see no difference).
public struct APIError: Error, Sendable, Equatable {
    /// The HTTP status.
    public var status: Int
    /// What went wrong.
    public var message: String
    /// Extra header fields (`Allow` on a 405).
    var headers: [(String, String)] = []

    public static func == (a: APIError, b: APIError) -> Bool { a.status == b.status && a.message == b.message }

    init(_ status: Int, _ message: String, headers: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    static func badRequest(_ message: String) -> APIError { APIError(400, message) }
    static func notFound(_ message: String) -> APIError { APIError(404, message) }
    /// No key, a wrong key, a revoked key, or no key at all on this replica: Jackson's answer.
    static let unauthorized = APIError(401, "Unauthorized")
    /// A product-limited key naming another product.
    static func forbidden(product: String) -> APIError {
        APIError(403, "This API key is limited to product \(product)")
    }

    /// The answer.
    var response: HTTPResponse {
        var w = JSONWriter(capacity: message.utf8.count + 48)
        w.beginObject()
        w.key("error")
        w.beginObject()
        w.key("message")
        w.string(message)
        w.key("code")
        w.int(Int64(status))
        w.endObject()
        w.endObject()
        var r = HTTPResponse.json(w.bytes, status: status)
        for (n, v) in headers { r.setHeader(n, v) }
        r.logNote = "app API \(status): \(message.prefix(120))"
        return r
    }
}
