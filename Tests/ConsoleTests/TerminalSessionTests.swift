import Foundation
import Testing
import TestSupport

/// Drives the real binary through a pseudo-terminal (Python's standard `pty` module).
@Suite struct TerminalSessionTests {
    static let driver = #"""
    import os, pty, sys, time, select
    binary, db, home, doomed, kept = sys.argv[1:6]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['HOME'] = home
        os.environ.pop('XDG_STATE_HOME', None)
        os.environ['TERM'] = 'xterm'
        os.execv(binary, [binary, '--db', db])
    buf = b''
    def expect(s, timeout=30):
        global buf
        end = time.time() + timeout
        while s.encode() not in buf:
            r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
            if not r:
                print('TIMEOUT waiting for %r; screen tail: %r' % (s, buf[-400:])); sys.exit(3)
            try:
                data = os.read(fd, 4096)
            except OSError:
                print('EOF waiting for %r' % s); sys.exit(4)
            buf += data
        buf = buf[buf.index(s.encode()) + len(s):]
    def send(s):
        os.write(fd, s.encode())
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
    _, status = os.waitpid(pid, 0)
    print('EXIT', os.waitstatus_to_exitcode(status))
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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", Self.driver, productsDirectory().appendingPathComponent("setuplink").path, db, home, doomed, kept]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
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
