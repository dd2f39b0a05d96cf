import Foundation
import HTTP
import SetupLinks
import Storage
import Testing
import TestSupport
@testable import Console

/// Issue 26 at the admin's terminal: names an identity provider sent over a real
/// socket print with their control characters escaped; misspelt secret flags and
/// secrets after an escaped space stay out of the history; the directory quota is a
/// sentence in the REPL too.
@Suite struct HostileTextTests {
    static let driver = #"""
    dir_id, user_id = args
    P = 'setuplink(admin)> '
    expect(P)
    editing()
    send('directory users ' + dir_id + '\r')
    print('USERS', repr(expect(P)))
    editing()
    send('user show ' + user_id + '\r')
    print('SHOW', repr(expect(P)))
    editing()
    send('link update nothing --webhook-secr SUPERSECRET8\r')
    print('TYPO', repr(expect(P)))
    editing()
    send('link update nothing --webhook-secret\\ ESCAPEDSECRET9\r')
    print('ESCAPED', repr(expect(P)))
    editing()
    send('link update nothing --tokn=EQUALSSECRET7\r')
    expect(P)
    editing()
    send('quit\r')
    finish()
    """#

    @Test func namesFromAnIdentityProviderCannotDriveTheTerminalAndSecretsStayOutOfTheHistory() throws {
        let db = temporaryReplica()
        let home = (db as NSString).deletingLastPathComponent + "/home"
        let store = try SetupLinkService.openStore(path: db)
        let service = try SetupLinkService(store: store, externalURL: "https://hub.example.test")
        let (link, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: "https://h.example.com/x", webhookSecret: "s")
        let d = try service.open(link.token).createDirectory(type: .okta, name: "Acme Okta")
        store.close()

        // The identity provider's request, over a real socket to the real `serve`.
        let served = try ServedSetuplink(db: db)
        let body = #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"esc\u001b]0;PWNED\u0007@example.com","name":{"givenName":"\u001b[2J","familyName":"Bell\u0007\u009b31m"},"displayName":"\u202eevil"}"#
        let created = try HTTPClient(timeout: .seconds(10)).send(
            method: "POST", url: served.url + d.scimPath + "/Users",
            headers: ["Authorization": "Bearer \(d.scimToken)", "Content-Type": "application/scim+json"], body: Array(body.utf8))
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        let userID = try #require((try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])?["id"] as? String)
        served.stop()

        let run = try PseudoTerminal.run(Self.driver, db: db, home: home, arguments: [d.id, userID])
        let screen = run.stdout
        #expect(screen.contains("EXIT 0"), "\(screen)")
        // Python's repr shows ESC as \x1b: none reaches the screen raw.
        for raw in [#"\x1b]0;"#, #"\x1b[2J"#, #"\x07"#, #"\x9b"#, #"\u202e"#] {
            #expect(!screen.contains(raw), "\(raw) reached the terminal: \(screen)")
        }
        // Escaped, so the admin sees what was sent.
        let users = screen.split(separator: "\n").first { $0.hasPrefix("USERS") }.map(String.init) ?? ""
        #expect(users.contains(#"esc\\u{1B}]0;PWNED\\u{7}@example.com"#), "\(users)")
        let show = screen.split(separator: "\n").first { $0.hasPrefix("SHOW") }.map(String.init) ?? ""
        #expect(show.contains(#"\\u{1B}[2J"#) && show.contains(#"\\u{202E}evil"#), "\(show)")
        #expect(screen.contains("did you mean --webhook-secret?"), "\(screen)")

        let history = (try? String(contentsOfFile: home + "/.local/state/setuplink/history", encoding: .utf8)) ?? ""
        #expect(history.contains("webhook-secr"), "the mistyped line is kept, redacted: \(history)")
        for secret in ["SUPERSECRET8", "ESCAPEDSECRET9", "EQUALSSECRET7"] {
            #expect(!history.contains(secret), "\(secret) in the history: \(history)")
        }
    }

    @Test func theDirectoryQuotaIsASentenceInTheREPL() throws {
        let db = temporaryReplica()
        let setup = try runTool(["--db", db], input: """
            config max-directories-per-link 3
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
            """)
        #expect(setup.status == 0, "\(setup.stderr)")
        let linkID = SetupLinkService.linkID(tenant: "acme", product: "crm")
        let run = try runTool(["--db", db], input: "open $(link copy \(linkID))\n" + String(repeating: "directory new\n", count: 4))
        #expect(run.status == 1)
        #expect(run.stdout.components(separatedBy: "Created a directory").count - 1 == 3, "\(run.stdout)")
        #expect(run.stderr.contains("error: This setup link already has 3 directories, the most it may have; delete one to make another, or ask your administrator to raise the limit."), "\(run.stderr)")
        let shown = try runTool(["--db", db, "config"])
        #expect(shown.stdout.contains("max-directories-per-link  3"), "\(shown.stdout)")
        let bad = try runTool(["--db", db, "config", "max-directories-per-link", "lots"])
        #expect(bad.status != 0 && bad.stderr.contains("max-directories-per-link must be a whole number from 1 to 10000, not lots"), "\(bad.stderr)")
    }

    @Test func misspeltSecretFlagsAndEscapedSpacesAreRedacted() {
        let r = SecretRedaction.redact
        #expect(r("link update abc --webhook-secr SUPERSECRET8") == "link update abc --webhook-secr REDACTED")
        #expect(r("link update abc --webhook-secret\\ SECRET9 --name x") == "link update abc '--webhook-secret REDACTED' --name x")
        #expect(r("peer add hub http://h --tokn=SECRET7") == "peer add hub http://h --tokn=REDACTED")
        #expect(r("peer add hub http://h --toke SECRET6") == "peer add hub http://h --toke REDACTED")
        // Flags some command takes are judged by their own name: nothing to hide.
        #expect(r("link list --tenant acme --product crm") == "link list --tenant acme --product crm")
        #expect(r("link create --tenant acme --webhook-url https://h.example.com/x") == "link create --tenant acme --webhook-url https://h.example.com/x")
        // A misspelt secret flag on a line that cannot be split is not kept at all.
        #expect(r("link update abc --webhook-secr \"unterminated") == nil)
    }

    @Test func theConsoleKeepsItsOwnColoursAndEscapesEveryOtherControl() {
        let style = Style(enabled: true)
        let line = "Status " + style.status("active") + " name \u{1B}[31mfake\u{1B}]0;title\u{7} \u{85}\u{202E}x\nnext"
        let shown = TerminalText.safe(line)
        // The status word keeps its colour; the name's colour and title sequences are shown, escaped.
        #expect(shown == "Status \u{1B}[32mactive\u{1B}[0m name \\u{1B}[31mfake\\u{1B}]0;title\\u{7} \\u{85}\\u{202E}x\nnext")
        #expect(TerminalText.safe(style.errorLabel + " bad \u{1B}[0m") == style.errorLabel + " bad \\u{1B}[0m")
        #expect(TerminalText.jsonSafe(#"{"name":"a\#u{85}b\#u{2028}"}"#) == #"{"name":"a\u0085b\u2028"}"#)
    }
}
