import Crypto
import Dates
import Foundation
import Synchronization
import Replica
import Storage

/// The admin and tenant flows (SetupLinks.docc/LinksAndDirectories.md) on one local replica, with no network.
///
/// Every change is one local transaction of the replica, so it is durable when
/// the call returns and replicates to peers on the next sync. `url` and
/// `scim_endpoint` are derived from the external URL when shown, never stored,
/// so replicas configured differently still agree on every record.
public final class SetupLinkService: @unchecked Sendable {
    // @unchecked Sendable: the state is the store (itself thread-safe), the external URL behind
    // a mutex, and `now`, which is set once before the service is shared.

    /// Days a link stays valid when neither the link nor the replica says otherwise.
    public static let defaultExpiryDays = 3
    /// The external URL when neither the flag nor the environment sets one.
    public static let defaultExternalURL = "http://localhost:8080"
    /// The service name that, with tenant and product, determines a link's id.
    public static let service = "dsync"

    /// The replica.
    public let store: ReplicaStore
    /// The base URL used in setup links and SCIM endpoints (no trailing slash).
    public var externalURL: String { external.withLock { $0 } }

    private let external: Mutex<String>
    /// The clock used for expiry; tests may pin it.
    public var now: @Sendable () -> Date

    /// The secondary indexes the flows query, SCIM's included: one set, installed on every
    /// store a service uses (a store opened with another set would rebuild its keys).
    public static let indexes: [IndexSpec] = [
        // A live link by its token; tokens are hex, matched whatever the case typed.
        IndexSpec(name: "link.token", kind: .link, joining: ["token"], missing: .noKeyIfMissing, lowercased: true),
        // Links in tenant, product order: filters and streaming lists.
        IndexSpec(name: "link.tenant", kind: .link, joining: ["tenant", "product"]),
        // Directories in tenant, product, name order.
        IndexSpec(name: "directory.tenant", kind: .directory, joining: ["tenant", "product", "name"]),
        // Links in product, tenant order: `link list --product P` without a tenant.
        IndexSpec(name: "link.product", kind: .link, joining: ["product", "tenant"]),
        // Directories in product, tenant, name order: `directory list --product P` without a tenant.
        IndexSpec(name: "directory.product", kind: .directory, joining: ["product", "tenant", "name"]),
        // A directory's events in the order this replica stored them (the change feed).
        EventRecords.index,
        // API keys by name (`api-key revoke NAME`).
        ApiKeys.index,
    ] + ScimIndex.specs

    /// Opens (or creates) the replica file at `path` with the flows' indexes and rules installed.
    public static func openStore(path: String) throws -> ReplicaStore {
        let store = try ReplicaStore(path: path, indexes: indexes)
        store.installRules(RecordRules.all)
        return store
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
        store.installRules(RecordRules.all)
        self.store = store
        self.external = Mutex(Self.normalized(externalURL))
        self.now = now
    }

    /// `url` without trailing slashes.
    static func normalized(_ url: String) -> String {
        var u = Validation.trimmed(url)
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    /// Uses `url` (an absolute http(s) URL) as the external URL from now on, in this process.
    public func useExternalURL(_ url: String) throws {
        guard Validation.isHTTPURL(Validation.trimmed(url)) else {
            throw SetupLinkError.invalid("external URL \"\(url)\" is not an absolute http(s) URL (like https://sso.example.com)")
        }
        external.withLock { $0 = Self.normalized(url) }
    }

    /// The external URL stored with this replica (`config external-url`), if any: a local
    /// setting, used when neither `--external-url` nor `SETUPLINK_EXTERNAL_URL` is given.
    public func storedExternalURL() throws -> String? {
        try store.settings.value("external-url").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Stores (or, with `nil`, removes) this replica's external URL setting.
    /// - Returns: Whether the setting changed.
    @discardableResult
    public func setStoredExternalURL(_ url: String?) throws -> Bool {
        let value = try url.map { raw -> String in
            let u = Self.normalized(raw)
            guard Validation.isHTTPURL(u) else {
                throw SetupLinkError.invalid("external URL \"\(raw)\" is not an absolute http(s) URL (like https://sso.example.com)")
            }
            return u
        }
        guard try storedExternalURL() != value else { return false }
        try store.settings.set("external-url", to: value)
        return true
    }

    /// The deterministic id of the link for a tenant and product: SHA-256 of `tenant:product:dsync`, first 32 hex digits.
    public static func linkID(tenant: String, product: String) -> String {
        String(SHA256Hasher.hex(of: "\(tenant):\(product):\(service)").prefix(32))
    }

    /// The most live directories one setup link's tenant and product may have, unless the
    /// replica's `max-directories-per-link` setting says otherwise.
    public static let defaultMaxDirectoriesPerLink = 20

    /// The most live directories a tenant may make through one setup link (setting
    /// `max-directories-per-link`, else 20). The admin and the app API are not limited.
    public func maxDirectoriesPerLink() throws -> Int {
        try store.settings.value("max-directories-per-link").flatMap { Int($0) } ?? Self.defaultMaxDirectoriesPerLink
    }

    /// Sets `max-directories-per-link` (1 to 10,000).
    /// - Returns: Whether the setting changed.
    @discardableResult
    public func setMaxDirectoriesPerLink(_ limit: Int) throws -> Bool {
        guard (1...10_000).contains(limit) else {
            throw SetupLinkError.invalid("max-directories-per-link must be a whole number from 1 to 10000, not \(limit)")
        }
        guard try store.settings.value("max-directories-per-link") != String(limit) else { return false }
        try store.settings.set("max-directories-per-link", to: String(limit))
        return true
    }

    /// The replica's default expiry in days (setting `default-expiry-days`, else 3).
    public func replicaExpiryDays() throws -> Int {
        try store.settings.value("default-expiry-days").flatMap { Int($0) } ?? Self.defaultExpiryDays
    }

    /// Sets the replica's default expiry in days.
    /// - Returns: Whether the setting changed.
    @discardableResult
    public func setReplicaExpiryDays(_ days: Int) throws -> Bool {
        try Validation.expiryDays(String(days))
        guard try store.settings.value("default-expiry-days") != String(days) else { return false }
        try store.settings.set("default-expiry-days", to: String(days))
        return true
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
    /// `valid_till` under the same id. A deleted one is created again. Every text
    /// value is trimmed first (see `Validation`); blank values are refused.
    public func createLink(tenant rawTenant: String, product rawProduct: String, webhookURL rawURL: String,
                           webhookSecret rawSecret: String, name rawName: String? = nil, expiryDays: Int? = nil,
                           regenerate: Bool = false) throws -> (SetupLink, CreateOutcome) {
        let tenant = try Validation.tenantOrProduct(rawTenant, what: "tenant")
        let product = try Validation.tenantOrProduct(rawProduct, what: "product")
        let webhookURL = try Validation.webhookURL(rawURL)
        let webhookSecret = try Validation.secret(rawSecret)
        let name = try rawName.map { try Validation.name($0) }
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
                "token": Secrets.linkToken(), "valid_till": DateTime.format(now.addingTimeInterval(Double(days) * 86_400), .seconds),
                "expiry_days": String(days), "service": Self.service,
            ]
            if let name { values["name"] = name } else if live == nil { values["name"] = "" }
            if let live { try Self.retire(live.token, of: id, in: tx) }
            let r = try tx.write(id: id, kind: .link, values, revive: live == nil)
            return (SetupLink(r)!, live == nil ? .created : .regenerated)
        }
    }

    /// Changes a live link's name, webhook URL or webhook secret (`nil` leaves a field as it is).
    ///
    /// Values equal to the current ones are not written, so an update that changes
    /// nothing is no change at all: no new dot, nothing to sync. A new webhook URL
    /// or secret is also written, in the same transaction, to every live directory
    /// created through the link (its `link_id`), so their events — those still
    /// waiting in a hub's outbox included — go to the new URL signed with the new
    /// secret; directories created afterwards copy the new values too.
    /// - Returns: The link, the link fields that changed (empty when nothing did),
    ///   and the ids of the directories whose webhook changed.
    public func updateLink(id typed: String, name rawName: String? = nil, webhookURL rawURL: String? = nil,
                           webhookSecret rawSecret: String? = nil) throws -> (SetupLink, changed: [String], directories: [String]) {
        let name = try rawName.map { try Validation.name($0) }
        let url = try rawURL.map { try Validation.webhookURL($0) }
        let secret = try rawSecret.map { try Validation.secret($0) }
        let id = try resolveLinkID(typed)
        return try store.write { tx in
            guard let r = try tx.record(id), r.isLive, let l = SetupLink(r) else { throw SetupLinkError.unknownLink(id) }
            var values: [String: String] = [:]
            if let name, name != (l.name ?? "") { values["name"] = name }
            if let url, url != l.webhookURL { values["webhook_url"] = url }
            if let secret, secret != l.webhookSecret { values["webhook_secret"] = secret }
            guard !values.isEmpty else { return (l, [], []) }
            let updated = try tx.write(id: id, kind: .link, values)
            let directories = try updateDirectoryWebhooks(of: l, url: url, secret: secret, in: tx)
            return (SetupLink(updated)!, values.keys.sorted(), directories)
        }
    }

    /// Writes a link's new webhook URL and secret to its live directories, in `tx`;
    /// returns the ids of those that changed.
    ///
    /// A link's id is derived from its tenant and product, so its directories are
    /// found by the tenant/product index and recognised by their `link_id`
    /// (directories written before `link_id` existed have none: one link per
    /// tenant and product means they came through this one).
    private func updateDirectoryWebhooks(of l: SetupLink, url: String?, secret: String?,
                                         in tx: LocalTransaction) throws -> [String] {
        guard url != nil || secret != nil else { return [] }
        let sep = IndexSpec.separator
        var changed: [String] = []
        var cursor: IndexCursor?
        repeat {
            // The store's connection sees this transaction's writes, so the scan is consistent with it.
            let page = try store.scan("directory.tenant", prefix: l.tenant + sep + l.product + sep, after: cursor, limit: 500)
            for e in page {
                let d = e.record
                // `link_id` empty: made through the app API, with a webhook of its own.
                guard d.kind == .directory, d.isLive, d["link_id"] == nil || d["link_id"] == l.id,
                      d["tenant"] == l.tenant, d["product"] == l.product else { continue }
                var values: [String: String] = [:]
                if let url, d["webhook_url"] != url { values["webhook_url"] = url }
                if let secret, d["webhook_secret"] != secret { values["webhook_secret"] = secret }
                guard !values.isEmpty else { continue }
                try tx.write(id: d.id, kind: .directory, values)
                changed.append(d.id)
            }
            cursor = page.count == 500 ? page.last?.cursor : nil
        } while cursor != nil
        return changed
    }

    /// One live link by id or unique id prefix.
    public func link(id typed: String) throws -> SetupLink {
        let id = try resolveLinkID(typed)
        guard let r = try store.record(id: id), r.isLive, let l = SetupLink(r) else { throw SetupLinkError.unknownLink(typed) }
        return l
    }

    /// Issues a new token and validity; the old token stops working at once.
    public func regenerateLink(id typed: String) throws -> SetupLink {
        let id = try resolveLinkID(typed)
        let now = self.now()
        return try store.write { tx in
            guard let r = try tx.record(id), r.isLive, let l = SetupLink(r) else { throw SetupLinkError.unknownLink(id) }
            try Self.retire(l.token, of: id, in: tx)
            let updated = try tx.write(id: id, kind: .link, [
                "token": Secrets.linkToken(),
                "valid_till": DateTime.format(now.addingTimeInterval(Double(l.expiryDays) * 86_400), .seconds),
            ])
            return SetupLink(updated)!
        }
    }

    /// Deletes a link; its token stops working; directories created through it stay.
    public func deleteLink(id typed: String) throws {
        let id = try resolveLinkID(typed)
        try store.write { tx in
            guard let r = try tx.record(id), r.isLive else { throw SetupLinkError.unknownLink(id) }
            if let l = SetupLink(r) { try Self.retire(l.token, of: id, in: tx) }
            try tx.delete(id: id)
        }
    }

    /// Retires `token` (and the tokens that lost a concurrent regenerate of the link), in `tx`:
    /// every copy of them stops working, whatever peers hold or send later.
    static func retire(_ token: String, of link: String, in tx: LocalTransaction) throws {
        let r = try tx.record(link)
        let losers = r?.register("token")?.versions.map(\.value) ?? []
        for t in Set([token] + losers) where !t.isEmpty {
            let id = RetiredToken.id(t)
            if try tx.record(id) == nil { try tx.write(id: id, kind: .retiredToken, ["link": link]) }
        }
    }

    /// The live link that `token` opens: none when the token was retired (regenerated or
    /// deleted), refused when two live links hold it (however they arrived).
    func link(byToken token: String) throws -> SetupLink {
        guard !token.isEmpty, try store.record(id: RetiredToken.id(token)) == nil else { throw SetupLinkError.setupLinkNotFound }
        let links = try store.lookup("link.token", key: token.lowercased()).compactMap { SetupLink($0) }
        guard let first = links.first else { throw SetupLinkError.setupLinkNotFound }
        guard links.count == 1 else { throw SetupLinkError.sharedToken(links.count) }
        return first
    }
}
