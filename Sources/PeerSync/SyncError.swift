import Replica

/// Why a sync with a peer failed, as one line a person can act on.
///
/// Messages name the peer (`peer "hub"`) when the sync was started by name,
/// else its URL.
public enum SyncError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The URL is not an absolute `http://` or `https://` URL; nothing was sent.
    case invalidURL(String)
    /// Nothing answered: connection refused, unknown host, network down.
    case unreachable(peer: String?, url: String, reason: String)
    /// The connection could not be set up as asked: TLS against a plain-HTTP
    /// peer or the reverse, an untrusted certificate.
    case transport(peer: String?, url: String, reason: String)
    /// The peer did not answer in time.
    case timedOut(peer: String?, url: String, reason: String)
    /// The peer answered 401: the token is wrong, or none was given.
    case unauthorized(peer: String?, url: String, tokenGiven: Bool)
    /// Something answers at the URL, but it does not speak the setuplink peer protocol.
    case notAPeer(url: String, reason: String)
    /// The peer refused a request, with its status and its `error` text.
    case peerError(peer: String?, url: String, status: Int, message: String)
    /// The peer's answer was malformed (mid-sync, after it identified itself as a setuplink peer).
    case invalidAnswer(peer: String?, url: String, reason: String)
    /// A page from the peer cannot be merged here (e.g. a record of another kind under a local id); that page was not applied.
    case refusedChanges(peer: String?, url: String, reason: String)
    /// A claim about some replica's writes was a lie, said by the peer (a 409 with
    /// `corrections`) or seen here: the sync learns the corrections, drops the lie and
    /// runs again; this is the error only when rounds of that did not settle it.
    case corrected(peer: String?, url: String, reason: String, corrections: Corrections)
    /// The local replica failed.
    case local(String)
    /// The user cancelled the sync (Ctrl-C); pages already applied stay applied.
    case cancelled(peer: String?, url: String)

    /// One sentence, e.g. `peer "hub" unreachable at http://hub:8080: connection refused`.
    public var description: String {
        switch self {
        case .invalidURL(let url):
            return "invalid peer URL \"\(url)\": expected an absolute http:// or https:// URL"
        case let .unreachable(peer, url, reason):
            if let peer { return "peer \"\(peer)\" unreachable at \(url): \(reason)" }
            return "peer at \(url) unreachable: \(reason)"
        case let .transport(peer, url, reason):
            if let peer { return "peer \"\(peer)\" at \(url): \(reason)" }
            return "peer at \(url): \(reason)"
        case let .timedOut(peer, url, reason):
            if let peer { return "peer \"\(peer)\" at \(url) did not answer: \(reason)" }
            return "peer at \(url) did not answer: \(reason)"
        case let .unauthorized(peer, url, tokenGiven):
            let who = Self.label(peer, url)
            return tokenGiven
                ? "\(who) rejected the token (401); check the token it was started with"
                : "\(who) requires a token (401); give it with --token-file FILE or SETUPLINK_TOKEN"
        case let .notAPeer(url, reason):
            return "\(url) is not a setuplink peer (\(reason))"
        case let .peerError(peer, url, status, message):
            return "\(Self.label(peer, url)) answered \(status): \(message)"
        case let .invalidAnswer(peer, url, reason):
            return "\(Self.label(peer, url)) sent an invalid answer: \(reason)"
        case let .refusedChanges(peer, url, reason):
            return "changes from \(Self.label(peer, url)) cannot be merged here (that page was not applied): \(reason)"
        case let .corrected(peer, url, reason, _):
            return "\(Self.label(peer, url)) and this replica still disagree about how many writes a replica made, "
                + "after exchanging corrections: \(reason)"
        case .local(let message):
            return "local replica: \(message)"
        case let .cancelled(peer, url):
            return "sync with \(Self.label(peer, url)) cancelled; what was already received is kept, and the next sync continues from there"
        }
    }

    /// `peer "hub"`, or `peer at URL` when the sync was started with a URL.
    static func label(_ peer: String?, _ url: String) -> String {
        peer.map { "peer \"\($0)\"" } ?? "peer at \(url)"
    }
}
