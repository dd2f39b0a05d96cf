import Foundation
import PeerSync
import SetupLinks
import Storage

/// The read-eval-print loop, interactive on a TTY and line by line on a pipe, and one-shot commands.
///
/// Exit status: a piped script ends 1 if any line failed (the others still ran); an
/// interactive session ends 0 at `quit` or Ctrl-D whatever failed on the way (the
/// person saw each error); a one-shot command ends 1 if it failed.
enum REPL {
    static func writeLine(_ s: String) {
        print(s)
        fflush(nil)
    }

    static func progressLine(_ s: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(TerminalText.safe(s))".utf8))
    }

    /// Runs the REPL until `quit` or end of input.
    static func run(options: SetupLinkCLI.Options) -> Int32 {
        let isNew = !FileManager.default.fileExists(atPath: options.db)
        guard let (service, source) = SetupLinkCLI.openSession(options) else { return 1 }
        defer { service.store.close() }
        if Terminal.stdinIsTTY { return interactive(service, options, source, isNew: isNew) }
        return piped(service, options, source)
    }



    /// What a terminal user gets: questions, colour, paging, progress; plain on pipes.
    static func io(interactive: Bool) -> ConsoleIO {
        let confirm: (@Sendable (String) -> Bool)? = interactive ? { @Sendable q in Terminal.confirm(TerminalText.safe(q)) } : nil
        let progress: (@Sendable (String) -> Void)? = interactive && Terminal.stderrIsTTY ? { @Sendable s in progressLine(s) } : nil
        let paging: Paging? = interactive && Terminal.stdoutIsTTY ? Paging.forTerminal() : nil
        return ConsoleIO(out: { @Sendable s in writeLine(s) }, confirm: confirm, progress: progress,
                         style: Style(enabled: Style.wanted(fd: STDOUT_FILENO)), paging: paging,
                         interrupted: { @Sendable in Interrupt.isPending })
    }

    /// Runs one command given as words (`setuplink link list --tenant acme`) and exits:
    /// the same output, JSON and exit status as the same line piped in. On a terminal it
    /// asks before deleting, pages long lists and shows sync progress, like the REPL.
    static func runOne(options: SetupLinkCLI.Options, words: [String]) -> Int32 {
        let isNew = !FileManager.default.fileExists(atPath: options.db)
        if isNew, let spec = CommandRegistry.lookup(words)?.configuration ?? CommandRegistry.command(aliased: words[0])?.configuration,
           SetupLinkCLI.readOnlyCommands.contains(spec.name) || (spec.name == "config" && words.count <= 2) {
            let message = SetupLinkCLI.noReplica(options.db)
            if options.json { writeLine(Format.jsonLine([("error", .string(message)), ("command", .string(spec.name))])) }
            SetupLinkCLI.printError(message)
            return 1
        }
        guard let (service, source) = SetupLinkCLI.openSession(options) else { return 1 }
        let session = ConsoleSession(service: service, json: options.json, io: io(interactive: Terminal.stdinIsTTY))
        session.externalURLSource = source
        session.oneShot = true
        if case .failed(let message) = session.run(words: words) {
            // A failed command leaves no file it made and wrote nothing to (a first `sync URL`
            // with a wrong token would else leave an empty replica, which a later clone refuses).
            let holdsNothing = (try? service.store.countsByKind().filter { $0.kind != .replica }.allSatisfy { $0.live + $0.tombstones == 0 }) ?? false
            service.store.close()
            if isNew && holdsNothing { for suffix in ["", "-wal", "-shm", "-journal"] { unlink(options.db + suffix) } }
            SetupLinkCLI.printError(message)
            // A malformed command (unknown command or flag, a missing argument) is a malformed command line.
            return session.lastFailureWasUsage ? 2 : 1
        }
        service.store.close()
        return 0
    }

    /// Runs lines from `next` until it returns nil or `quit`; failures go to stderr.
    /// Returns whether any line failed (the others still ran).
    ///
    /// With `remaining` (a piped script), a failed `open` ends the script: the lines after it
    /// were written for that tenant's page and must not run in the admin view (or on the page
    /// opened before); `remaining` reads and counts them for the message.
    static func loop(_ session: ConsoleSession, next: () -> String?, remaining: (() -> Int)? = nil) -> Bool {
        var failed = false
        while let line = next() {
            Interrupt.clear()
            switch session.run(line: line) {
            case .ok: continue
            case .quit: return failed
            case .failed(let message):
                failed = true
                if let remaining, isOpen(line), case let n = remaining(), n > 0 {
                    let sentence = message.hasSuffix(".") ? String(message.dropLast()) : message
                    SetupLinkCLI.printError(sentence + " — the script stops here: the remaining \(n) line\(n == 1 ? " was" : "s were") not run")
                    return true
                }
                SetupLinkCLI.printError(message)
            }
        }
        return failed
    }

    /// Whether `line` runs `open` (the first word, before any substitution).
    static func isOpen(_ line: String) -> Bool {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first == "open"
    }

    static func piped(_ service: SetupLinkService, _ options: SetupLinkCLI.Options, _ source: String) -> Int32 {
        let session = ConsoleSession(service: service, json: options.json, io: io(interactive: false))
        session.externalURLSource = source
        // The lines left in the script: blank lines and comments do not count.
        let remaining = {
            var n = 0
            while let l = readLine(strippingNewline: true) {
                let t = l.trimmingCharacters(in: .whitespaces)
                if !t.isEmpty && !t.hasPrefix("#") { n += 1 }
            }
            return n
        }
        return loop(session, next: { readLine(strippingNewline: true) }, remaining: remaining) ? 1 : 0
    }

    static func historyFile() -> String {
        let env = ProcessInfo.processInfo.environment
        if let state = env["XDG_STATE_HOME"], !state.isEmpty { return state + "/setuplink/history" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/state/setuplink/history"
    }

    static func interactive(_ service: SetupLinkService, _ options: SetupLinkCLI.Options, _ source: String, isNew: Bool) -> Int32 {
        // Ctrl-C while a command runs cancels that command; at the prompt it discards the line.
        Interrupt.install()
        let session = ConsoleSession(service: service, json: options.json, io: io(interactive: true))
        session.externalURLSource = source
        let editor = LineEditor(programName: "setuplink", historyFile: historyFile(), prompt: "setuplink(admin)> ",
                                completer: { [unowned session] in session.completions(for: $0) })
        editor.historyFilter = SecretRedaction.redact
        writeLine(isNew ? "setuplink — new replica \(service.store.replicaID.hex) at \(service.store.path) (created now)"
                        : "setuplink — replica \(service.store.replicaID.hex) at \(service.store.path)")
        writeLine("Type help for commands, quit (or Ctrl-D) to leave; Ctrl-C cancels a line or a command.")
        // A person saw every error as it happened: leaving is not a failure.
        _ = loop(session, next: {
            editor.prompt = session.prompt
            guard let line = editor.readLine() else {
                writeLine("")
                return nil
            }
            return line
        })
        return 0
    }
}
