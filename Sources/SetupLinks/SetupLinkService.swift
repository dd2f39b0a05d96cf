import Foundation
import Replica
import Storage

/// The admin and tenant flows of SPEC §1 and §3 on one local replica, with no network.
///
/// Every change is one local transaction of the replica, so it is durable when
/// the call returns and replicates to peers on the next sync. `url` and
/// `scim_endpoint` are derived from the external URL when shown, never stored,
/// so replicas configured differently still agree on every record.
public final class SetupLinkService: @unchecked Sendable {
    // @unchecked Sendable: the only state is the store (itself thread-safe) and immutable configuration.

    /// Days a link stays valid when neither the link nor the replica says otherwise.
    public static let defaultExpiryDays = 3
    /// The external URL when neither the flag nor the environment sets one.
    public static let defaultExternalURL = "http://localhost:8080"
    /// The service name that, with tenant and product, determines a link's id.
    public static let service = "dsync"

    /// The replica.
    public let store: ReplicaStore
    /// The base URL used in setup links and SCIM endpoints (no trailing slash).
    public let externalURL: String
    /// The clock used for expiry; tests may pin it.
    public var now: @Sendable () -> Date

    /// The secondary indexes the flows query; installed on every store a service uses.
    public static let indexes: [IndexSpec] = [
        // A live link by its token; tokens are hex, matched whatever the case typed.
        .field("link.token", kind: .link, field: "token", transform: { $0.lowercased() }),
        // Links in tenant, product order: filters and streaming lists.
        IndexSpec(name: "link.tenant", kind: .link, fields: ["tenant", "product"]) { v in
            [(v[0] ?? "") + IndexSpec.separator + (v[1] ?? "")]
        },
        // Directories in tenant, product, name order.
        IndexSpec(name: "directory.tenant", kind: .directory, fields: ["tenant", "product", "name"]) { v in
            [(v[0] ?? "") + IndexSpec.separator + (v[1] ?? "") + IndexSpec.separator + (v[2] ?? "")]
        },
    ]

    /// Opens (or creates) the replica file at `path` with the flows' indexes installed.
    public static func openStore(path: String) throws -> ReplicaStore {
        try ReplicaStore(path: path, indexes: indexes)
    }

    /// A service over `store`; `externalURL` must be an absolute http(s) URL.
    ///
    /// Installs the flows' indexes on `store` (a no-op when it has them already).
    public init(store: ReplicaStore, externalURL: String = SetupLinkService.defaultExternalURL,
                now: @escaping @Sendable () -> Date = { Date() }) throws {
        guard Validation.isHTTPURL(externalURL) else {
            throw SetupLinkError.invalid("external URL \"\(externalURL)\" is not an absolute http(s) URL")
        }
        try store.installIndexes(Self.indexes)
        self.store = store
        var u = externalURL
        while u.hasSuffix("/") { u.removeLast() }
        self.externalURL = u
        self.now = now
    }

    /// The deterministic id of the link for a tenant and product: SHA-256 of `tenant:product:dsync`, first 32 hex digits.
    public static func linkID(tenant: String, product: String) -> String {
        String(SHA256Hasher.hex(of: "\(tenant):\(product):\(service)").prefix(32))
    }

    /// The replica's default expiry in days (setting `default-expiry-days`, else 3).
    public func replicaExpiryDays() throws -> Int {
        try store.setting("default-expiry-days").flatMap { Int($0) } ?? Self.defaultExpiryDays
    }

    /// Sets the replica's default expiry in days.
    public func setReplicaExpiryDays(_ days: Int) throws {
        try Validation.expiryDays(String(days))
        try store.setSetting("default-expiry-days", String(days))
    }

    // MARK: Admin flow

    /// What `createLink` did.
    public enum CreateOutcome: String, Sendable {
        /// A new link.
        case created
        /// A live, unexpired link existed and was returned unchanged.
        case existing
        /// The link existed (expired, or `regenerate` asked) and got a new token and validity.
        case regenerated
    }

    /// Creates the setup link for a tenant and product, or returns the existing one.
    ///
    /// One link per tenant+product: if a live unexpired link exists it is returned
    /// unchanged, unless `regenerate`. An expired one gets a new token and a new
    /// `valid_till` under the same id. A deleted one is created again.
    public func createLink(tenant: String, product: String, webhookURL: String, webhookSecret: String,
                           name: String? = nil, expiryDays: Int? = nil, regenerate: Bool = false) throws -> (SetupLink, CreateOutcome) {
        try Validation.tenantOrProduct(tenant, what: "tenant")
        try Validation.tenantOrProduct(product, what: "product")
        try Validation.webhookURL(webhookURL)
        guard !webhookSecret.isEmpty else { throw SetupLinkError.invalid("webhook secret must not be empty") }
        if let name { try Validation.name(name) }
        let days = try expiryDays ?? replicaExpiryDays()
        try Validation.expiryDays(String(days))
        let id = Self.linkID(tenant: tenant, product: product)
        let now = self.now()
        return try store.write { tx in
            let existing = try tx.record(id)
            let live = existing.flatMap { $0.isLive ? SetupLink($0) : nil }
            if let live, !regenerate, !live.isExpired(now: now) {
                return (live, .existing)
            }
            var values = [
                "tenant": tenant, "product": product, "webhook_url": webhookURL, "webhook_secret": webhookSecret,
                "token": Secrets.linkToken(), "valid_till": Timestamps.format(now.addingTimeInterval(Double(days) * 86_400)),
                "expiry_days": String(days), "service": Self.service,
            ]
            if let name { values["name"] = name } else if live == nil { values["name"] = "" }
            let r = try tx.write(id: id, kind: .link, values, revive: live == nil)
            return (SetupLink(r)!, live == nil ? .created : .regenerated)
        }
    }

    /// Live links, sorted by tenant then product (as UTF-8 bytes), optionally filtered;
    /// answered from the `link.tenant` index.
    public func links(tenant: String? = nil, product: String? = nil) throws -> [SetupLink] {
        var prefix = ""
        if let tenant {
            prefix = tenant + IndexSpec.separator
            if let product { prefix += product }
        }
        var out: [SetupLink] = []
        var cursor: IndexCursor?
        while true {
            let page = try store.scan("link.tenant", prefix: prefix, after: cursor, limit: 1000)
            for e in page {
                guard let l = SetupLink(e.record) else { continue }
                if let product, l.product != product { continue }
                out.append(l)
            }
            guard page.count == 1000, let last = page.last else { return out }
            cursor = last.cursor
        }
    }

    /// One live link by id.
    public func link(id: String) throws -> SetupLink {
        guard let r = try store.record(id: id), r.isLive, let l = SetupLink(r) else { throw SetupLinkError.unknownLink(id) }
        return l
    }

    /// Issues a new token and validity; the old token stops working at once.
    public func regenerateLink(id: String) throws -> SetupLink {
        let now = self.now()
        return try store.write { tx in
            guard let r = try tx.record(id), r.isLive, let l = SetupLink(r) else { throw SetupLinkError.unknownLink(id) }
            let updated = try tx.write(id: id, kind: .link, [
                "token": Secrets.linkToken(),
                "valid_till": Timestamps.format(now.addingTimeInterval(Double(l.expiryDays) * 86_400)),
            ])
            return SetupLink(updated)!
        }
    }

    /// Deletes a link; its token stops working; directories created through it stay.
    public func deleteLink(id: String) throws {
        try store.write { tx in
            guard let r = try tx.record(id), r.isLive else { throw SetupLinkError.unknownLink(id) }
            try tx.delete(id: id)
        }
    }

    /// Live directories, sorted by tenant, product, name (as UTF-8 bytes), optionally filtered;
    /// answered from the `directory.tenant` index.
    public func directories(tenant: String? = nil, product: String? = nil) throws -> [Directory] {
        var prefix = ""
        if let tenant {
            prefix = tenant + IndexSpec.separator
            if let product { prefix += product + IndexSpec.separator }
        }
        var out: [Directory] = []
        var cursor: IndexCursor?
        while true {
            let page = try store.scan("directory.tenant", prefix: prefix, after: cursor, limit: 1000)
            for e in page {
                guard let d = Directory(e.record) else { continue }
                if let product, d.product != product { continue }
                out.append(d)
            }
            guard page.count == 1000, let last = page.last else { return out }
            cursor = last.cursor
        }
    }

    /// One live directory by id (admin view: any tenant).
    public func directory(id: String) throws -> Directory {
        guard let r = try store.record(id: id), r.isLive, let d = Directory(r) else { throw SetupLinkError.unknownDirectory(id) }
        return d
    }

    // MARK: Tenant flow

    /// Extracts the token from a setup URL (`…/setup/<token>`) or takes a bare token.
    public static func token(fromURLOrToken s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if let q = t.firstIndex(where: { $0 == "?" || $0 == "#" }) { t = String(t[..<q]) }
        while t.hasSuffix("/") { t.removeLast() }
        if let r = t.range(of: "/setup/", options: .backwards) { return String(t[r.upperBound...]) }
        return t
    }

    /// Opens the setup page of a link by its URL or token.
    ///
    /// An unknown, regenerated or deleted token is "Setup link is not found"; an
    /// expired one "Setup link is expired".
    public func open(_ urlOrToken: String) throws -> TenantPage {
        let token = Self.token(fromURLOrToken: urlOrToken)
        guard !token.isEmpty, let r = try store.lookup("link.token", key: token.lowercased()).first, let link = SetupLink(r) else {
            throw SetupLinkError.setupLinkNotFound
        }
        guard !link.isExpired(now: now()) else { throw SetupLinkError.setupLinkExpired }
        return TenantPage(service: self, token: token, link: link)
    }

    /// The provider types, id and label.
    public var providers: [DirectoryType] { DirectoryType.allCases }
}

/// A tenant's setup page: everything a tenant can do through one setup link.
///
/// Every call checks the token again, so a link regenerated, deleted or expired
/// after the page was opened stops working at once.
public struct TenantPage: Sendable {
    let service: SetupLinkService
    /// The token the page was opened with.
    public let token: String
    /// The link as it was when opened.
    public let link: SetupLink

    /// The link, checked again: fails if the token no longer works.
    public func currentLink() throws -> SetupLink {
        guard let r = try service.store.lookup("link.token", key: token.lowercased()).first, let l = SetupLink(r) else {
            throw SetupLinkError.setupLinkNotFound
        }
        guard !l.isExpired(now: service.now()) else { throw SetupLinkError.setupLinkExpired }
        return l
    }

    /// This tenant+product's live directories.
    public func directories() throws -> [Directory] {
        let l = try currentLink()
        return try service.directories(tenant: l.tenant, product: l.product)
    }

    /// One of this tenant+product's directories; another tenant's is refused as unknown.
    public func directory(id: String) throws -> Directory {
        let l = try currentLink()
        guard let r = try service.store.record(id: id), r.isLive, let d = Directory(r),
              d.tenant == l.tenant, d.product == l.product else { throw SetupLinkError.unknownDirectory(id) }
        return d
    }

    /// Creates a directory of `type` with a fresh SCIM token (none for Google),
    /// named `name` (trimmed) or, when that is nil or blank, after the link.
    public func createDirectory(type: DirectoryType = .azure, name: String? = nil) throws -> Directory {
        let l = try currentLink()
        let id = Secrets.uuid()
        let given = name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if !given.isEmpty { try Validation.name(given) }
        let name = given.isEmpty ? (l.name ?? "scim-\(l.tenant)-\(l.product)") : given
        let created = Timestamps.format(service.now())
        return try service.store.write { tx in
            let r = try tx.write(id: id, kind: .directory, [
                "name": name, "tenant": l.tenant, "product": l.product,
                "webhook_url": l.webhookURL, "webhook_secret": l.webhookSecret,
                "type": type.rawValue,
                "scim_path": type.usesSCIM ? "/api/scim/v2.0/\(id)" : "",
                "scim_token": type.usesSCIM ? Secrets.scimToken() : "",
                "deactivated": "false",
                "link_id": l.id,
                "created": created,
            ], revive: true)
            return Directory(r)!
        }
    }

    /// Activates or deactivates one of this tenant's directories.
    @discardableResult
    public func setDeactivated(_ deactivated: Bool, id: String) throws -> Directory {
        _ = try directory(id: id)
        return try service.store.write { tx in
            Directory(try tx.write(id: id, kind: .directory, ["deactivated": deactivated ? "true" : "false"]))!
        }
    }

    /// Deletes one of this tenant's directories.
    public func deleteDirectory(id: String) throws {
        _ = try directory(id: id)
        try service.store.write { tx in try tx.delete(id: id) }
    }
}
