import Bytes
import Crypto
import Dates
import Events
import Foundation
import HTTP
import JSON
import Replica
import Scim
import SetupLinks
import SetupPage
import Storage
import Synchronization

/// Why a Google directory could not be synced here.
public enum GoogleSyncError: Error, CustomStringConvertible, Equatable {
    /// No such live Google directory.
    case notGoogle(String)
    /// This replica does not hold the directory's authorization (another hub does, or nobody).
    case notHeldHere(String)
    /// The directory is deactivated: it syncs nothing until it is activated.
    case inactive(String)
    /// Google refused the authorization: the directory now needs re-authorization.
    case needsReauthorization(String)
    /// Google failed otherwise (the next sync tries again).
    case google(GoogleError)

    public var description: String {
        switch self {
        case .notGoogle(let m), .notHeldHere(let m), .inactive(let m), .needsReauthorization(let m): m
        case .google(let e): e.description
        }
    }
}

/// Google Workspace directories on a hub: the setup page's "Authorize with Google"
/// (`GoogleAuthorizer`), the OAuth callback, and the poller that pulls users, groups and
/// members from the Admin SDK Directory API and writes the differences as the same
/// replicated records, and events, as SCIM (GoogleSync.docc/GoogleWorkspace.md).
public final class GoogleSync: GoogleAuthorizer, Sendable {
    /// The replica's flows.
    let service: SetupLinkService
    /// Google's addresses, the client, the interval.
    public let configuration: GoogleConfiguration
    /// Where each sync's events go, in its transaction (the hub's: the change feed and the webhook outbox).
    let eventSink: DirectoryEventSink
    /// One line per sync and per authorization (never a token).
    let log: @Sendable (String) -> Void

    /// A consent in progress: started on the setup page, waiting for Google's redirect.
    struct Pending: Sendable {
        var directory: String
        var linkToken: String
        var verifier: String
        var expires: ContinuousClock.Instant
    }
    private let pending = Mutex<[String: Pending]>([:])
    /// The most consents waiting at once (each expires after `stateLifetime`).
    static let maxPending = 10_000

    private let stopped = Mutex(true)
    private let running = Mutex<DispatchSemaphore?>(nil)
    private let due = Mutex<[String: ContinuousClock.Instant]>([:])
    /// One sync at a time on this hub (the poller and `syncNow` callers).
    private let syncing = Mutex(())
    /// Requests sent to Google since start (tests read it).
    public let requestCount = Atomic<Int>(0)

    private var store: ReplicaStore { service.store }

    /// Google sync for `service`'s replica; events go to `eventSink`.
    public init(service: SetupLinkService, configuration: GoogleConfiguration, eventSink: @escaping DirectoryEventSink,
                log: (@Sendable (String) -> Void)? = nil) {
        self.service = service
        self.configuration = configuration
        self.eventSink = eventSink
        self.log = log ?? { _ in }
    }

    /// The redirect URI registered with Google: `<external URL>/oauth/google/callback`.
    public var redirectURI: String { service.externalURL + GoogleConfiguration.callbackPath }

    func client() -> GoogleClient {
        GoogleClient(configuration: configuration, sleep: { [self] d in pause(d) }, onRequest: { [self] _ in
            requestCount.add(1, ordering: .relaxed)
        })
    }

    // MARK: Poller

    /// Starts the poller: every directory whose authorization this replica holds is synced at
    /// once, then every `pollInterval`, and whenever `directory sync-now` asks.
    public func start() {
        let finished = DispatchSemaphore(value: 0)
        let alreadyRunning = running.withLock { r -> Bool in
            if r != nil { return true }
            r = finished
            return false
        }
        guard !alreadyRunning else { return }
        stopped.withLock { $0 = false }
        let t = Thread { [self] in
            run()
            finished.signal()
        }
        t.name = "google-sync"
        t.start()
    }

    /// Stops the poller and waits for it (a backoff wait is cut short; a request in flight
    /// finishes, within its timeout), so the replica can be closed after.
    public func stop() {
        stopped.withLock { $0 = true }
        guard let finished = running.withLock({ r -> DispatchSemaphore? in defer { r = nil }; return r }) else { return }
        _ = finished.wait(timeout: .now() + configuration.requestTimeout.seconds + 5)
    }

    private var isStopped: Bool { stopped.withLock { $0 } }

    /// Sleeps `d` in short slices; `false` when the hub stops meanwhile.
    func pause(_ d: Duration) -> Bool {
        let end = ContinuousClock.now + d
        while ContinuousClock.now < end {
            if isStopped { return false }
            Thread.sleep(forTimeInterval: min(0.05, (end - ContinuousClock.now).seconds))
        }
        return !isStopped
    }

    private func run() {
        let tick = min(Duration.seconds(1), configuration.pollInterval)
        while !isStopped {
            let held = (try? GoogleCredentials.heldDirectories(store)) ?? []
            for d in held where !isStopped {
                let requested = (try? GoogleCredentials.takeRequest(store, d)) ?? false
                let now = ContinuousClock.now
                let next = due.withLock { $0[d] } ?? now
                guard requested || now >= next else { continue }
                do { try syncNow(d) } catch {
                    switch error {
                    case .notGoogle, .notHeldHere:
                        // Deleted, or authorized again on another hub (which holds a newer token): this one is of no use.
                        try? GoogleCredentials.setRefreshToken(store, d, nil)
                        log("google: directory \(d) is no longer synced here (\(error)); its refresh token is forgotten")
                    default: break
                    }
                }
                due.withLock { $0[d] = ContinuousClock.now + configuration.pollInterval }
            }
            _ = pause(tick)
        }
    }

    // MARK: Sync

    /// Syncs directory `id` now, on the calling thread: refreshes the access token, lists
    /// users, groups and each group's members (every page), and writes the differences in
    /// one transaction with their events. Records the outcome for `directory show` and the page.
    @discardableResult
    public func syncNow(_ id: String) throws(GoogleSyncError) -> GoogleSyncReport {
        let result: Result<GoogleSyncReport, GoogleSyncError> = syncing.withLock { _ in
            do throws(GoogleSyncError) { return .success(try sync(id)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let report):
            log("google sync \(id): \(report.summary)")
            try? GoogleCredentials.setLastSync(store, id, GoogleSyncStatus(at: Date(), ok: true, summary: report.summary))
            return report
        case .failure(let error):
            log("google sync \(id) failed: \(error)")
            if case .notGoogle = error {} else {
                try? GoogleCredentials.setLastSync(store, id, GoogleSyncStatus(at: Date(), ok: false, summary: error.description))
            }
            throw error
        }
    }

    private func sync(_ id: String) throws(GoogleSyncError) -> GoogleSyncReport {
        let (directory, state) = try checkSyncable(id)
        _ = directory
        guard let refreshToken = (try? GoogleCredentials.refreshToken(store, id)) ?? nil else {
            throw .notHeldHere("this replica does not hold directory \(id)'s Google authorization"
                               + (state.holder.map { "; replica \($0.prefix(12)) does" } ?? "; authorize it on the setup page"))
        }
        let google = client()
        let access: String
        do { access = try google.refresh(refreshToken) } catch {
            if case .revoked = error { markNeedsReauthorization(id) }
            throw error.asSync
        }
        var report = GoogleSyncReport()
        let snapshot: GoogleSnapshot
        do {
            let users = try google.listAll("users", [("customer", "my_customer"), ("maxResults", String(configuration.usersPageSize)),
                                                     ("orderBy", "email"), ("projection", "basic")],
                                           itemsKey: "users", accessToken: access)
            let groups = try google.listAll("groups", [("customer", "my_customer"), ("maxResults", String(configuration.groupsPageSize))],
                                            itemsKey: "groups", accessToken: access)
            var withMembers: [(JSONValue, [JSONValue])] = []
            for g in groups {
                guard let gid = g["id"]?.stringValue, !gid.isEmpty else { continue }
                let members = try google.listAll("groups/" + GoogleClient.escape(gid) + "/members",
                                                 [("maxResults", String(configuration.groupsPageSize))],
                                                 itemsKey: "members", accessToken: access)
                withMembers.append((g, members))
                report.googleMembers += members.count
            }
            snapshot = GoogleSnapshot(users: users, groups: withMembers)
            report.googleUsers = users.count
            report.googleGroups = groups.count
        } catch {
            throw error.asSync
        }
        let baseURL = service.externalURL + ScimRoutes.basePath + "/" + id
        let sink = eventSink, store = self.store, me = store.replicaID.hex
        do {
            report = try store.write { tx -> GoogleSyncReport in
                var r = report
                // Checked again under the write lock: deactivated, deleted or handed to another hub meanwhile.
                guard let rec = try tx.record(id), rec.isLive, let d = Directory(record: rec), d.type == .google, !d.deactivated,
                      GoogleDirectoryState(record: rec).holder == me else { return r }
                let events = try snapshot.apply(directory: id, baseURL: baseURL, store: store, tx: tx, report: &r)
                if !events.isEmpty { try sink(tx, events) }
                return r
            }
        } catch {
            throw .google(.badAnswer("writing the sync failed: \(error)"))
        }
        return report
    }

    /// The live, active Google directory `id` whose authorization this replica holds, with its state.
    private func checkSyncable(_ id: String) throws(GoogleSyncError) -> (Directory, GoogleDirectoryState) {
        guard let r = (try? store.record(id: id)) ?? nil, r.isLive, let d = Directory(record: r), d.type == .google else {
            throw .notGoogle("no Google directory \(id.prefix(64))")
        }
        let state = GoogleDirectoryState(record: r)
        guard !d.deactivated else { throw .inactive("directory \(d.name) is inactive: it syncs nothing until it is activated") }
        guard state.holder == store.replicaID.hex else {
            throw .notHeldHere("this replica does not hold directory \(d.name)'s Google authorization"
                               + (state.holder.map { "; replica \($0.prefix(12)) does and syncs it" } ?? "; authorize it on the setup page"))
        }
        return (d, state)
    }

    /// Google refused the refresh token: the directory needs re-authorization (replicated),
    /// and the useless token is forgotten (the poller stops asking).
    private func markNeedsReauthorization(_ id: String) {
        do {
            try store.write { tx in
                guard let r = try tx.record(id), r.isLive, r[GoogleDirectoryState.Field.status] != "reauthorize" else { return }
                try tx.write(id: id, kind: .directory, [GoogleDirectoryState.Field.status: "reauthorize"])
            }
            try GoogleCredentials.setRefreshToken(store, id, nil)
        } catch {
            log("google: recording that directory \(id) needs re-authorization failed: \(error)")
        }
    }

    // MARK: GoogleAuthorizer

    /// The card's Google section: from the replicated state, with the last sync when this hub syncs it.
    public func card(for directory: Directory) -> GoogleCard {
        guard let r = (try? store.record(id: directory.id)) ?? nil else { return GoogleCard(status: .notAuthorized) }
        let state = GoogleDirectoryState(record: r)
        let status: GoogleCard.Status = state.needsReauthorization ? .needsReauthorization(by: state.authorizedBy)
            : state.authorizedBy.map { .authorized(by: $0) } ?? .notAuthorized
        let last = state.holder == store.replicaID.hex ? ((try? GoogleCredentials.lastSync(store, directory.id)) ?? nil)?.line : nil
        return GoogleCard(status: status, lastSync: last)
    }

    /// Starts a consent: a fresh `state` (32 CSPRNG bytes) and PKCE verifier, kept in memory
    /// for `stateLifetime`, single use; returns Google's consent URL and the cookie that binds
    /// the consent to the browser that started it (`stateCookie`).
    ///
    /// At most `maxPendingPerDirectory` consents wait per directory (a new one replaces the
    /// oldest), so one tenant reloading "Authorize" cannot use up the hub-wide bound for the
    /// others.
    public func authorizationURL(for directory: Directory, linkToken: String) throws -> (url: String, cookie: String) {
        let state = Base64URL.encode(SecureRandom.bytes(32))
        let pkce = PKCE()
        let now = ContinuousClock.now
        let accepted = pending.withLock { p -> Bool in
            p = p.filter { $0.value.expires > now }
            let mine = p.filter { $0.value.directory == directory.id }.sorted { $0.value.expires < $1.value.expires }
            for old in mine.prefix(max(0, mine.count - Self.maxPendingPerDirectory + 1)) { p[old.key] = nil }
            guard p.count < Self.maxPending else { return false }
            p[state] = Pending(directory: directory.id, linkToken: linkToken, verifier: pkce.verifier,
                               expires: now + configuration.stateLifetime)
            return true
        }
        guard accepted else {
            throw AuthorizationBusy()
        }
        return (client().consentURL(state: state, challenge: pkce.challenge, redirectURI: redirectURI), stateCookie(state))
    }

    /// How many consents wait now (of every directory), expired ones not counted.
    public var waitingConsents: Int {
        let now = ContinuousClock.now
        return pending.withLock { $0.values.filter { $0.expires > now }.count }
    }

    /// The most consents waiting for one directory.
    static let maxPendingPerDirectory = 5

    /// The cookie that ties `state` to a browser: named after the first half of the state's
    /// SHA-256 (several consents may wait in one browser), valued with the second half; only
    /// sent back to the callback path, never readable by scripts, gone with the state.
    func stateCookie(_ state: String) -> String {
        let h = SHA256Hasher.hex(of: state)
        let secure = service.externalURL.lowercased().hasPrefix("https://") ? "; Secure" : ""
        return "\(Self.cookiePrefix)\(h.prefix(32))=\(h.dropFirst(32)); Path=\(GoogleConfiguration.callbackPath); Max-Age=\(Int(configuration.stateLifetime.seconds)); HttpOnly; SameSite=Lax\(secure)"
    }

    static let cookiePrefix = "slk_google_"

    /// Whether the request's `Cookie` header holds `state`'s cookie.
    static func holdsStateCookie(_ cookieHeader: String?, state: String) -> Bool {
        guard let cookieHeader, cookieHeader.utf8.count <= 8192 else { return false }
        let h = SHA256Hasher.hex(of: state)
        let name = cookiePrefix + h.prefix(32)
        for pair in cookieHeader.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0] == name, constantTimeEquals(Array(kv[1].utf8), Array(h.dropFirst(32).utf8)) { return true }
        }
        return false
    }

    // MARK: Callback

    /// `GET /oauth/google/callback?code=…&state=…` (or `?error=…&state=…`): checks the state,
    /// exchanges the code with its PKCE verifier, checks the account's Workspace domain, stores
    /// the refresh token locally, records who authorized (replicated), asks for a sync at once,
    /// and sends the browser back to the setup page. Every refusal is a page saying why.
    public func callback(_ query: [(name: String, value: String)], cookie: String? = nil) -> HTTPResponse {
        func value(_ n: String) -> String? { query.first { $0.name == n }?.value }
        let now = ContinuousClock.now
        guard let state = value("state"), let p = pending.withLock({ $0.removeValue(forKey: state) }), p.expires > now else {
            return SetupPageRoutes.messagePage(
                title: "This authorization has expired",
                text: "Google sent back an authorization this service no longer waits for (it expired after \(Int(configuration.stateLifetime.seconds / 60)) minutes, was already used, or the service restarted). Nothing was changed. Go back to the setup page and choose Authorize with Google again.",
                status: 400)
        }
        // Only the browser that chose "Authorize with Google" may finish it: a consent URL
        // someone else started and sent to a Workspace administrator stores nothing.
        guard Self.holdsStateCookie(cookie, state: state) else {
            log("google: authorization of directory \(p.directory) refused: the callback came from another browser than the one that started it")
            return SetupPageRoutes.messagePage(
                title: "This authorization was started in another browser",
                text: "Google sent back an authorization that this browser did not start (it has no cookie for it). Nothing was stored. Open the setup page in this browser and choose Authorize with Google there; never finish an authorization someone else sent you.",
                status: 403)
        }
        let back = service.externalURL + "/setup/" + p.linkToken + "?"
        if let error = value("error") {
            let denied = error == "access_denied"
            log("google: authorization of directory \(p.directory) refused at Google: \(error.prefix(60))")
            return SetupPageRoutes.messagePage(
                title: denied ? "Google authorization was denied" : "Google authorization failed",
                text: denied ? "Access was not granted on Google's consent screen, so nothing was changed. To sync this directory, authorize again and allow read-only access to users and groups."
                    : "Google answered \(error.prefix(100)). Nothing was changed. Try again from the setup page.",
                status: 400, backTo: back)
        }
        guard let code = value("code"), !code.isEmpty else {
            return SetupPageRoutes.messagePage(title: "Google authorization failed",
                                               text: "Google sent no authorization code. Nothing was changed. Try again from the setup page.",
                                               status: 400, backTo: back)
        }
        // The link must still open and hold the directory (regenerated, expired or deleted meanwhile: refused).
        guard let page = try? service.open(p.linkToken), let directory = try? page.directory(id: p.directory), directory.type == .google else {
            return SetupPageRoutes.messagePage(title: "This directory is no longer on the setup page",
                                               text: "The setup link or the directory changed while you were at Google. Nothing was stored.",
                                               status: 410)
        }
        let google = client()
        let identity: GoogleIdentity
        let refreshToken: String
        do {
            let tokens = try google.exchange(code: code, verifier: p.verifier, redirectURI: redirectURI)
            guard let idToken = tokens.idToken else { throw GoogleError.badAnswer("no ID token: the email scope was not granted") }
            identity = try GoogleClient.identity(idToken: idToken, clientID: configuration.clientID)
            guard let r = tokens.refreshToken, !r.isEmpty else {
                throw GoogleError.badAnswer("Google gave no refresh token, so the directory could not be synced later")
            }
            refreshToken = r
        } catch {
            let id = HTTPResponse.internalErrorID()
            log("google: authorization of directory \(p.directory) failed (error \(id)): \(error)")
            return SetupPageRoutes.messagePage(title: "Google authorization failed",
                                               text: "Google's answer to this authorization could not be used (error \(id), in the service's log). Nothing was stored. Try again from the setup page.",
                                               status: 502, backTo: back)
        }
        guard let domain = identity.hostedDomain else {
            return SetupPageRoutes.messagePage(
                title: "Not a Google Workspace account",
                text: "\(identity.email) is a personal Google account, which has no directory of users and groups. Nothing was stored. Authorize again with an administrator account of your Google Workspace domain.",
                status: 403, backTo: back)
        }
        let previous = (try? store.record(id: directory.id)).flatMap { $0 }.map(GoogleDirectoryState.init(record:))
        if let known = previous?.domain, known.lowercased() != domain.lowercased() {
            return SetupPageRoutes.messagePage(
                title: "Wrong Google Workspace domain",
                text: "This directory syncs \(known), but \(identity.email) belongs to \(domain). Nothing was changed. Authorize with an administrator of \(known), or create a new directory for \(domain).",
                status: 403, backTo: back)
        }
        do {
            let me = store.replicaID.hex
            try GoogleCredentials.setRefreshToken(store, directory.id, refreshToken)
            try store.write { tx in
                try tx.write(id: directory.id, kind: .directory, [
                    GoogleDirectoryState.Field.authorizedBy: identity.email,
                    GoogleDirectoryState.Field.domain: domain,
                    GoogleDirectoryState.Field.status: "authorized",
                    GoogleDirectoryState.Field.holder: me,
                    GoogleDirectoryState.Field.authorizedAt: DateTime.format(service.now(), .seconds),
                ])
            }
            try GoogleCredentials.requestSync(store, directory.id)
            due.withLock { $0[directory.id] = nil }
        } catch {
            let id = HTTPResponse.internalErrorID()
            log("google: storing the authorization of directory \(directory.id) failed (error \(id)): \(error)")
            return SetupPageRoutes.messagePage(title: "Something went wrong",
                                               text: "The authorization could not be stored (error \(id)). Try again in a moment.",
                                               status: 500, backTo: back)
        }
        log("google: directory \(directory.id) authorized by \(identity.email) (\(domain))")
        let done = "done=google-authorized&directory=" + GoogleClient.escape(directory.id) + "#dir-" + GoogleClient.escape(directory.id)
        return HTTPResponse.redirect(to: back + done, status: 303)
            .withSecurityHeaders(contentSecurityPolicy: HTTPResponse.defaultContentSecurityPolicy)
    }
}

extension GoogleError {
    var asSync: GoogleSyncError {
        if case .revoked = self { return .needsReauthorization(description) }
        return .google(self)
    }
}

/// The OAuth callback route, mounted by the hub: `GET /oauth/google/callback`.
public struct GoogleCallbackRoutes: HTTPRoutes {
    let google: GoogleSync

    /// The callback of `google`.
    public init(google: GoogleSync) { self.google = google }

    public func handles(_ head: HTTPHead) -> Bool { head.path == GoogleConfiguration.callbackPath }

    public func admit(_ head: HTTPHead) -> Admission {
        guard head.method == "GET" || head.method == "HEAD" else {
            return .reject(SetupPageRoutes.messagePage(title: "Method not allowed", text: "This address answers GET only.", status: 405)
                .setting("Allow", "GET, HEAD"))
        }
        return .accept(maxBodyBytes: 0)
    }

    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        google.callback(request.head.query, cookie: request.head.header("cookie"))
    }

    /// The path only: the query holds the authorization code and state.
    public func loggedPath(_ head: HTTPHead) -> String { head.path }
}

/// Too many consents wait on this hub at once (each expires after a few minutes).
struct AuthorizationBusy: Error, CustomStringConvertible {
    var description: String { "too many Google authorizations are in progress on this service; try again in a few minutes" }
}
