import Foundation

/// What went wrong in an admin or tenant flow, as one sentence for the user.
public enum SetupLinkError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A value the user gave is not acceptable; the message names it.
    case invalid(String)
    /// No link with this id.
    case unknownLink(String)
    /// No directory with this id on the open setup page (or not one this tenant may see).
    case unknownDirectory(String)
    /// No directory with this id on the replica (admin view).
    case noDirectory(String)
    /// An abbreviated id that starts several ids of one kind (`link`, `directory`); a few of them.
    case ambiguousID(kind: String, prefix: String, candidates: [String])
    /// The token or URL opened matches no live link (unknown, regenerated or deleted).
    case setupLinkNotFound
    /// The link has expired.
    case setupLinkExpired
    /// Several live links hold the token (copies a peer sent): none of them opens until regenerated.
    case sharedToken(Int)
    /// A tenant command with no setup page open.
    case noPageOpen
    /// The setup link's tenant and product already have this many live directories, the most allowed.
    case directoryQuota(Int)

    /// Appended to the setup-link errors a tenant sees.
    public static let contactAdmin = "Please contact your administrator to get a new setup link."

    /// How many candidates an ambiguous-id message names.
    public static let candidatesShown = 5

    /// The sentence.
    public var description: String {
        switch self {
        case .invalid(let s): return s
        case .unknownLink(let id): return "no setup link with id \(id) (see: link list)"
        case .unknownDirectory(let id): return "no directory with id \(id) on this setup page (see: directory list)"
        case .noDirectory(let id): return "no directory with id \(id) (see: directory list)"
        case let .ambiguousID(kind, prefix, candidates):
            let shown = candidates.prefix(Self.candidatesShown).joined(separator: ", ")
            let more = candidates.count > Self.candidatesShown ? ", …" : ""
            return "\(kind) id \(prefix) is ambiguous: it starts \(shown)\(more) (type more of the id)"
        case .setupLinkNotFound: return "Setup link is not found. " + Self.contactAdmin
        case .setupLinkExpired: return "Setup link is expired. " + Self.contactAdmin
        case .sharedToken(let n):
            return "Setup link is not found: its token is held by \(n) setup links (copies a peer sent), so it opens none of them "
                + "until an administrator regenerates them. " + Self.contactAdmin
        case .noPageOpen: return "no setup page is open (open a setup link first: open URL|TOKEN)"
        case .directoryQuota(let n):
            return "This setup link already has \(n) directories, the most it may have; delete one to make another, "
                + "or ask your administrator to raise the limit."
        }
    }
}
