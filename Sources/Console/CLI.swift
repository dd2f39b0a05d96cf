import Foundation
import PeerSync
import SetupLinks
import Storage

/// The `setuplink` command line: global flags, subcommands, exit codes.
///
/// `setuplink [--db PATH] [--json] [--external-url URL] [repl|serve|sync|help] …`.
/// Exit status: 0 on success, 1 if any command failed, 2 for a malformed command line.
public enum SetupLinkCLI {
    /// Global options, given before the subcommand.
    public struct Options: Sendable {
        /// The replica file.
        public var db: String
        /// Print JSON objects, one per line.
        public var json = false
        /// The external URL for setup links and SCIM endpoints.
        public var externalURL: String
    }

    /// The default replica path: `$SETUPLINK_DB`, else `~/.local/share/setuplink/replica.sqlite`.
    public static func defaultDB(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = environment["SETUPLINK_DB"], !p.isEmpty { return p }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/setuplink/replica.sqlite"
    }

    static let usage = """
        usage: setuplink [--db PATH] [--json] [--external-url URL] [COMMAND]

        With no command, opens the REPL on the replica (type help inside).
        Commands:
          repl                              the REPL (the default)
          serve [--port 8080] [--bind ADDR] [--token-file F] [--tls-cert PEM --tls-key PEM]
                                            serve this replica to peers over HTTP(S)
          serve token show|rotate           print or replace the stored peer token
          sync NAME|URL [--token-file F] [--cacert PEM]
                                            pull then push changes with a peer
                                            (the token: --token-file, else env SETUPLINK_TOKEN)
          help                              this text

        Options (before the command):
          --db PATH            the replica file (env SETUPLINK_DB; default ~/.local/share/setuplink/replica.sqlite)
          --json               print one JSON object per line
          --external-url URL   base of setup links and SCIM endpoints (env SETUPLINK_EXTERNAL_URL; default http://localhost:8080)
        """

    /// Runs the program with `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        let env = ProcessInfo.processInfo.environment
        var options = Options(db: defaultDB(environment: env),
                              externalURL: env["SETUPLINK_EXTERNAL_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? SetupLinkService.defaultExternalURL)
        var args = arguments[...]
        while let a = args.first, a.hasPrefix("-") {
            args.removeFirst()
            func value() -> String? {
                if let eq = a.firstIndex(of: "=") { return String(a[a.index(after: eq)...]) }
                return args.popFirst()
            }
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            switch name {
            case "--db":
                guard let v = value(), !v.isEmpty else { return usageError("--db needs a file path") }
                options.db = v
            case "--external-url":
                guard let v = value(), !v.isEmpty else { return usageError("--external-url needs a URL") }
                options.externalURL = v
            case "--json": options.json = true
            case "-h", "--help":
                print(usage)
                return 0
            default:
                return usageError("unknown option \(a) (see: setuplink help)")
            }
        }
        // A token on the process's command line is readable by every user (ps).
        if args.contains(where: { $0 == "--token" || $0.hasPrefix("--token=") }) {
            return usageError(ServeCommand.tokenOnCommandLine)
        }
        let command = args.popFirst() ?? "repl"
        switch command {
        case "repl":
            guard args.isEmpty else { return usageError("repl takes no arguments") }
            return REPL.run(options: options)
        case "help":
            print(usage)
            return 0
        case "serve":
            return ServeCommand.run(options: options, arguments: Array(args))
        case "sync":
            return REPL.runOne(options: options, line: (["sync"] + args.map(CommandLexer.quote)).joined(separator: " "))
        default:
            let hint = closestMatch(to: command, in: ["repl", "serve", "sync", "help"]).map { " — did you mean \"\($0)\"?" } ?? ""
            return usageError("unknown command \"\(command)\"\(hint) (see: setuplink help)")
        }
    }

    static func usageError(_ message: String) -> Int32 {
        printError(message)
        return 2
    }

    /// Prints `error: message` to standard error.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    /// Opens the replica and the flows, or prints why not.
    static func openService(_ options: Options) -> SetupLinkService? {
        do {
            let store = try SetupLinkService.openStore(path: options.db)
            return try SetupLinkService(store: store, externalURL: options.externalURL)
        } catch {
            printError("\(error)")
            return nil
        }
    }
}

/// The read-eval-print loop, interactive on a TTY and line by line on a pipe.
enum REPL {
    static func writeLine(_ s: String) {
        print(s)
        fflush(nil)
    }

    /// Runs the REPL until `quit` or end of input.
    static func run(options: SetupLinkCLI.Options) -> Int32 {
        guard let service = SetupLinkCLI.openService(options) else { return 1 }
        defer { service.store.close() }
        if Terminal.stdinIsTTY { return interactive(service, options) }
        return piped(service, options)
    }

    /// Runs one command line (for `setuplink sync …`) and exits.
    static func runOne(options: SetupLinkCLI.Options, line: String) -> Int32 {
        guard let service = SetupLinkCLI.openService(options) else { return 1 }
        defer { service.store.close() }
        var progress: (@Sendable (String) -> Void)?
        if Terminal.stderrIsTTY { progress = { @Sendable s in progressLine(s) } }
        let session = ConsoleSession(service: service, json: options.json,
                                     io: ConsoleIO(out: { s in writeLine(s) }, confirm: nil, progress: progress))
        if case .failed(let message) = session.run(line: line) {
            SetupLinkCLI.printError(message)
            return 1
        }
        return 0
    }

    static func progressLine(_ s: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(s)".utf8))
    }

    /// Runs lines from `next` until it returns nil or `quit`; failures go to stderr.
    /// Returns 1 if any line failed (the others still ran), else 0.
    static func loop(_ session: ConsoleSession, next: () -> String?) -> Int32 {
        var failed = false
        while let line = next() {
            switch session.run(line: line) {
            case .ok: continue
            case .quit: return failed ? 1 : 0
            case .failed(let message):
                failed = true
                SetupLinkCLI.printError(message)
            }
        }
        return failed ? 1 : 0
    }

    static func piped(_ service: SetupLinkService, _ options: SetupLinkCLI.Options) -> Int32 {
        let session = ConsoleSession(service: service, json: options.json, io: ConsoleIO(out: { writeLine($0) }, confirm: nil))
        return loop(session) { readLine(strippingNewline: true) }
    }

    static func historyFile() -> String {
        let env = ProcessInfo.processInfo.environment
        if let state = env["XDG_STATE_HOME"], !state.isEmpty { return state + "/setuplink/history" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/state/setuplink/history"
    }

    static func interactive(_ service: SetupLinkService, _ options: SetupLinkCLI.Options) -> Int32 {
        let table = CommandTable.completionTable
        let editor = LineEditor(programName: "setuplink", historyFile: historyFile(), prompt: "setuplink(admin)> ",
                                completer: { completions(for: $0, commands: table) })
        let session = ConsoleSession(service: service, json: options.json, io: ConsoleIO(
            out: { writeLine($0) },
            confirm: { Terminal.confirm($0) },
            progress: { progressLine($0) }))
        writeLine("setuplink — replica \(service.store.replicaID.hex) at \(service.store.path)")
        writeLine("Type help for commands, quit to leave.")
        return loop(session) {
            editor.prompt = session.prompt
            guard let line = editor.readLine() else {
                writeLine("")
                return nil
            }
            return line
        }
    }
}
