import Foundation

/// How a hub reaches Google: its OAuth client, Google's addresses (configuration, so tests
/// point them at a local fake), the poll interval and the rate-limit backoff.
public struct GoogleConfiguration: Sendable {
    /// The OAuth client id (Google Cloud console, "OAuth 2.0 Client IDs", a web application).
    public var clientID: String
    /// The OAuth client secret (from a file or the environment, never the command line).
    public var clientSecret: String
    /// Google's authorization (consent) endpoint, opened in the tenant's browser.
    public var authorizationURL = "https://accounts.google.com/o/oauth2/v2/auth"
    /// Google's token endpoint (code exchange and refresh).
    public var tokenURL = "https://oauth2.googleapis.com/token"
    /// The Admin SDK's base: the Directory API is under `<base>/admin/directory/v1/`.
    public var apiBaseURL = "https://admin.googleapis.com"
    /// How often each authorized directory is synced (default 10 minutes).
    public var pollInterval: Duration = .seconds(600)
    /// How long an authorization started on the setup page may take to come back.
    public var stateLifetime: Duration = .seconds(600)
    /// The first wait after a rate-limit answer without `Retry-After` (doubled each time).
    public var backoffBase: Duration = .seconds(1)
    /// The longest single wait (a longer `Retry-After` is cut to it).
    public var backoffCap: Duration = .seconds(64)
    /// How many times one request is tried again after rate limits or Google's 5xx.
    public var maxRetries = 6
    /// Users per page asked for (Google allows up to 500).
    public var usersPageSize = 500
    /// Groups and members per page asked for (Google allows up to 200).
    public var groupsPageSize = 200
    /// Limits on each request to Google.
    public var connectTimeout: Duration = .seconds(10)
    /// Limit on each whole exchange.
    public var requestTimeout: Duration = .seconds(60)

    /// The scopes asked for: read-only users and groups (with their members), and the
    /// identity of the person who authorizes (`openid email`: "Authorized by <email>").
    public static let scopes = [
        "openid", "email",
        "https://www.googleapis.com/auth/admin.directory.user.readonly",
        "https://www.googleapis.com/auth/admin.directory.group.readonly",
    ]

    /// Where Google sends the browser back: `<external URL><callbackPath>` (register it in
    /// the OAuth client's "Authorized redirect URIs").
    public static let callbackPath = "/oauth/google/callback"

    /// A configuration with Google's public addresses.
    public init(clientID: String, clientSecret: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    /// The environment variables read by `serve` (the flags win).
    public enum Environment {
        /// The client id.
        public static let clientID = "SETUPLINK_GOOGLE_CLIENT_ID"
        /// The client secret itself (or use `--google-client-secret-file`).
        public static let clientSecret = "SETUPLINK_GOOGLE_CLIENT_SECRET"
        /// The authorization endpoint.
        public static let authorizationURL = "SETUPLINK_GOOGLE_AUTH_URL"
        /// The token endpoint.
        public static let tokenURL = "SETUPLINK_GOOGLE_TOKEN_URL"
        /// The Admin SDK base.
        public static let apiBaseURL = "SETUPLINK_GOOGLE_API_URL"
    }
}
