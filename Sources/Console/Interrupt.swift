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

    /// Installs the SIGINT handler for the rest of the process.
    public static func install() {
        // Touch the static first: its lazy initialisation must not happen inside the handler.
        pending.store(false, ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Interrupt.pending.store(true, ordering: .relaxed) }
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
    public static func clear() { pending.store(false, ordering: .relaxed) }
}
