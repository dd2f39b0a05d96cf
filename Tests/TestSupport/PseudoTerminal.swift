import Foundation

/// The built `setuplink` at a terminal, as a person meets it: driven through a
/// pseudo-terminal by a Python script (the standard `pty` module).
///
/// A script is `prelude` followed by steps: `expect(text)` waits for text on
/// the screen (and returns what was seen up to it), `send(keys)` types,
/// `editing()` waits until the line editor reads keys, `finish()` waits for
/// the REPL to end and prints `EXIT <status>`.
public enum PseudoTerminal {
    /// Starts the binary on a pty (`sys.argv[1:4]` are the binary, the replica and
    /// `HOME`; `args` the rest) and defines the steps. The REPL sees `TERM=xterm`,
    /// no colour, no `$PAGER` and no `XDG_STATE_HOME` (its history goes under `HOME`).
    public static let prelude = #"""
    import os, pty, sys, time, select, socket, threading, termios
    binary, db, home = sys.argv[1:4]
    args = sys.argv[4:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['HOME'] = home
        os.environ.pop('XDG_STATE_HOME', None)
        os.environ.pop('PAGER', None)
        os.environ['TERM'] = 'xterm'
        os.environ['NO_COLOR'] = '1'
        os.execv(binary, [binary, '--db', db])
    buf = b''
    def expect(s, timeout=30):
        global buf
        end = time.time() + timeout
        while s.encode() not in buf:
            r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
            if not r:
                print('TIMEOUT waiting for %r; screen tail: %r' % (s, buf[-600:])); sys.exit(3)
            try:
                data = os.read(fd, 4096)
            except OSError:
                print('EOF waiting for %r; screen tail: %r' % (s, buf[-600:])); sys.exit(4)
            buf += data
        seen = buf[:buf.index(s.encode()) + len(s)]
        buf = buf[buf.index(s.encode()) + len(s):]
        return seen.decode('utf-8', 'replace')
    def send(s):
        os.write(fd, s.encode())
    def editing(timeout=30):
        # libedit prints the prompt before it switches the terminal to raw mode: keys sent
        # in between are read by the terminal driver, as typeahead. Wait until the editor reads.
        end = time.time() + timeout
        while termios.tcgetattr(fd)[3] & termios.ICANON:
            if time.time() > end:
                print('TIMEOUT waiting for the line editor'); sys.exit(3)
            time.sleep(0.005)
    def finish():
        _, status = os.waitpid(pid, 0)
        print('EXIT', os.waitstatus_to_exitcode(status))
    """#

    /// Runs `steps` after the prelude against the built `setuplink` on replica
    /// `db` with `HOME` at `home`; `arguments` are the script's `args`.
    public static func run(_ steps: String, db: String, home: String, arguments: [String] = []) throws -> ChildRun {
        let python = try requires(.python3)
        return try runChild(URL(fileURLWithPath: python), ["-c", prelude + "\n" + steps, setuplinkBinary().path, db, home] + arguments)
    }
}
