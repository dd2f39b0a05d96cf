import HTTP
import SetupLinks

/// The tenant setup page's routes, mounted by the hub: `GET|HEAD|POST /setup/<token>`.
///
/// One path per page; what a GET shows and what a POST does is in the query
/// and the form, and every link, form action and redirect is relative
/// (`?done=created…`), so the page works unchanged behind a proxy that
/// serves it under a path prefix.
///
/// Safety, per request:
/// - `admit` (headers only) refuses a POST to an unknown, regenerated,
///   deleted or expired link, one that is not an HTML form, or one over 16 KiB,
///   before a byte of its body is read;
/// - every answer carries `Content-Security-Policy` (the page's own inline
///   style sheet and script by hash, nothing else), `X-Frame-Options: DENY`,
///   `Referrer-Policy: no-referrer`, `Cache-Control: no-store` and
///   `X-Content-Type-Options: nosniff`;
/// - the access log shows `/setup/` and the token's first 6 characters only.
public struct SetupPageRoutes: HTTPRoutes {
    /// What each GET and POST does.
    let controller: SetupPageController

    /// The largest form body accepted (the New Directory form is well under 1 KiB).
    public static let maxFormBytes = 16 * 1024
    /// How many characters of a link token the access log shows.
    public static let loggedTokenCharacters = 6

    /// The routes over `service`; reads (or creates, the first time) this
    /// replica's CSRF key from its local settings. Without `google`, Google directories
    /// are not offered (a hub with no Google OAuth client).
    public init(service: SetupLinkService, google: (any GoogleAuthorizer)? = nil) throws {
        controller = try SetupPageController(service: service, google: google)
    }

    /// `/setup` and everything under `/setup/`.
    public func handles(_ head: HTTPHead) -> Bool {
        head.path == "/setup" || head.path.hasPrefix("/setup/")
    }

    /// GET and HEAD take no body; a POST must be a form to a live link.
    public func admit(_ head: HTTPHead) -> Admission {
        switch head.method {
        case "GET", "HEAD":
            return .accept(maxBodyBytes: 0)
        case "POST":
            let mediaType = head.header("content-type")?.split(separator: ";").first?
                .trimmingCharacters(in: .whitespaces).lowercased()
            guard mediaType == "application/x-www-form-urlencoded" else {
                return .reject(response(.page(PageRenderer.message(
                    title: "This form cannot be accepted",
                    text: "The setup page accepts only its own HTML forms. Nothing was changed."), status: 415)))
            }
            guard let token = Self.token(head.path) else { return .reject(response(SetupPageController.notFound())) }
            if case .failure(let refusal) = controller.open(token) { return .reject(response(refusal.reply)) }
            return .accept(maxBodyBytes: Self.maxFormBytes)
        default:
            var r = response(.page(PageRenderer.message(title: "Method not allowed",
                                                        text: "The setup page answers GET and POST only."), status: 405))
            r.setHeader("Allow", "GET, HEAD, POST")
            return .reject(r)
        }
    }

    /// The page, or the change a form asks for followed by a redirect to the page.
    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        guard let token = Self.token(request.path) else { return response(SetupPageController.notFound()) }
        guard request.method == "POST" else {
            return response(controller.get(token: token, query: request.head.query))
        }
        guard let text = String(validating: request.body, as: UTF8.self), let form = PercentDecoding.query(text) else {
            return response(.page(PageRenderer.message(
                title: "This form cannot be accepted",
                text: "The form's data could not be read. Nothing was changed. Go back to the setup page and try again.",
                back: true), status: 400))
        }
        return response(controller.post(token: token, form: form))
    }

    /// `/setup/` and the first characters of the token: enough to tell links
    /// apart in the log, far too few to open one.
    public func loggedPath(_ head: HTTPHead) -> String {
        let rest = head.path.dropFirst("/setup".count)
        guard rest.count > 1 else { return "/setup" + rest }
        let token = rest.dropFirst()
        return "/setup/" + token.prefix(Self.loggedTokenCharacters) + (token.count > Self.loggedTokenCharacters ? "…" : "")
    }

    /// The token of `/setup/<token>` (one trailing slash allowed), or `nil`
    /// for any other path under `/setup`.
    static func token(_ path: String) -> String? {
        guard path.hasPrefix("/setup/") else { return nil }
        var token = path.dropFirst("/setup/".count)
        if token.hasSuffix("/") { token = token.dropLast() }
        guard !token.isEmpty, !token.contains("/") else { return nil }
        return String(token)
    }

    /// The HTTP response of a reply, with the page's security headers.
    func response(_ reply: PageReply) -> HTTPResponse {
        var r: HTTPResponse
        if let location = reply.location {
            r = .redirect(to: location, status: reply.status)
        } else {
            r = .html(reply.html?.markup ?? "", status: reply.status)
        }
        r.logNote = reply.logNote
        for (n, v) in reply.headers { r.setHeader(n, v) }
        return r.withSecurityHeaders(contentSecurityPolicy: PageAssets.contentSecurityPolicy)
    }
}
