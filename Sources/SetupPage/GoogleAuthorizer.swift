import HTTP
import SetupLinks

/// What a Google directory's card shows about its authorization (see TenantSetupPage.md, "Google Workspace").
public struct GoogleCard: Sendable, Equatable {
    /// Where the directory's authorization stands.
    public enum Status: Sendable, Equatable {
        /// Nobody has authorized it yet.
        case notAuthorized
        /// Authorized by this Google account; the hub that holds the authorization syncs it.
        case authorized(by: String)
        /// Google refused the stored authorization (revoked or expired): authorize again.
        case needsReauthorization(by: String?)
    }

    /// Where the authorization stands.
    public var status: Status
    /// One sentence about the last sync, when the hub serving the page is the one that syncs.
    public var lastSync: String?

    /// A card's Google section.
    public init(status: Status, lastSync: String? = nil) {
        self.status = status
        self.lastSync = lastSync
    }
}

/// The setup page's seam to Google Workspace (implemented by `GoogleSync`): what a Google
/// directory's card shows, and where "Authorize with Google" sends the browser. Without
/// one (a hub with no Google OAuth client), the page does not offer Google.
public protocol GoogleAuthorizer: Sendable {
    /// The Google section of directory `directory`'s card.
    func card(for directory: Directory) -> GoogleCard
    /// Google's consent URL for `directory`, opened from the page of `linkToken` (where the
    /// browser comes back to), and the `Set-Cookie` value that ties the consent to the
    /// browser that started it. Throws when the consent cannot be started (a clear sentence).
    func authorizationURL(for directory: Directory, linkToken: String) throws -> (url: String, cookie: String)
}

extension SetupPageRoutes {
    /// The sentence the page shows when Google is not offered.
    public static let googleNotOffered =
        "Google Workspace is not offered here: this service is not connected to Google (no Google OAuth client is configured). Ask your administrator."

    /// A page in the setup page's style with one message and, when `backTo` is given, a
    /// button back to the setup page at that address; with the page's security headers.
    /// For the Google callback, which is not under `/setup/<token>`.
    public static func messagePage(title: String, text: String, status: Int, backTo: String? = nil) -> HTTPResponse {
        let back: HTML = backTo.map { "<div class=\"actions\"><a class=\"button\" href=\"\($0)\">Back to the setup page</a></div>" } ?? ""
        let body: HTML = """
        <div class="card center">
        <h1>\(title)</h1>
        <p>\(text)</p>
        \(back)
        </div>
        """
        return HTTPResponse.html(PageRenderer.document(title: title, body: body, privateFooter: false).markup, status: status)
            .withSecurityHeaders(contentSecurityPolicy: PageAssets.contentSecurityPolicy)
    }
}
