import Bytes
import Crypto
import Foundation
import HTTP
import SetupLinks
import Storage

/// What the setup page answers, before it becomes an HTTP response.
struct PageReply: Sendable {
    /// The status code.
    var status: Int
    /// The document, or `nil` for a redirect.
    var html: HTML?
    /// A redirect target, relative to the page (`?done=created…`), for POST-redirect-GET.
    var location: String?
    /// A line for the server log only (the detail behind a 500, why a form was refused).
    var logNote: String?
    /// Extra header fields (the Google consent's browser cookie).
    var headers: [(String, String)] = []

    /// A page.
    static func page(_ html: HTML, status: Int = 200, logNote: String? = nil) -> PageReply {
        PageReply(status: status, html: html, location: nil, logNote: logNote)
    }

    /// A 303 See Other to `location`: after a POST, the browser GETs the page again.
    static func seeOther(_ location: String) -> PageReply {
        PageReply(status: 303, html: nil, location: location, logNote: nil)
    }
}

/// The tenant setup page (SetupPage.docc/TenantSetupPage.md): what each GET and POST does, independent
/// of the HTTP server.
///
/// Every request opens the link again by its token, so a link regenerated,
/// deleted or expired stops its page at once. Every change goes through
/// `TenantPage`, the same flows as the REPL's tenant commands: it is one
/// replica transaction and syncs to peers. A directory of another tenant (or
/// product) is treated exactly like an unknown id.
final class SetupPageController: Sendable {
    /// The flows, on the served replica.
    let service: SetupLinkService
    /// Makes and checks the per-page CSRF tokens.
    let csrf: CSRFGuard
    /// Google Workspace authorization, when this hub has a Google OAuth client; `nil`: not offered.
    let google: (any GoogleAuthorizer)?

    /// The local setting that holds this replica's CSRF key (hex).
    static let secretSetting = "setup-page-csrf-secret"
    /// The longest link token looked up; real ones are 48 characters.
    static let maxTokenLength = 128
    /// The longest directory id looked up; real ones are 36-character UUIDs.
    static let maxDirectoryIDLength = 256

    /// A controller over `service`, with the CSRF key stored in the replica
    /// (made from the CSPRNG the first time).
    init(service: SetupLinkService, google: (any GoogleAuthorizer)? = nil) throws {
        self.service = service
        self.google = google
        csrf = CSRFGuard(secret: try Self.loadOrCreateSecret(service.store))
    }

    /// This replica's CSRF key from its local settings, made from the CSPRNG and stored the first time.
    static func loadOrCreateSecret(_ store: ReplicaStore) throws -> [UInt8] {
        if let hex = try store.settings.value(secretSetting), let bytes = Hex.decode(hex), bytes.count >= 16 { return bytes }
        let bytes = SecureRandom.bytes(32)
        try store.settings.set(secretSetting, to: Hex.encode(bytes))
        return bytes
    }

    // MARK: Opening the link

    /// The page of `token`, or the reply that refuses it: 404 "Setup link is
    /// not found" (unknown, regenerated, deleted) or 401 "Setup link is expired".
    func open(_ token: String) -> Result<TenantPage, Refusal> {
        guard !token.isEmpty, token.utf8.count <= Self.maxTokenLength else { return .failure(Refusal(Self.notFound())) }
        do {
            return .success(try service.open(token))
        } catch {
            return .failure(Refusal(reply(for: error)))
        }
    }

    /// A reply that ends a request early.
    struct Refusal: Error {
        /// What to answer.
        let reply: PageReply
        /// A refusal answering `reply`.
        init(_ reply: PageReply) { self.reply = reply }
    }

    /// What still works when a link does not open: said under Jackson's sentences on the 404 and 401 pages.
    static let stillWorks = [
        "Directories you already created keep working: your identity provider keeps syncing users and groups to their SCIM endpoints with their tokens. Only this page is closed.",
        "Ask the administrator who sent you this link for a new one: it opens the same directories, where you can see, deactivate or delete them.",
    ]

    /// The 404 page of an unknown, regenerated or deleted link.
    static func notFound() -> PageReply {
        .page(PageRenderer.message(title: "Setup link is not found", text: SetupLinkError.contactAdmin,
                                   more: ["If the link was regenerated, the address changed and the old one stopped working at once."] + stillWorks),
              status: 404)
    }

    /// The 401 page of an expired link.
    static func expired() -> PageReply {
        .page(PageRenderer.message(title: "Setup link is expired", text: SetupLinkError.contactAdmin, more: stillWorks), status: 401)
    }

    /// The reply for an error thrown by the flows: the link's own refusals as
    /// their pages, anything else a 500 with a short id (the detail to the log).
    func reply(for error: Error) -> PageReply {
        switch error as? SetupLinkError {
        case .setupLinkNotFound?: return Self.notFound()
        case .setupLinkExpired?: return Self.expired()
        case .sharedToken?:
            // Two live links hold this token (copies a peer sent): neither is shown, as for an unknown one.
            return .page(PageRenderer.message(title: "Setup link is not found",
                                              text: "This link's token is held by more than one setup link, so it opens none of them until "
                                                + "an administrator regenerates them. " + SetupLinkError.contactAdmin), status: 404)
        default:
            let id = HTTPResponse.internalErrorID()
            return .page(PageRenderer.message(title: "Something went wrong",
                                              text: "The setup page could not be shown (error \(id)). Nothing was changed. Please try again in a moment."),
                         status: 500, logNote: "internal error \(id): \(error)")
        }
    }

    // MARK: GET

    /// The page for a GET: the main page, with a notice after a change
    /// (`?done=…&directory=…`), or the delete confirmation (`?confirm=delete&directory=…`).
    func get(token: String, query: [(name: String, value: String)]) -> PageReply {
        let page: TenantPage
        switch open(token) {
        case .success(let p): page = p
        case .failure(let r): return r.reply
        }
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        do {
            if value("confirm") == "delete" {
                guard let id = value("directory"), let d = try ownDirectory(page, id) else {
                    return try main(page, notice: Notice(kind: .error, text: "That directory is not on this setup page."), status: 404)
                }
                return .page(PageRenderer.confirmDelete(link: try page.currentLink(), directory: d,
                                                        csrf: csrf.token(forLinkToken: page.token)))
            }
            if value("google") == "authorize" {
                return try authorizeGoogle(page, directory: value("directory"))
            }
            var notice: Notice?
            var highlight: String?
            if let done = value("done") {
                let d = try value("directory").flatMap { try ownDirectory(page, $0) }
                // The deleted directory's name comes back in the query (it is gone from the replica), capped and escaped.
                let name = value("name").map { String($0.prefix(256)) }.flatMap { $0.isEmpty ? nil : $0 }
                notice = Self.doneNotice(done, directory: d, name: name)
                if done == "created" { highlight = d?.id }
            }
            return try main(page, notice: notice, highlight: highlight)
        } catch {
            return reply(for: error)
        }
    }

    /// The sentence shown after a change; `nil` for an unknown one (a hand-made URL).
    static func doneNotice(_ done: String, directory d: Directory?, name: String? = nil) -> Notice? {
        switch (done, d) {
        case ("created", let d?):
            return Notice(kind: .info, text: "Directory “\(d.name)” created."
                          + (d.type.usesSCIM ? " Copy its SCIM endpoint and token into your identity provider." : ""))
        case ("deactivated", let d?): return Notice(kind: .info, text: "“\(d.name)” is now inactive.")
        case ("activated", let d?): return Notice(kind: .info, text: "“\(d.name)” is now active.")
        case ("unchanged", let d?): return Notice(kind: .info, text: "“\(d.name)” was already \(d.status); nothing changed.")
        case ("deleted", _): return Notice(kind: .info, text: name.map { "Directory “\($0)” deleted." } ?? "Directory deleted.")
        case ("google-authorized", let d?):
            return Notice(kind: .info, text: "“\(d.name)” is authorized with Google: its users and groups arrive with the first sync, in a moment.")
        default: return nil
        }
    }

    /// This tenant+product's directory `id`, or `nil` (unknown, deleted, another tenant's).
    func ownDirectory(_ page: TenantPage, _ id: String) throws -> Directory? {
        guard !id.isEmpty, id.utf8.count <= Self.maxDirectoryIDLength else { return nil }
        do {
            return try page.directory(id: id)
        } catch SetupLinkError.unknownDirectory {
            return nil
        }
    }

    /// The main page, rendered now.
    func main(_ page: TenantPage, notice: Notice? = nil, highlight: String? = nil, status: Int = 200,
              formName: String = "", formType: DirectoryType = .azure, formError: String? = nil) throws -> PageReply {
        let link = try page.currentLink()
        let directories = try page.directories()
        var view = SetupPageView(link: link, directories: directories, externalURL: service.externalURL,
                                 csrf: csrf.token(forLinkToken: page.token), notice: notice, highlight: highlight,
                                 formName: formName, formType: formType, formError: formError)
        view.googleOffered = google != nil
        if let google {
            for d in directories where d.type == .google { view.googleCards[d.id] = google.card(for: d) }
        }
        return .page(PageRenderer.setupPage(view), status: status)
    }

    // MARK: POST

    /// A form POST: checks the page's CSRF token, makes the change through the
    /// tenant flows, and answers 303 to the page (POST-redirect-GET). A refused
    /// form changes nothing and says why.
    func post(token: String, form: [(name: String, value: String)]) -> PageReply {
        let page: TenantPage
        switch open(token) {
        case .success(let p): page = p
        case .failure(let r): return r.reply
        }
        func value(_ name: String) -> String? { form.first { $0.name == name }?.value }
        guard csrf.verify(value("csrf"), forLinkToken: page.token) else {
            return .page(PageRenderer.message(
                title: "This form cannot be accepted",
                text: "It was not sent from this setup page, or the page changed since it was loaded. Nothing was changed. Go back to the setup page and try again.",
                back: true), status: 403, logNote: value("csrf") == nil ? "setup page: POST without a CSRF token" : "setup page: POST with a wrong CSRF token")
        }
        do {
            switch value("action") {
            case "create"?:
                return try create(page, name: value("name") ?? "", type: value("type"))
            case "deactivate"?, "activate"?:
                let deactivate = value("action") == "deactivate"
                guard let d = try value("directory").flatMap({ try ownDirectory(page, $0) }) else { return try notOnPage(page) }
                if d.deactivated == deactivate { return .seeOther("?done=unchanged&directory=\(Self.queryValue(d.id))") }
                try page.setDeactivated(deactivate, id: d.id)
                return .seeOther("?done=\(deactivate ? "deactivated" : "activated")&directory=\(Self.queryValue(d.id))")
            case "delete"?:
                guard let d = try value("directory").flatMap({ try ownDirectory(page, $0) }) else { return try notOnPage(page) }
                guard value("confirm") == "yes" else { return .seeOther("?confirm=delete&directory=\(Self.queryValue(d.id))") }
                try page.deleteDirectory(id: d.id)
                return .seeOther("?done=deleted&name=\(Self.queryValue(d.name))")
            default:
                return try main(page, notice: Notice(kind: .error, text: "The form asked for an unknown action; nothing was changed."),
                                status: 400)
            }
        } catch SetupLinkError.unknownDirectory {
            // Deleted between the check and the write (another tab, a sync): as if it had never been there.
            do { return try notOnPage(page) } catch { return reply(for: error) }
        } catch {
            return reply(for: error)
        }
    }

    /// The page with "not on this setup page" (404): an unknown, deleted or other tenant's directory.
    func notOnPage(_ page: TenantPage) throws -> PageReply {
        try main(page, notice: Notice(kind: .error, text: "That directory is not on this setup page; nothing was changed."), status: 404)
    }

    /// The New Directory form: creates through the tenant flow and redirects to
    /// the new directory, or shows the form again with why it was refused.
    func create(_ page: TenantPage, name: String, type: String?) throws -> PageReply {
        guard let type, let t = DirectoryType(rawValue: type) else {
            return try main(page, status: 400, formName: name,
                            formError: "Choose an identity provider from the list; nothing was created.")
        }
        if t == .google, google == nil {
            return try main(page, status: 400, formName: name, formError: SetupPageRoutes.googleNotOffered + " Nothing was created.")
        }
        do {
            // A blank name field means "name it after the link", as the form says.
            let given = name.trimmingCharacters(in: .whitespacesAndNewlines)
            let d = try page.createDirectory(type: t, name: given.isEmpty ? nil : given)
            return .seeOther("?done=created&directory=\(Self.queryValue(d.id))#dir-\(Self.queryValue(d.id))")
        } catch SetupLinkError.invalid(let why) {
            return try main(page, status: 400, formName: name, formType: t, formError: "The directory was not created: \(why).")
        } catch SetupLinkError.directoryQuota(let n) {
            return try main(page, status: 409, formName: name, formType: t,
                            formError: "The directory was not created. \(SetupLinkError.directoryQuota(n).description)")
        }
    }

    /// "Authorize with Google" (`?google=authorize&directory=ID`, a link: the consent page is
    /// another site, which the page's `form-action 'self'` keeps forms from reaching): 303 to
    /// Google's consent. Nothing is stored until Google sends the browser back.
    func authorizeGoogle(_ page: TenantPage, directory id: String?) throws -> PageReply {
        guard let id, let d = try ownDirectory(page, id), d.type == .google else {
            return try main(page, notice: Notice(kind: .error, text: "That Google directory is not on this setup page."), status: 404)
        }
        guard let google else {
            return try main(page, notice: Notice(kind: .error, text: SetupPageRoutes.googleNotOffered), status: 409)
        }
        if d.deactivated {
            return try main(page, notice: Notice(kind: .error, text: "“\(d.name)” is inactive: activate it before authorizing it with Google."),
                            status: 409)
        }
        do {
            let consent = try google.authorizationURL(for: d, linkToken: page.token)
            var reply = PageReply.seeOther(consent.url)
            // Binds the consent to this browser: the callback refuses a state whose cookie
            // it does not get (an authorization started by someone else and sent to a victim).
            reply.headers = [("Set-Cookie", consent.cookie)]
            return reply
        } catch {
            return try main(page, notice: Notice(kind: .error, text: "Google authorization could not start: \(error)"), status: 503)
        }
    }

    /// `value` percent-encoded for a query or fragment: only unreserved characters stay.
    static func queryValue(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
