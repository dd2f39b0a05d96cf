import Dates
import Foundation
import Replica
import Storage

/// Directory management: the admin's (any tenant, by id, also after the link is
/// deleted) and the tenant's (through `TenantPage`, its own directories only).
///
/// Writes that would change nothing (activating an active directory, renaming to
/// the same name) are not written: no new dot, nothing to sync, and the caller is
/// told so (`changed == false`).
extension SetupLinkService {
    /// One live directory by id or unique id prefix (admin view: any tenant).
    public func directory(id typed: String) throws -> Directory {
        let id = try resolveDirectoryID(typed)
        guard let r = try store.record(id: id), r.isLive, let d = Directory(r) else { throw SetupLinkError.noDirectory(typed) }
        return d
    }

    /// Activates or deactivates a directory (admin: any tenant).
    /// - Returns: The directory, and whether it changed (false when it already was so).
    @discardableResult
    public func setDirectoryDeactivated(_ deactivated: Bool, id typed: String) throws -> (Directory, changed: Bool) {
        let id = try resolveDirectoryID(typed)
        return try writeDirectory(id: id, missing: .noDirectory(typed)) { d in
            d.deactivated == deactivated ? nil : ["deactivated": deactivated ? "true" : "false"]
        }
    }

    /// Renames a directory (admin: any tenant); the name is trimmed and may not be blank.
    /// - Returns: The directory, and whether it changed (false when the name was already that).
    @discardableResult
    public func renameDirectory(id typed: String, to rawName: String) throws -> (Directory, changed: Bool) {
        let name = try Validation.name(rawName)
        let id = try resolveDirectoryID(typed)
        return try writeDirectory(id: id, missing: .noDirectory(typed)) { d in d.name == name ? nil : ["name": name] }
    }

    /// Deletes a directory (admin: any tenant); its SCIM token stops working.
    /// - Returns: The directory as it was.
    @discardableResult
    public func deleteDirectory(id typed: String) throws -> Directory {
        let id = try resolveDirectoryID(typed)
        return try store.write { tx in
            guard let r = try tx.record(id), r.isLive, let d = Directory(r) else { throw SetupLinkError.noDirectory(typed) }
            try tx.delete(id: id)
            return d
        }
    }

    /// Creates a directory for a tenant and product without a setup link (the app API's
    /// `POST /api/v1/dsync`, as Jackson allows): of `type`, named `name` (else
    /// `scim-<tenant>-<product>`), with a fresh SCIM token (none for Google). Its webhook is
    /// `webhookURL` and `webhookSecret` when both are given, else none: its events are then
    /// in the change feed only.
    public func createDirectory(tenant rawTenant: String, product rawProduct: String, type: DirectoryType,
                                name rawName: String? = nil, webhookURL rawURL: String? = nil,
                                webhookSecret rawSecret: String? = nil) throws -> Directory {
        let tenant = try Validation.tenantOrProduct(rawTenant, what: "tenant")
        let product = try Validation.tenantOrProduct(rawProduct, what: "product")
        let name = try rawName.map { try Validation.name($0) } ?? "scim-\(tenant)-\(product)"
        var url = "", secret = ""
        if let rawURL, let rawSecret, !Validation.trimmed(rawURL).isEmpty, !Validation.trimmed(rawSecret).isEmpty {
            url = try Validation.webhookURL(rawURL)
            secret = try Validation.secret(rawSecret)
        }
        let id = Secrets.uuid()
        let created = DateTime.format(now(), .seconds)
        return try store.write { tx in
            let r = try tx.write(id: id, kind: .directory, [
                "name": name, "tenant": tenant, "product": product,
                "webhook_url": url, "webhook_secret": secret,
                "type": type.rawValue,
                "scim_path": type.usesSCIM ? "/api/scim/v2.0/\(id)" : "",
                "scim_token": type.usesSCIM ? Secrets.scimToken() : "",
                "deactivated": "false",
                "log_webhook_events": "false",
                "link_id": "",
                "created": created,
            ], revive: true)
            return Directory(r)!
        }
    }

    /// Changes a live directory (the app API's `PATCH /api/v1/dsync/<id>`): each value given
    /// is set; `webhookURL` or `webhookSecret` `""` removes the webhook (events then go to the
    /// change feed only). Values equal to the current ones are not written.
    /// - Returns: The directory, and whether it changed.
    @discardableResult
    public func updateDirectory(id: String, name rawName: String? = nil, deactivated: Bool? = nil,
                                logWebhookEvents: Bool? = nil, webhookURL rawURL: String? = nil,
                                webhookSecret rawSecret: String? = nil) throws -> (Directory, changed: Bool) {
        let name = try rawName.map { try Validation.name($0) }
        let url = try rawURL.map { Validation.trimmed($0).isEmpty ? "" : try Validation.webhookURL($0) }
        let secret = try rawSecret.map { Validation.trimmed($0).isEmpty ? "" : try Validation.secret($0) }
        return try writeDirectory(id: id, missing: .noDirectory(id)) { d in
            var values: [String: String] = [:]
            if let name, name != d.name { values["name"] = name }
            if let deactivated, deactivated != d.deactivated { values["deactivated"] = deactivated ? "true" : "false" }
            if let logWebhookEvents, logWebhookEvents != d.logWebhookEvents { values["log_webhook_events"] = logWebhookEvents ? "true" : "false" }
            if let url, url != d.webhookURL { values["webhook_url"] = url }
            if let secret, secret != d.webhookSecret { values["webhook_secret"] = secret }
            return values.isEmpty ? nil : values
        }
    }

    /// The live directory whose id is exactly `id` (no abbreviation: what an API names), or `nil`.
    public func directory(exactID id: String) throws -> Directory? {
        guard id.utf8.count <= 128, let r = try store.record(id: id), r.isLive else { return nil }
        return Directory(r)
    }

    /// Reads the live directory `id` in a transaction and writes what `change` asks, if anything.
    func writeDirectory(id: String, missing: SetupLinkError, allowed: (Directory) -> Bool = { _ in true },
                        _ change: (Directory) -> [String: String]?) throws -> (Directory, changed: Bool) {
        try store.write { tx in
            guard let r = try tx.record(id), r.isLive, let d = Directory(r), allowed(d) else { throw missing }
            guard let values = change(d) else { return (d, false) }
            return (Directory(try tx.write(id: id, kind: .directory, values))!, true)
        }
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

    /// Opens the setup page of a link by its URL or token (in any case: tokens are hex).
    ///
    /// An unknown, regenerated or deleted token is "Setup link is not found"; an
    /// expired one "Setup link is expired".
    public func open(_ urlOrToken: String) throws -> TenantPage {
        let token = Self.token(fromURLOrToken: urlOrToken).lowercased()
        let link = try link(byToken: token)
        guard !link.isExpired(now: now()) else { throw SetupLinkError.setupLinkExpired }
        return TenantPage(service: self, token: token, link: link)
    }

    /// The provider types, id and label.
    public var providers: [DirectoryType] { DirectoryType.allCases }
}

/// A tenant's setup page: everything a tenant can do through one setup link.
///
/// Every call checks the token again, so a link regenerated, deleted or expired
/// after the page was opened stops working at once. Another tenant's directory is
/// "not on this page", exactly like an unknown id, so ids of others do not leak.
public struct TenantPage: Sendable {
    let service: SetupLinkService
    /// The token the page was opened with (lowercased).
    public let token: String
    /// The link as it was when opened.
    public let link: SetupLink

    /// The link, checked again: fails if the token no longer works.
    public func currentLink() throws -> SetupLink {
        let l = try service.link(byToken: token.lowercased())
        guard !l.isExpired(now: service.now()) else { throw SetupLinkError.setupLinkExpired }
        return l
    }

    /// This tenant+product's live directories.
    public func directories() throws -> [Directory] {
        let l = try currentLink()
        return try service.directories(tenant: l.tenant, product: l.product)
    }

    /// The full id of this tenant's directory that `typed` (an id or a unique prefix) names;
    /// only this tenant's directories are candidates.
    public func resolveDirectoryID(_ typed: String) throws -> String {
        let t = Validation.trimmed(typed).lowercased()
        guard !t.isEmpty else { throw SetupLinkError.unknownDirectory(typed) }
        let matches = try directories().map(\.id).filter { $0.hasPrefix(t) }
        if matches.contains(t) { return t }
        switch matches.count {
        case 0: throw SetupLinkError.unknownDirectory(typed)
        case 1: return matches[0]
        default: throw SetupLinkError.ambiguousID(kind: "directory", prefix: t, candidates: matches)
        }
    }

    /// Whether `d` belongs to this page's tenant and product.
    private func owns(_ d: Directory, _ l: SetupLink) -> Bool { d.tenant == l.tenant && d.product == l.product }

    /// One of this tenant+product's directories, by id or unique prefix; another tenant's is refused as unknown.
    public func directory(id typed: String) throws -> Directory {
        let l = try currentLink()
        let id = try resolveDirectoryID(typed)
        guard let r = try service.store.record(id: id), r.isLive, let d = Directory(r), owns(d, l) else {
            throw SetupLinkError.unknownDirectory(typed)
        }
        return d
    }

    /// Creates a directory of `type` with a fresh SCIM token (none for Google), named
    /// `name` (trimmed, not blank), else the link's name, else `scim-<tenant>-<product>`.
    /// Refused (`directoryQuota`) when the tenant and product already have
    /// `maxDirectoriesPerLink()` live directories.
    public func createDirectory(type: DirectoryType = .azure, name rawName: String? = nil) throws -> Directory {
        let chosen = try rawName.map { try Validation.name($0) }
        let l = try currentLink()
        let id = Secrets.uuid()
        let name = chosen ?? l.name ?? "scim-\(l.tenant)-\(l.product)"
        let created = DateTime.format(service.now(), .seconds)
        let quota = try service.maxDirectoriesPerLink()
        let sep = IndexSpec.separator
        return try service.store.write { tx in
            // Counted inside the write: concurrent creates are serialized by it, so none slips past.
            let live = try service.store.count("directory.tenant", prefix: l.tenant + sep + l.product + sep)
            guard live < quota else { throw SetupLinkError.directoryQuota(live) }
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
    /// - Returns: The directory, and whether it changed.
    @discardableResult
    public func setDeactivated(_ deactivated: Bool, id typed: String) throws -> (Directory, changed: Bool) {
        let l = try currentLink()
        let id = try resolveDirectoryID(typed)
        return try service.writeDirectory(id: id, missing: .unknownDirectory(typed), allowed: { owns($0, l) }) { d in
            d.deactivated == deactivated ? nil : ["deactivated": deactivated ? "true" : "false"]
        }
    }

    /// Renames one of this tenant's directories.
    /// - Returns: The directory, and whether it changed.
    @discardableResult
    public func renameDirectory(id typed: String, to rawName: String) throws -> (Directory, changed: Bool) {
        let name = try Validation.name(rawName)
        let l = try currentLink()
        let id = try resolveDirectoryID(typed)
        return try service.writeDirectory(id: id, missing: .unknownDirectory(typed), allowed: { owns($0, l) }) { d in
            d.name == name ? nil : ["name": name]
        }
    }

    /// Deletes one of this tenant's directories.
    /// - Returns: The directory as it was.
    @discardableResult
    public func deleteDirectory(id typed: String) throws -> Directory {
        let d = try directory(id: typed)
        try service.store.write { tx in try tx.delete(id: d.id) }
        return d
    }
}
