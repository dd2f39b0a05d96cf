import Dates
import Foundation
import Replica

/// The directory types a tenant can create, with their labels (SetupLinks.docc/LinksAndDirectories.md).
public enum DirectoryType: String, CaseIterable, Sendable {
    /// Entra ID SCIM v2.0, the default.
    case azure = "azure-scim-v2"
    /// Okta SCIM v2.0.
    case okta = "okta-scim-v2"
    /// OneLogin SCIM v2.0.
    case onelogin = "onelogin-scim-v2"
    /// JumpCloud v2.0.
    case jumpcloud = "jumpcloud-scim-v2"
    /// Generic SCIM v2.0.
    case generic = "generic-scim-v2"
    /// Google (no SCIM endpoint or token).
    case google = "google"

    /// The label shown to people.
    public var label: String {
        switch self {
        case .azure: return "Entra ID SCIM v2.0"
        case .okta: return "Okta SCIM v2.0"
        case .onelogin: return "OneLogin SCIM v2.0"
        case .jumpcloud: return "JumpCloud v2.0"
        case .generic: return "Generic SCIM v2.0"
        case .google: return "Google"
        }
    }

    /// Whether the type has a SCIM endpoint and token.
    public var usesSCIM: Bool { self != .google }
}

/// A setup link as users see it, read from its record.
public struct SetupLink: Sendable, Equatable {
    /// Deterministic id: a hash of tenant, product and `dsync`.
    public var id: String
    /// The tenant (customer company).
    public var tenant: String
    /// The product.
    public var product: String
    /// Optional display name.
    public var name: String?
    /// Where directory events are sent.
    public var webhookURL: String
    /// The webhook signing secret.
    public var webhookSecret: String
    /// 48 hex characters from the CSPRNG.
    public var token: String
    /// When the link stops working.
    public var validTill: Date
    /// The number of days a (re)generated token stays valid.
    public var expiryDays: Int
    /// Tokens that lost a concurrent regenerate (conflicts); they do not work.
    public var conflictingTokens: [String]

    /// `<external-url>/setup/<token>`.
    public func url(externalURL: String) -> String { externalURL + "/setup/" + token }

    /// `active` or `expired`, by the local clock.
    public func status(now: Date) -> String { validTill > now ? "active" : "expired" }

    /// Whether the link has expired.
    public func isExpired(now: Date) -> Bool { validTill <= now }

    /// The link a live link record holds, or `nil`.
    public init?(record r: Record) {
        guard r.isLive else { return nil }
        self.init(r)
    }

    init?(_ r: Record) {
        guard r.kind == .link, let tenant = r["tenant"], let product = r["product"], let token = r["token"],
              let till = r["valid_till"].flatMap(DateTime.date) else { return nil }
        id = r.id
        self.tenant = tenant
        self.product = product
        name = r["name"].flatMap { $0.isEmpty ? nil : $0 }
        webhookURL = r["webhook_url"] ?? ""
        webhookSecret = r["webhook_secret"] ?? ""
        self.token = token
        validTill = till
        expiryDays = r["expiry_days"].flatMap { Int($0) } ?? SetupLinkService.defaultExpiryDays
        // A concurrent write of the same value is not a conflict.
        conflictingTokens = r.register("token")?.losers.map(\.value).filter { $0 != token } ?? []
    }
}

/// A directory (a SCIM connection) as users see it, read from its record.
public struct Directory: Sendable, Equatable {
    /// A random UUID.
    public var id: String
    /// The link's name, else `scim-<tenant>-<product>`.
    public var name: String
    /// Copied from the setup link.
    public var tenant: String
    /// Copied from the setup link.
    public var product: String
    /// Copied from the setup link.
    public var webhookURL: String
    /// Copied from the setup link.
    public var webhookSecret: String
    /// The provider type.
    public var type: DirectoryType
    /// `/api/scim/v2.0/<id>`, empty for Google.
    public var scimPath: String
    /// 22 characters of base64url (16 CSPRNG bytes), empty for Google.
    public var scimToken: String
    /// Whether the directory is deactivated.
    public var deactivated: Bool
    /// When it was created (the `created` field); `nil` for directories written before the field existed.
    public var created: Date?
    /// Whether the hub that sends a webhook records its outcome in the event (Jackson's
    /// `log_webhook_events`; the app API's event list shows it).
    public var logWebhookEvents: Bool

    /// `active` or `inactive`.
    public var status: String { deactivated ? "inactive" : "active" }

    /// The SCIM endpoint under the external URL; Entra ID's gets `/?aadOptscim062020`; empty for Google.
    public func scimEndpoint(externalURL: String) -> String {
        guard type.usesSCIM else { return "" }
        return externalURL + scimPath + (type == .azure ? "/?aadOptscim062020" : "")
    }

    init?(_ r: Record) {
        guard r.kind == .directory, let tenant = r["tenant"], let product = r["product"],
              let type = r["type"].flatMap(DirectoryType.init(rawValue:)) else { return nil }
        id = r.id
        name = r["name"] ?? ""
        self.tenant = tenant
        self.product = product
        webhookURL = r["webhook_url"] ?? ""
        webhookSecret = r["webhook_secret"] ?? ""
        self.type = type
        scimPath = r["scim_path"] ?? ""
        scimToken = r["scim_token"] ?? ""
        deactivated = r["deactivated"] == "true"
        created = r["created"].flatMap(DateTime.date)
        logWebhookEvents = r["log_webhook_events"] == "true"
    }
}
