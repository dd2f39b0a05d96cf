import Foundation
import Testing
import TestSupport

/// Drives the real binary through a pseudo-terminal (`PseudoTerminal`, Python's standard `pty` module).
@Suite struct TerminalSessionTests {
    static let driver = #"""
    doomed, kept = args
    expect('setuplink(admin)> ')
    send('link delete %s\r' % doomed)
    expect('[y/N]')
    send('n\r')
    expect('Not deleted.')
    expect('setuplink(admin)> ')
    send('link delete %s\r' % doomed)
    expect('[y/N]')
    send('yes\r')
    expect('Deleted the setup link')
    expect('setuplink(admin)> ')
    send('provi\t')
    expect('ders ')  # TAB completed 'provi' to 'providers '
    send('\r')
    expect('Entra ID SCIM v2.0')
    expect('setuplink(admin)> ')
    send('open $(link copy %s)\r' % kept)
    expect('setuplink(globex/crm)> ')
    send('close\r')
    expect('setuplink(admin)> ')
    send('quit\r')
    finish()
    """#

    @Test func confirmationPromptAndLineEditingOnATerminal() throws {
        let db = temporaryReplica()
        let home = (db as NSString).deletingLastPathComponent + "/home"
        let doomed = linkID("acme", "crm"), kept = linkID("globex", "crm")
        let setup = try runTool(["--db", db], input: """
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
            link create --tenant globex --product crm --webhook-url https://h.example.com/x --webhook-secret s
            """)
        #expect(setup.status == 0)
        let run = try PseudoTerminal.run(Self.driver, db: db, home: home, arguments: [doomed, kept])
        let text = run.stdout
        #expect(run.status == 0, "\(text)\(run.stderr)")
        #expect(text.contains("EXIT 0"), "\(text)")
        // The replica afterwards: acme's link is gone, globex's is there.
        let list = json(try runTool(["--db", db, "--json"], input: "link list\n").stdout)
        let tenants = (list["links"] as? [[String: Any]] ?? []).compactMap { $0["tenant"] as? String }
        #expect(tenants == ["globex"])
        // History is kept between runs.
        let history = (try? String(contentsOfFile: home + "/.local/state/setuplink/history", encoding: .utf8)) ?? ""
        // libedit's format escapes spaces as \040.
        #expect(history.replacingOccurrences(of: "\\040", with: " ").contains("link delete"), "history: \(history)")
    }
}
