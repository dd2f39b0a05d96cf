import Dates
import Foundation
import JSON
import Replica
import Storage

/// A Google directory's authorization as the replicated directory record holds it, so every
/// replica (`directory show` on a laptop, every hub's setup page) knows who authorized it,
/// which hub syncs it and whether it needs re-authorization. The refresh token is never
/// here: it stays in the local settings of the hub that received it (`GoogleCredentials`).
public struct GoogleDirectoryState: Sendable, Equatable {
    /// The Google account that authorized it, if any.
    public var authorizedBy: String?
    /// Its Google Workspace domain (the `hd` of the account).
    public var domain: String?
    /// Whether Google refused the authorization (revoked or expired) since.
    public var needsReauthorization: Bool
    /// The replica (hub) that holds the authorization and syncs the directory.
    public var holder: String?
    /// When it was authorized.
    public var authorizedAt: Date?

    /// Directory record fields.
    public enum Field {
        /// The authorizing account's email.
        public static let authorizedBy = "google_authorized_by"
        /// The Workspace domain.
        public static let domain = "google_domain"
        /// `authorized` or `reauthorize`.
        public static let status = "google_status"
        /// The replica id of the hub holding the refresh token.
        public static let holder = "google_holder"
        /// ISO 8601.
        public static let authorizedAt = "google_authorized_at"
    }

    /// The state a directory record holds (empty for a directory never authorized).
    public init(record r: Record) {
        authorizedBy = r[Field.authorizedBy].flatMap { $0.isEmpty ? nil : $0 }
        domain = r[Field.domain].flatMap { $0.isEmpty ? nil : $0 }
        needsReauthorization = r[Field.status] == "reauthorize"
        holder = r[Field.holder].flatMap { $0.isEmpty ? nil : $0 }
        authorizedAt = r[Field.authorizedAt].flatMap(DateTime.date)
    }

    /// One line for people: `authorized by ann@acme.com (acme.com), synced by replica 3f2a…`.
    public var summary: String {
        guard let by = authorizedBy else { return "not authorized yet: open the setup page and choose Authorize with Google" }
        if needsReauthorization {
            return "needs re-authorization: Google refused the authorization given by \(by) (revoked or expired); authorize again on the setup page"
        }
        return "authorized by \(by)\(domain.map { " (\($0))" } ?? "")" + (holder.map { ", synced by replica \($0.prefix(12))" } ?? "")
    }
}

/// What only the hub holding a Google authorization keeps, in its local settings (never
/// replicated): the refresh token, the directories it holds, sync requests and the last
/// sync's outcome. And whether this replica's hub offers Google at all.
public enum GoogleCredentials {
    static func tokenKey(_ directory: String) -> String { "google.refresh-token." + directory }
    static func lastSyncKey(_ directory: String) -> String { "google.last-sync." + directory }
    static func requestKey(_ directory: String) -> String { "google.sync-now." + directory }
    static let heldKey = "google.held"
    static let clientIDKey = "google.client-id"

    /// The refresh token this replica holds for `directory`.
    static func refreshToken(_ store: ReplicaStore, _ directory: String) throws -> String? {
        try store.settings.value(tokenKey(directory))
    }

    /// Stores (or, with `nil`, forgets) the refresh token of `directory`.
    static func setRefreshToken(_ store: ReplicaStore, _ directory: String, _ token: String?) throws {
        try store.settings.set(tokenKey(directory), to: token)
        var held = try heldDirectories(store)
        held.removeAll { $0 == directory }
        if token != nil { held.append(directory) }
        try store.settings.set(heldKey, to: held.isEmpty ? nil : held.joined(separator: " "))
    }

    /// The directories whose refresh token this replica holds.
    public static func heldDirectories(_ store: ReplicaStore) throws -> [String] {
        (try store.settings.value(heldKey) ?? "").split(separator: " ").map(String.init)
    }

    /// Whether this replica holds `directory`'s refresh token.
    public static func holds(_ store: ReplicaStore, _ directory: String) throws -> Bool {
        try refreshToken(store, directory) != nil
    }

    /// Asks the hub serving this file to sync `directory` at once (`directory sync-now`).
    public static func requestSync(_ store: ReplicaStore, _ directory: String, at date: Date = Date()) throws {
        try store.settings.set(requestKey(directory), to: String(Int64(date.timeIntervalSince1970 * 1000)))
    }

    /// A pending sync request, and removes it.
    static func takeRequest(_ store: ReplicaStore, _ directory: String) throws -> Bool {
        guard try store.settings.value(requestKey(directory)) != nil else { return false }
        try store.settings.set(requestKey(directory), to: nil)
        return true
    }

    /// The last sync of `directory` on this replica.
    public static func lastSync(_ store: ReplicaStore, _ directory: String) throws -> GoogleSyncStatus? {
        guard let text = try store.settings.value(lastSyncKey(directory)),
              let o = try? JSONParser.parse(Array(text.utf8), maxDepth: 4),
              let at = o["at"]?.int64Value, let summary = o["summary"]?.stringValue else { return nil }
        return GoogleSyncStatus(at: Date(timeIntervalSince1970: Double(at) / 1000), ok: o["ok"] == .bool(true), summary: summary)
    }

    static func setLastSync(_ store: ReplicaStore, _ directory: String, _ status: GoogleSyncStatus) throws {
        let o: JSONValue = .object([("at", .int(Int64(status.at.timeIntervalSince1970 * 1000))), ("ok", .bool(status.ok)),
                                    ("summary", .string(status.summary))])
        try store.settings.set(lastSyncKey(directory), to: String(decoding: JSONWriter.write(o), as: UTF8.self))
    }

    /// The OAuth client id of the last `serve` of this file, when it had Google configured:
    /// whether this replica offers Google directories (`providers`, `directory new`).
    public static func offeredClientID(_ store: ReplicaStore) throws -> String? {
        try store.settings.value(clientIDKey)
    }

    /// Records (or clears) the Google client this file's hub serves with.
    public static func setOfferedClientID(_ store: ReplicaStore, _ id: String?) throws {
        try store.settings.set(clientIDKey, to: id)
    }

    /// The sentence that says why Google is not offered on this replica.
    public static let notOffered = "google (Google Workspace) is not offered here: it needs this replica file served by a hub with a Google OAuth"
        + " client (serve --google-client-id ID --google-client-secret-file FILE)"
}

/// The outcome of a directory's last sync on the hub that syncs it.
public struct GoogleSyncStatus: Sendable, Equatable {
    /// When it ended.
    public var at: Date
    /// Whether it completed.
    public var ok: Bool
    /// What it did, or why it failed, in one sentence.
    public var summary: String

    /// `synced 2026-…: …` or `failed 2026-…: …`.
    public var line: String { "\(ok ? "last sync" : "last sync failed") \(DateTime.format(at, .display)): \(summary)" }
}
