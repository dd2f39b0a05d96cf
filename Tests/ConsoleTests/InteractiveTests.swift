import Foundation
import Testing
import TestSupport

/// Issue 12 at a real terminal: the binary driven through a pseudo-terminal (Python's `pty`).
@Suite struct InteractiveTests {
    static let promptDriver = #"""
    link_id, dir_id = args
    P = 'setuplink(admin)> '
    expect(P)
    editing()
    # Ctrl-C discards a half-typed line; the REPL stays.
    send('link delete ' + link_id)
    send('\x03')
    expect(P)
    editing()
    send('link show ' + link_id[:6] + '\r')
    expect('Valid till')
    expect(P)
    editing()
    # Ctrl-C at a [y/N] question cancels the command.
    send('link delete ' + link_id + '\r')
    expect('[y/N]')
    send('\x03')
    expect('Not deleted.')
    expect(P)
    editing()
    # A $( ) substitution asks like any other command; no means the line is not run.
    send('link show $(link delete ' + link_id + ')\r')
    expect('[y/N]')
    send('n\r')
    expect('was declined')
    expect(P)
    editing()
    # TAB completes an id prefix (the directory's, an admin command) to the whole id.
    send('directory show ' + dir_id[:5] + '\t')
    expect(dir_id[5:] + ' ')
    send('\r')
    expect('SCIM Token')
    expect(P)
    editing()
    # A failed command, a secret flag for the history, then quit: exit status 0.
    send('link show ffffffffffff\r')
    expect('no setup link with id')
    expect(P)
    editing()
    send('link update ' + link_id[:8] + ' --webhook-secret hunter2-secret\r')
    expect('webhook secret')
    expect(P)
    editing()
    # A list longer than the screen stops after a screen; q stops it.
    send('link list\r')
    expect('-- more --')
    send('q\r')
    expect(P)
    editing()
    send('quit\r')
    finish()
    """#

    /// Runs a driver (`PseudoTerminal` steps) against the binary, `HOME` beside the replica; returns what it printed.
    func drive(_ driver: String, db: String, _ args: [String]) throws -> String {
        let home = (db as NSString).deletingLastPathComponent + "/home"
        return try PseudoTerminal.run(driver, db: db, home: home, arguments: args).stdout
    }

    @Test func ctrlCCancelsTheLineOrTheQuestionAndTheSessionEndsZero() throws {
        let db = temporaryReplica()
        let home = (db as NSString).deletingLastPathComponent + "/home"
        let setup = try runTool(["--db", db], input: """
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
            open $(link copy \(linkID("acme", "crm")))
            directory new
            """ + (1...40).map { "\nlink create --tenant t\($0) --product p --webhook-url https://h.example.com/x --webhook-secret s" }.joined())
        #expect(setup.status == 0, "\(setup.stderr)")
        let dir = try #require(json(try runTool(["--db", db, "--json"], input: "directory list\n").stdout)["directories"] as? [[String: Any]])
        let dirID = try #require(dir.first?["id"] as? String)
        let text = try drive(Self.promptDriver, db: db, [linkID("acme", "crm"), dirID])
        #expect(text.contains("EXIT 0"), "\(text)")
        // Nothing was deleted: not by Ctrl-C, not by the declined substitution.
        let links = json(try runTool(["--db", db, "--json"], input: "link list\n").stdout)["links"] as? [[String: Any]]
        #expect(links?.count == 41)
        // The history has the commands, but never the secret.
        let history = (try? String(contentsOfFile: home + "/.local/state/setuplink/history", encoding: .utf8)) ?? ""
        let readable = history.replacingOccurrences(of: "\\040", with: " ")
        #expect(readable.contains("link update") && readable.contains("--webhook-secret REDACTED"), "history: \(history)")
        #expect(!history.contains("hunter2"), "history: \(history)")
    }

    static let syncDriver = #"""
    # A peer that accepts connections and never answers.
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(16)
    held = []
    def hold():
        while True:
            c, _ = srv.accept(); held.append(c)
    threading.Thread(target=hold, daemon=True).start()
    P = 'setuplink(admin)> '
    expect(P)
    editing()
    send('peer add silent http://127.0.0.1:%d\r' % srv.getsockname()[1])
    expect(P)
    editing()
    send('sync silent\r')
    screen = expect('waiting for the peer')
    expect('Ctrl-C cancels')
    send('\x03')
    expect('cancelled')
    expect(P)
    editing()
    send('status\r')
    expect('Digest')
    expect(P)
    editing()
    send('quit\r')
    finish()
    """#

    @Test func ctrlCCancelsASyncWithAPeerThatNeverAnswers() throws {
        let db = temporaryReplica()
        let text = try drive(Self.syncDriver, db: db, [])
        #expect(text.contains("EXIT 0"), "\(text)")
        // The failure is recorded on the peer, in words.
        let peers = json(try runTool(["--db", db, "--json"], input: "peer list\n").stdout)["peers"] as? [[String: Any]]
        #expect((peers?.first?["last_error"] as? String)?.contains("cancelled") == true, "\(String(describing: peers))")
    }

    static let freshnessDriver = #"""
    import subprocess
    P = 'setuplink(admin)> '
    expect(P)
    editing()
    send('status\r')
    expect('Last error')
    expect(P)
    # Another process writes while the REPL waits at its prompt.
    subprocess.run([binary, '--db', db, 'link', 'create', '--tenant', 'written-elsewhere', '--product', 'crm',
                    '--webhook-url', 'https://h.example.com/x', '--webhook-secret', 's3cret'], check=True, capture_output=True)
    editing()
    send('link list\r')
    print('LIST', expect(P))
    editing()
    send('link create --tenant written-here --product crm --webhook-url https://h.example.com/x --webhook-secret s3cret\r')
    print('CREATE', expect(P))
    editing()
    send('quit\r')
    finish()
    """#

    /// `status` on a replica with a peer used to leave a statement of the digest on a row, and with
    /// it a read transaction: the REPL then saw nothing written by other processes, and its next
    /// write failed with "database is locked". The REPL must see the other process's link, and write.
    @Test func afterStatusTheReplSeesWhatOthersWroteAndWrites() throws {
        let db = temporaryReplica()
        let tokenFile = (db as NSString).deletingLastPathComponent + "/peer.token"
        try "peer-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let setup = try runTool(["--db", db], input: """
            link create --tenant acme --product crm --webhook-url https://h.example.com/x --webhook-secret s
            peer add hub http://127.0.0.1:9 --token-file \(tokenFile)
            """)
        #expect(setup.status == 0, "\(setup.stderr)")
        let text = try drive(Self.freshnessDriver, db: db, [])
        #expect(text.contains("EXIT 0"), "\(text)")
        #expect(text.contains("written-elsewhere"), "\(text)")
        #expect(text.contains("Created the setup link for written-here"), "\(text)")
        #expect(!text.contains("locked"), "\(text)")
    }
}
