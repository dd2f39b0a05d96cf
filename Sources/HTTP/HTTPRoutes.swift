/// What a route decides from a request's head, before any of its body is read.
public enum Admission: Sendable {
    /// Read the body, up to `maxBodyBytes` (0: the request must carry none),
    /// then call `respond`. A declared `Content-Length` over the limit is
    /// answered 413 at once; a chunked body is counted as it arrives and the
    /// connection is closed when it passes the limit.
    case accept(maxBodyBytes: Int)
    /// Answer with this response now; the body is never read, and no
    /// `100 Continue` is sent.
    case reject(HTTPResponse)
}

/// A group of routes served by `HTTPServer`: one protocol (the peer protocol,
/// SCIM, the setup page).
///
/// A request goes through two phases so nothing untrusted is buffered before
/// it is authenticated:
/// 1. `admit` sees the head only (method, path, query, headers): check
///    authentication, method and size here;
/// 2. `respond` gets the head and the whole body, once it has arrived within
///    the limit and the server's deadlines.
///
/// Both run on one of the server's threads and may block (on SQLite, say),
/// never on another request. The server asks the routes in order; the first
/// whose `handles` is true owns the request, and none answers 404.
public protocol HTTPRoutes: Sendable {
    /// Whether this group owns the request, e.g. by path prefix. Must be cheap
    /// and must not look at anything secret.
    func handles(_ head: HTTPHead) -> Bool
    /// The head-only decision: authentication, method, size.
    func admit(_ head: HTTPHead) -> Admission
    /// The answer, once the body is read.
    func respond(_ request: HTTPRequest) -> HTTPResponse
    /// The path as the access log may show it, with secrets cut out
    /// (`/setup/<token>` becomes `/setup/…`). Never include the query unless
    /// it is known to be harmless.
    func loggedPath(_ head: HTTPHead) -> String
}
