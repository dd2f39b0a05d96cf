import Dates
import Foundation
import SetupLinks

/// What the main setup page shows.
struct SetupPageView: Sendable {
    /// The link the page belongs to.
    var link: SetupLink
    /// Its tenant+product's live directories.
    var directories: [Directory]
    /// The external URL in force, for SCIM endpoints.
    var externalURL: String
    /// The page's CSRF token.
    var csrf: String
    /// A message at the top: what the last change did, or why a form was refused.
    var notice: Notice?
    /// A directory to mark (the one just created).
    var highlight: String?
    /// The New Directory form's values (kept when the form is refused).
    var formName = ""
    /// The provider preselected in the form.
    var formType: DirectoryType = .azure
    /// Why the New Directory form was refused, shown in the form.
    var formError: String?
    /// Whether Google directories can be created and authorized here.
    var googleOffered = false
    /// The Google section of each Google directory's card, by directory id.
    var googleCards: [String: GoogleCard] = [:]
}

/// A message shown at the top of the page.
struct Notice: Sendable, Equatable {
    /// Success or information (`role="status"`), or an error (`role="alert"`).
    enum Kind: Sendable { case info, error }
    /// Which kind.
    var kind: Kind
    /// The sentence (escaped when rendered).
    var text: String
}

/// The setup page's HTML: pure functions from a view to a document.
enum PageRenderer {
    /// The whole document around `body`: one inline style sheet, one inline script.
    static func document(title: String, body: HTML, privateFooter: Bool = true) -> HTML {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <meta name="robots" content="noindex, nofollow">
        <link rel="icon" href="data:,">
        <title>\(title)</title>
        <style>\(HTML(trusted: PageAssets.css))</style>
        </head>
        <body>
        <a class="skip" href="#main">Skip to main content</a>
        <header class="top"><div class="wrap"><span class="logo" aria-hidden="true"></span><p class="brand">Directory Sync setup</p></div></header>
        <main id="main" class="wrap" tabindex="-1">
        \(body)
        </main>
        \(privateFooter ? "<footer>This page is private to your organization. Do not share its address.</footer>" as HTML : "")
        <p id="copy-status" class="sr-only" role="status" aria-live="polite"></p>
        <script>\(HTML(trusted: PageAssets.js))</script>
        </body>
        </html>

        """
    }

    /// The tenant's page: the link, its directories, the New Directory form.
    static func setupPage(_ view: SetupPageView) -> HTML {
        let link = view.link
        var facts: [HTML] = [
            "<div><dt>Tenant</dt><dd>\(link.tenant)</dd></div>",
            "<div><dt>Product</dt><dd>\(link.product)</dd></div>",
        ]
        facts.append("<div><dt>Link valid till</dt><dd>\(time(link.validTill))</dd></div>")
        let cards = view.directories.map { directoryCard($0, view: view) }
        let list: HTML = view.directories.isEmpty
            ? "<div class=\"card empty\"><p>No directories yet. Create the first one below.</p></div>"
            : "<div class=\"dirs\">\(cards)</div>"
        let body: HTML = """
        <h1>Set up Directory Sync</h1>
        <p class="lead">Connect your identity provider to \(link.product) for \(link.tenant): create a directory, then copy its SCIM endpoint and token into your identity provider.</p>
        <section class="card" aria-label="Setup link">
        <dl class="facts">\(facts)</dl>
        </section>
        \(notice(view.notice))
        <section aria-labelledby="directories-heading">
        <h2 id="directories-heading">Directories</h2>
        \(list)
        </section>
        \(newDirectoryForm(view))
        """
        return document(title: "Directory Sync setup – \(link.tenant) · \(link.product)", body: body)
    }

    /// The message at the top of the page: `role="status"` for news, `role="alert"` for errors.
    static func notice(_ notice: Notice?) -> HTML {
        guard let notice else { return "" }
        switch notice.kind {
        case .info: return "<div class=\"notice\" role=\"status\"><p>\(notice.text)</p></div>"
        case .error: return "<div class=\"notice error\" role=\"alert\"><p>\(notice.text)</p></div>"
        }
    }

    /// One directory: its name, status, provider, created date, SCIM values, actions.
    static func directoryCard(_ d: Directory, view: SetupPageView) -> HTML {
        // Element ids come from the directory id, which this replica checks is
        // a UUID before use; escaped anyway like every value.
        let key = "dir-" + d.id
        let badge: HTML = d.deactivated
            ? "<span class=\"badge inactive\">Inactive</span>"
            : "<span class=\"badge active\">Active</span>"
        let info: HTML
        if d.type.usesSCIM {
            info = """
            <div class="info">
            \(copyField(id: key + "-endpoint", label: "SCIM endpoint", value: d.scimEndpoint(externalURL: view.externalURL)))
            \(copyField(id: key + "-token", label: "SCIM token", value: d.scimToken))
            \(d.deactivated ? "<p class=\"note\">This directory is inactive: your identity provider's requests change nothing until you activate it.</p>" as HTML : "")
            \(d.type.guide.map { guide($0, key: key) } ?? "")
            </div>
            """
        } else {
            info = googleInfo(d, view: view)
        }
        let toggle: HTML = d.deactivated
            ? actionForm(action: "activate", directory: d.id, csrf: view.csrf, label: "Activate", name: d.name, style: "button")
            : actionForm(action: "deactivate", directory: d.id, csrf: view.csrf, label: "Deactivate", name: d.name, style: "button")
        return """
        <article class="card dir\(view.highlight == d.id ? " is-new" : "" as HTML)" id="\(key)" aria-labelledby="\(key)-name">
        <div class="dir-head"><h3 id="\(key)-name">\(d.name)</h3>\(badge)</div>
        <dl class="meta">
        <div><dt>Provider</dt><dd>\(d.type.label)</dd></div>
        <div><dt>Created</dt><dd>\(d.created.map(time) ?? "unknown")</dd></div>
        </dl>
        \(info)
        <div class="actions">
        \(toggle)
        <a class="button danger" href="?confirm=delete&amp;directory=\(SetupPageController.queryValue(d.id))" aria-label="Delete \(d.name)…">Delete…</a>
        </div>
        </article>
        """
    }

    /// A Google directory's info section: who authorized it, or the button to authorize it.
    static func googleInfo(_ d: Directory, view: SetupPageView) -> HTML {
        guard view.googleOffered, let card = view.googleCards[d.id] else {
            return """
            <div class="info">
            <p class="note">Google directories have no SCIM endpoint or token: Google Workspace is connected without SCIM.</p>
            <p class="note">\(SetupPageRoutes.googleNotOffered)</p>
            </div>
            """
        }
        let href = "?google=authorize&directory=" + SetupPageController.queryValue(d.id)
        let status: HTML
        let label: String
        switch card.status {
        case .notAuthorized:
            status = "<p class=\"note\" id=\"dir-\(d.id)-google\">Not authorized yet: a Google Workspace administrator authorizes read-only access to users and groups, then they sync every few minutes.</p>"
            label = "Authorize with Google"
        case .authorized(let by):
            status = "<p class=\"note\" id=\"dir-\(d.id)-google\">Authorized by <strong>\(by)</strong>.</p>"
            label = "Re-authorize"
        case .needsReauthorization(let by):
            status = "<div class=\"notice error\" role=\"alert\" id=\"dir-\(d.id)-google\"><p>Needs re-authorization: Google no longer accepts the authorization\(by.map { " given by " + $0 } ?? "") (revoked or expired), so nothing syncs. Authorize again.</p></div>"
            label = "Authorize with Google"
        }
        let last: HTML = card.lastSync.map { "<p class=\"hint\">\($0)</p>" } ?? ""
        return """
        <div class="info">
        <p class="note">Google directories have no SCIM endpoint or token: this service reads users and groups from Google Workspace.</p>
        \(status)
        \(last)
        <div class="actions"><a class="button\(label == "Re-authorize" ? "" : " primary" as HTML)" href="\(href)" aria-label="\(label) \(d.name)">\(label)</a></div>
        </div>
        """
    }

    /// Where to paste the endpoint and token in the directory's identity provider, in the
    /// provider's own words, and a link to the provider's documentation.
    static func guide(_ g: ProviderGuide, key: String) -> HTML {
        let steps = g.steps.map { "<li>\($0)</li>" as HTML }
        return """
        <details class="guide" id="\(key)-guide" open>
        <summary>Connect \(g.provider)</summary>
        <ol>\(steps)</ol>
        <p class="note"><a href="\(g.documentation)" target="_blank" rel="noopener noreferrer">\(g.provider == "your identity provider" ? "The SCIM 2.0 protocol (RFC 7644)" : g.provider + "’s documentation")</a></p>
        </details>
        """
    }

    /// A read-only field with a copy button (shown by the script).
    ///
    /// A text area rather than an input so a long endpoint wraps and shows
    /// whole; still a labelled form control that selects and copies as one value.
    static func copyField(id: String, label: String, value: String) -> HTML {
        // Rows for browsers without `field-sizing: content`, which sizes it to the value.
        let rows = max(1, (value.count + 59) / 60)
        return """
        <div class="field">
        <label for="\(id)">\(label)</label>
        <div class="copy-row"><textarea id="\(id)" rows="\(rows)" readonly spellcheck="false" autocomplete="off" autocapitalize="off">\(value)</textarea>\
        <button type="button" data-copy="\(id)" data-what="\(label)" aria-label="Copy \(label)" hidden>Copy</button></div>
        </div>
        """
    }

    /// A one-button form that POSTs an action on one directory.
    static func actionForm(action: String, directory: String, csrf: String, label: String, name: String, style: String) -> HTML {
        """
        <form method="post" action="">\
        <input type="hidden" name="csrf" value="\(csrf)">\
        <input type="hidden" name="action" value="\(action)">\
        <input type="hidden" name="directory" value="\(directory)">\
        <button type="submit" class="\(style)" aria-label="\(label) \(name)">\(label)</button>\
        </form>
        """
    }

    /// The New Directory form: a name and a provider, Entra ID preselected.
    static func newDirectoryForm(_ view: SetupPageView) -> HTML {
        let defaultName = view.link.name ?? "scim-\(view.link.tenant)-\(view.link.product)"
        // The form posts to its own heading, so a refused form comes back scrolled to its message.
        let error: HTML = view.formError.map { "<div class=\"notice error\" id=\"new-error\" role=\"alert\"><p>\($0)</p></div>" } ?? ""
        let options = DirectoryType.allCases.filter { $0 != .google || view.googleOffered }.map { t -> HTML in
            "<option value=\"\(t.rawValue)\"\(t == view.formType ? " selected" : "" as HTML)>\(t.label)</option>"
        }
        return """
        <section aria-labelledby="new-heading">
        <h2 id="new-heading">New directory</h2>
        <form class="card form" method="post" action="#new-heading">
        <input type="hidden" name="csrf" value="\(view.csrf)">
        <input type="hidden" name="action" value="create">
        \(error)
        <div class="row">
        <div>
        <label for="new-name">Name <span class="opt">(optional)</span></label>
        <input id="new-name" name="name" type="text" maxlength="256" autocomplete="off" value="\(view.formName)" \
        aria-describedby="\(view.formError == nil ? "" : "new-error ")new-name-hint"\(view.formError == nil ? "" : " aria-invalid=\"true\"" as HTML)>
        <p class="hint" id="new-name-hint">Left empty, the directory is named \(defaultName).</p>
        </div>
        <div>
        <label for="new-type">Identity provider</label>
        <select id="new-type" name="type">\(options)</select>
        \(view.googleOffered ? "" : "<p class=\"hint\" id=\"new-type-hint\">\(SetupPageRoutes.googleNotOffered)</p>" as HTML)
        </div>
        </div>
        <div><button type="submit" class="primary">Create directory</button></div>
        </form>
        </section>
        """
    }

    /// The confirmation asked before a directory is deleted (no script needed).
    static func confirmDelete(link: SetupLink, directory d: Directory, csrf: String) -> HTML {
        let body: HTML = """
        <div class="card center">
        <h1>Delete \(d.name)?</h1>
        <p>The directory's SCIM endpoint and token stop working at once, and your identity provider can no longer sync users and groups to \(link.product). This cannot be undone.</p>
        <div class="actions">
        <form method="post" action="">\
        <input type="hidden" name="csrf" value="\(csrf)">\
        <input type="hidden" name="action" value="delete">\
        <input type="hidden" name="directory" value="\(d.id)">\
        <input type="hidden" name="confirm" value="yes">\
        <button type="submit" class="danger solid">Delete directory</button>\
        </form>
        <a class="button" href="?">Cancel</a>
        </div>
        </div>
        """
        return document(title: "Delete \(d.name)? – Directory Sync setup", body: body)
    }

    /// A page with one message: the 404 and 401 of a link, a refused form; `more` adds
    /// paragraphs after the message (what still works).
    static func message(title: String, text: String, more: [String] = [], back: Bool = false) -> HTML {
        let extra = more.map { "<p class=\"note\">\($0)</p>" as HTML }
        let body: HTML = """
        <div class="card center">
        <h1>\(title)</h1>
        <p>\(text)</p>
        \(extra)
        \(back ? "<div class=\"actions\"><a class=\"button\" href=\"?\">Back to the setup page</a></div>" as HTML : "")
        </div>
        """
        return document(title: title, body: body, privateFooter: false)
    }

    /// A `<time>` element: `2026-05-04 14:03 UTC`, machine-readable in `datetime`.
    static func time(_ date: Date) -> HTML {
        "<time datetime=\"\(iso(date))\">\(display(date))</time>"
    }

    /// `2026-05-04 14:03 UTC`, the format the REPL's tables use.
    static func display(_ date: Date) -> String { DateTime.format(date, .display) }

    /// ISO 8601 UTC with seconds, for `<time datetime>`.
    static func iso(_ date: Date) -> String { DateTime.format(date, .seconds) }
}
