import Bytes
import Crypto

/// The per-page CSRF token of the setup page: HMAC-SHA256 of the link's token
/// under a secret this replica keeps to itself.
///
/// Why derived rather than stored: the page needs no session, cookie or
/// table; a page's token is the same on every load, so two tabs of one page
/// both work; it is bound to one link token, so another page's token (or the
/// page's own from before a regenerate) is refused; and it reveals nothing
/// about the secret or the link token. The secret is 32 CSPRNG bytes stored
/// as a local (not replicated) setting, so a page loaded from one replica
/// posts to that replica.
struct CSRFGuard: Sendable {
    /// The HMAC key.
    private let secret: [UInt8]

    /// A guard with `secret` as its key (at least 16 bytes).
    init(secret: [UInt8]) {
        precondition(secret.count >= 16, "a CSRF secret needs at least 16 bytes")
        self.secret = secret
    }

    /// The token for the page of the link whose token is `linkToken`
    /// (lowercased first: the page opens whatever the case typed):
    /// 32 bytes of HMAC as base64url without padding (43 characters).
    func token(forLinkToken linkToken: String) -> String {
        let message = Array(("setuplink setup page csrf v1\u{0}" + linkToken.lowercased()).utf8)
        return Base64URL.encode(HMACSHA256.mac(key: secret, message))
    }

    /// Whether `candidate` is the token of that page, compared in constant time.
    func verify(_ candidate: String?, forLinkToken linkToken: String) -> Bool {
        guard let candidate else { return false }
        return constantTimeEquals(Array(candidate.utf8), Array(token(forLinkToken: linkToken).utf8))
    }
}
