import Bytes
import Crypto
import Foundation
import HTTP
import JSON

/// Why talking to Google failed, in a sentence a person can act on. Never carries a token.
public enum GoogleError: Error, CustomStringConvertible, Equatable {
    /// The token endpoint answered `invalid_grant` to a refresh: the authorization was
    /// revoked (or expired, or the account lost its rights). Only a new consent fixes it.
    case revoked(String)
    /// The token endpoint refused a request (`error`, `error_description`).
    case oauth(error: String, description: String)
    /// The Directory API answered an error status.
    case api(status: Int, reason: String, message: String)
    /// Still rate limited after every retry.
    case rateLimited(attempts: Int)
    /// Google could not be reached.
    case transport(String)
    /// Google answered something that is not what its documentation describes.
    case badAnswer(String)
    /// Stopped while waiting (the hub is stopping).
    case stopped

    public var description: String {
        switch self {
        case .revoked(let d): "Google refused the stored authorization (invalid_grant: \(d)): authorize again on the setup page"
        case let .oauth(e, d): "Google's token endpoint refused the request: \(e)\(d.isEmpty ? "" : " (\(d))")"
        case let .api(status, reason, message):
            "the Directory API answered \(status)\(reason.isEmpty ? "" : " \(reason)")\(message.isEmpty ? "" : ": \(message)")"
                + (status == 403 && reason != "rateLimitExceeded" && reason != "userRateLimitExceeded"
                    ? " (is the account that authorized an administrator of the Workspace domain?)" : "")
        case .rateLimited(let n): "Google kept answering rate-limit errors after \(n) attempts; the next sync tries again"
        case .transport(let m): "Google could not be reached: \(m)"
        case .badAnswer(let m): "Google's answer could not be read: \(m)"
        case .stopped: "stopped"
        }
    }
}

/// The tokens Google's token endpoint answers.
struct TokenAnswer: Sendable {
    var accessToken: String
    var refreshToken: String?
    var idToken: String?
}

/// The identity in an ID token: its `email` and, for a Workspace account, `hd`.
struct GoogleIdentity: Sendable, Equatable {
    var email: String
    var hostedDomain: String?
}

/// PKCE (RFC 7636): a verifier kept by the hub, its S256 challenge sent with the consent.
struct PKCE: Sendable {
    let verifier: String
    var challenge: String { Self.challenge(verifier) }

    /// 32 CSPRNG bytes, base64url: 43 characters of the unreserved set.
    init() { verifier = Base64URL.encode(SecureRandom.bytes(32)) }

    /// `BASE64URL(SHA256(ASCII(verifier)))`.
    static func challenge(_ verifier: String) -> String {
        var h = SHA256Hasher()
        h.update(Array(verifier.utf8))
        return Base64URL.encode(h.finalizeBytes())
    }
}

/// The OAuth token endpoint and the Directory API, over `HTTPClient` (libcurl), with
/// rate-limit backoff. Blocking; one per sync or callback.
struct GoogleClient: Sendable {
    let configuration: GoogleConfiguration
    let http: HTTPClient
    /// Waits (for a backoff); returns `false` when the wait was cut short because the hub stops.
    let sleep: @Sendable (Duration) -> Bool
    /// Counts requests sent (for reports and tests).
    let onRequest: @Sendable (String) -> Void

    init(configuration: GoogleConfiguration, sleep: @escaping @Sendable (Duration) -> Bool = { Thread.sleep(forTimeInterval: $0.seconds); return true },
         onRequest: @escaping @Sendable (String) -> Void = { _ in }) {
        self.configuration = configuration
        var client = HTTPClient(connectTimeout: configuration.connectTimeout, timeout: configuration.requestTimeout,
                                maxResponseBytes: 32 * 1024 * 1024)
        client.expectContinue = false
        http = client
        self.sleep = sleep
        self.onRequest = onRequest
    }

    // MARK: OAuth

    /// The consent URL: authorization code flow with PKCE (S256) and `state`, offline access
    /// (a refresh token), `prompt=consent` (so a re-authorization gets a new refresh token too).
    func consentURL(state: String, challenge: String, redirectURI: String) -> String {
        let query: [(String, String)] = [
            ("client_id", configuration.clientID),
            ("redirect_uri", redirectURI),
            ("response_type", "code"),
            ("scope", GoogleConfiguration.scopes.joined(separator: " ")),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("include_granted_scopes", "true"),
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        let sep = configuration.authorizationURL.contains("?") ? "&" : "?"
        return configuration.authorizationURL + sep + Self.form(query)
    }

    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    func exchange(code: String, verifier: String, redirectURI: String) throws(GoogleError) -> TokenAnswer {
        try token([("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier),
                   ("redirect_uri", redirectURI), ("client_id", configuration.clientID),
                   ("client_secret", configuration.clientSecret)], refreshing: false)
    }

    /// A fresh access token from a refresh token; `.revoked` on `invalid_grant`.
    func refresh(_ refreshToken: String) throws(GoogleError) -> String {
        try token([("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", configuration.clientID),
                   ("client_secret", configuration.clientSecret)], refreshing: true).accessToken
    }

    private func token(_ fields: [(String, String)], refreshing: Bool) throws(GoogleError) -> TokenAnswer {
        let response = try send("POST", configuration.tokenURL, headers: ["Content-Type": "application/x-www-form-urlencoded",
                                                                          "Accept": "application/json"],
                                body: Array(Self.form(fields).utf8))
        let json = try? JSONParser.parse(response.body, maxDepth: 16)
        guard response.status == 200 else {
            let error = json?["error"]?.stringValue ?? "HTTP \(response.status)"
            let description = String((json?["error_description"]?.stringValue ?? "").prefix(300))
            if refreshing, error == "invalid_grant" { throw .revoked(description.isEmpty ? "Token has been expired or revoked." : description) }
            throw .oauth(error: String(error.prefix(100)), description: description)
        }
        guard let json, let access = json["access_token"]?.stringValue, !access.isEmpty else {
            throw .badAnswer("the token endpoint's answer has no access_token")
        }
        return TokenAnswer(accessToken: access, refreshToken: json["refresh_token"]?.stringValue, idToken: json["id_token"]?.stringValue)
    }

    /// The identity in an ID token received straight from the token endpoint over the
    /// connection the hub opened (OpenID Connect Core 3.1.3.7: TLS stands in for checking
    /// its signature then); its audience must be this client.
    static func identity(idToken: String, clientID: String) throws(GoogleError) -> GoogleIdentity {
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let bytes = Base64URL.decode(String(parts[1])),
              let claims = try? JSONParser.parse(bytes, maxDepth: 8) else { throw .badAnswer("the ID token is not a JWT") }
        let audience = claims["aud"]?.stringValue ?? claims["aud"]?.arrayValue?.first?.stringValue
        guard audience == clientID else { throw .badAnswer("the ID token was issued to another client") }
        guard let email = claims["email"]?.stringValue, !email.isEmpty else { throw .badAnswer("the ID token has no email") }
        return GoogleIdentity(email: email, hostedDomain: claims["hd"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }

    // MARK: Directory API

    /// Every item of a Directory API list (`users`, `groups`, `members`), page after page
    /// while the answer has a `nextPageToken`.
    func listAll(_ path: String, _ query: [(String, String)], itemsKey: String, accessToken: String) throws(GoogleError) -> [JSONValue] {
        var items: [JSONValue] = []
        var pageToken: String?
        var pages = 0
        repeat {
            var q = query
            if let pageToken { q.append(("pageToken", pageToken)) }
            let url = configuration.apiBaseURL.trimmingSuffix("/") + "/admin/directory/v1/" + path + "?" + Self.form(q)
            let page = try getJSON(url, accessToken: accessToken)
            items += page[itemsKey]?.arrayValue ?? []
            pageToken = page["nextPageToken"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            pages += 1
            // A server that hands out the same token for ever would otherwise loop for ever.
            if pages > 100_000 { throw .badAnswer("more than 100,000 pages of \(itemsKey)") }
        } while pageToken != nil
        return items
    }

    /// A GET of the Directory API with the access token: retried with backoff on `429`,
    /// `403 rateLimitExceeded`/`userRateLimitExceeded` and `5xx`, honoring `Retry-After`.
    func getJSON(_ url: String, accessToken: String) throws(GoogleError) -> JSONValue {
        var attempt = 0
        while true {
            let response = try send("GET", url, headers: ["Authorization": "Bearer " + accessToken, "Accept": "application/json"], body: nil)
            if response.status == 200 {
                guard let json = try? JSONParser.parse(response.body, maxDepth: 64), json.objectValue != nil else {
                    throw .badAnswer("a Directory API answer is not a JSON object")
                }
                return json
            }
            let error = (try? JSONParser.parse(response.body, maxDepth: 16))?["error"]
            let reason = error?["errors"]?.arrayValue?.first?["reason"]?.stringValue ?? ""
            let message = String((error?["message"]?.stringValue ?? "").prefix(300))
            let retryable = response.status == 429 || response.status >= 500
                || (response.status == 403 && (reason == "rateLimitExceeded" || reason == "userRateLimitExceeded"))
            guard retryable else { throw .api(status: response.status, reason: reason, message: message) }
            guard attempt < configuration.maxRetries else {
                if response.status >= 500 { throw .api(status: response.status, reason: reason, message: message) }
                throw .rateLimited(attempts: attempt + 1)
            }
            let wait = Self.retryAfter(response.headers["retry-after"], now: Date()) ?? backoff(attempt)
            guard sleep(min(wait, configuration.backoffCap)) else { throw .stopped }
            attempt += 1
        }
    }

    /// `backoffBase × 2^attempt`, plus up to a quarter of it at random (so hubs do not retry in step).
    func backoff(_ attempt: Int) -> Duration {
        let base = configuration.backoffBase * (1 << min(attempt, 16))
        let jitter = Double(SecureRandom.bytes(1)[0]) / 1020
        return min(base + base * jitter, configuration.backoffCap)
    }

    /// `Retry-After` as seconds or as an HTTP date (RFC 9110 10.2.3); `nil` when absent or unreadable.
    static func retryAfter(_ value: String?, now: Date) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 { return .seconds(seconds) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: value) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSince(now) * 1000)))
    }

    private func send(_ method: String, _ url: String, headers: [String: String], body: [UInt8]?) throws(GoogleError) -> HTTPClientResponse {
        onRequest(method + " " + (url.split(separator: "?").first.map(String.init) ?? url))
        do {
            return try http.send(method: method, url: url, headers: headers, body: body)
        } catch {
            throw .transport(error.description)
        }
    }

    /// `application/x-www-form-urlencoded` (also a query string): unreserved characters kept, the rest %XX.
    static func form(_ fields: [(String, String)]) -> String {
        fields.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(decoding: [Hex.digit(b >> 4, uppercase: true), Hex.digit(b & 0xF, uppercase: true)], as: UTF8.self)
            }
        }
        return out
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var s = self
        while s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        return s
    }
}
