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

extension HTTPRoutes {
    /// These routes, with `Cache-Control: no-store` on every answer (refusals and
    /// long polls included): for answers that carry personal data or secrets
    /// (SCIM, the app API), which no browser or proxy may keep.
    public func notStored() -> NotStoredRoutes<Self> { NotStoredRoutes(self) }
}

/// Routes whose every answer carries `Cache-Control: no-store` (see `HTTPRoutes.notStored()`).
public struct NotStoredRoutes<Inner: HTTPRoutes>: HTTPRoutes {
    /// The wrapped routes.
    public let inner: Inner

    init(_ inner: Inner) { self.inner = inner }

    public func handles(_ head: HTTPHead) -> Bool { inner.handles(head) }

    public func admit(_ head: HTTPHead) -> Admission {
        switch inner.admit(head) {
        case .reject(let response): .reject(Self.marked(response))
        case .accept(let limit): .accept(maxBodyBytes: limit)
        }
    }

    public func respond(_ request: HTTPRequest) -> HTTPResponse { Self.marked(inner.respond(request)) }

    public func loggedPath(_ head: HTTPHead) -> String { inner.loggedPath(head) }

    static func marked(_ response: HTTPResponse) -> HTTPResponse {
        var r = response
        // Every answer passes here: names compared by length first, not with Foundation's case folding.
        r.headers.removeAll { $0.name.utf8.count == 13 && $0.name.lowercased() == "cache-control" }
        r.headers.append(("Cache-Control", "no-store"))
        if let poll = r.longPoll {
            r.longPoll = LongPoll(deadline: poll.deadline) { final in poll.check(final).map(marked) }
        }
        return r
    }
}
