import Foundation
import Synchronization

/// Ctrl-C while a command runs in the interactive REPL: it cancels the command, not the REPL.
///
/// At the prompt, Ctrl-C is a key the line editor handles (it discards the line).
/// While a command runs the terminal is in its normal mode, so Ctrl-C raises
/// SIGINT; the handler installed here only records it. A blocked `read` returns
/// `EINTR` (the handler is installed without `SA_RESTART`), so a `[y/N]` question
/// is cancelled; a sync polls ``isPending`` from libcurl's progress callback and
/// stops; a long list stops printing. The REPL clears the flag before each command.
public enum Interrupt {
    /// Set by the SIGINT handler; an atomic store is async-signal-safe.
    private static let pending = Atomic<Bool>(false)
    /// The self-pipe: the handler writes a byte to `wake[1]`, so a wait on `wake[0]`
    /// ends even when Ctrl-C came just before the wait began (a flag checked before a
    /// blocking `read` would miss that one). Set once by `install()`, before the handler.
    nonisolated(unsafe) private static var wake: (Int32, Int32) = (-1, -1)

    /// Installs the SIGINT handler for the rest of the process.
    public static func install() {
        // Touch the static first: its lazy initialisation must not happen inside the handler.
        pending.store(false, ordering: .relaxed)
        if wake.0 < 0 {
            var fds: [Int32] = [-1, -1]
            if pipe(&fds) == 0 {
                for fd in fds {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                }
                wake = (fds[0], fds[1])
            }
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            Interrupt.pending.store(true, ordering: .relaxed)
            var byte: UInt8 = 1
            if Interrupt.wake.1 >= 0 { _ = write(Interrupt.wake.1, &byte, 1) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        // A parent may hand down SIGINT blocked (spawners often block signals in their
        // threads); the REPL needs it delivered.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Whether Ctrl-C was pressed since the last ``clear()``.
    public static var isPending: Bool { pending.load(ordering: .relaxed) }

    /// Forgets an earlier Ctrl-C (before a new command starts).
    public static func clear() {
        pending.store(false, ordering: .relaxed)
        drain()
    }

    /// Waits until `fd` is readable (`true`) or Ctrl-C is pressed (`false`), whichever
    /// comes first, including a Ctrl-C pressed just before the wait.
    public static func waitReadable(_ fd: Int32) -> Bool {
        while true {
            if isPending { return false }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wake.0, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, wake.0 >= 0 ? 2 : 1, -1)
            if n < 0 { if errno == EINTR { continue } else { return true } }
            if fds.count > 1, fds[1].revents != 0 {
                drain()
                if isPending { return false }
            }
            if fds[0].revents != 0 { return true }
        }
    }

    private static func drain() {
        guard wake.0 >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wake.0, &buffer, buffer.count) > 0 {}
    }
}
