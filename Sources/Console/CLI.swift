import Foundation
import JSON
import PeerSync
import SetupLinks
import Storage

/// The `setuplink` command line: global flags, subcommands, exit codes.
///
/// `setuplink [--db PATH] [--json] [--external-url URL] [repl|serve|help|COMMAND …]`, where
/// COMMAND is any REPL command run once (`setuplink link list --tenant acme`).
/// Exit status: 0 on success, 1 if a command failed, 2 for a malformed command line.
public enum SetupLinkCLI {
    /// The program's version, printed by `--version`.
    public static let version = "0.2.0"

    /// Global options, given before the subcommand.
    public struct Options: Sendable {
        /// The replica file.
        public var db: String
        /// Print JSON objects, one per line.
        public var json = false
        /// The external URL for setup links and SCIM endpoints.
        public var externalURL: String
        /// Where `externalURL` came from: `--external-url`, `SETUPLINK_EXTERNAL_URL`, or `default`
        /// (then the replica's `config external-url` setting applies, if set).
        public var externalURLSource = "default"
    }

    /// The default replica path: `$SETUPLINK_DB`, else `~/.local/share/setuplink/replica.sqlite`.
    public static func defaultDB(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = environment["SETUPLINK_DB"], !p.isEmpty { return p }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/setuplink/replica.sqlite"
    }

    /// The program's usage text (`setuplink help`, `--help`).
    static let usage = """
        usage: setuplink [--db PATH] [--json] [--external-url URL] [COMMAND ...]

        With no command, opens the REPL on the replica (type help inside).
        Commands:
          repl                              the REPL (the default)
          init                              create the replica file (--db PATH)
          serve [--port 8080] [--bind ADDR] [--token-file F] [--tls-cert PEM --tls-key PEM [--tls-priority S]]
                [--webhook-batch N] [--external-url URL]
                                            serve this replica: peers, SCIM, the setup page, webhooks (help serve)
          serve token show|rotate           print or replace the stored peer token
          serve peer-token create NAME [--read-only] | list | revoke NAME
                                            per-peer credentials of this hub (shown once, stored hashed)
          serve ... --follow NAME...        keep syncing with these peers while serving
          serve ... --metrics-token-file F  serve GET /metrics (Prometheus) behind that token
          backup FILE                       copy this replica, even while it is served, as a new replica
          clone URL [--token-file F] [--cacert PEM] [--name PEER]
                                            make --db (a new file) from the hub's snapshot, then sync
          sync NAME|URL [--token-file F] [--cacert PEM]
                                            pull then push changes with a peer
                                            (the token: --token-file, else env SETUPLINK_TOKEN)
          help [COMMAND]                    this text, or one command's flags and an example
          any REPL command, run once:       setuplink link list --tenant acme
                                            setuplink --json link show 3309

        Options (before the command, or after it when the command has no flag of that name):
          --db PATH            the replica file (env SETUPLINK_DB; default ~/.local/share/setuplink/replica.sqlite)
          --json               print one JSON object per command
          --external-url URL   base of setup links and SCIM endpoints (env SETUPLINK_EXTERNAL_URL;
                               else the replica's config external-url; else where serve last served
                               this file; else http://localhost:8080; serve itself uses the address it serves)
          --version            print the version

        Exit status: 0 done; 1 a command failed (a piped script: any line; a failed open stops it);
        2 a malformed command line (unknown command or flag, a missing argument, --token on it).
        """

    /// The global flags, for "did you mean".
    static let globalFlags = ["--db", "--json", "--external-url", "--version", "--help"]

    /// The global flags that take a value.
    static let valueFlags: Set<String> = ["--db", "--external-url"]

    /// Runs the program with `arguments` (without the program name); returns the exit status.
    ///
    /// Global flags may also come after the command (`setuplink link list --json`) when the
    /// command has no flag of that name. With `--json` anywhere, every error is also printed
    /// as one JSON object on standard output.
    public static func main(_ arguments: [String]) -> Int32 {
        let env = ProcessInfo.processInfo.environment
        var options = Options(db: defaultDB(environment: env), externalURL: SetupLinkService.defaultExternalURL)
        if let e = env["SETUPLINK_EXTERNAL_URL"], !e.isEmpty {
            options.externalURL = e
            options.externalURLSource = "SETUPLINK_EXTERNAL_URL"
        }
        // Known before parsing, so even a malformed command line answers in JSON.
        jsonErrors = arguments.contains("--json")
        var args = arguments[...]
        while let a = args.first, a.hasPrefix("-") {
            args.removeFirst()
            func value() -> String? {
                if let eq = a.firstIndex(of: "=") { return String(a[a.index(after: eq)...]) }
                return args.popFirst()
            }
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            switch name {
            case "--db", "--external-url", "--json":
                if let error = applyGlobal(name, value: name == "--json" ? nil : value(), to: &options) { return usageError(error) }
            case "--version", "-V":
                print("setuplink \(version)")
                return 0
            case "-h", "--help":
                print(usage)
                return 0
            default:
                let hint = closestMatch(to: name, in: globalFlags).map { " — did you mean \($0)?" } ?? ""
                return usageError("unknown option \(name)\(hint) (see: setuplink help)")
            }
        }
        var words = Array(args)
        // A token on the process's command line is readable by every user (ps):
        // refused for every one-shot command (serve, sync, peer add, …); the REPL's input is not a command line.
        if words.contains(where: { $0 == "--token" || $0.hasPrefix("--token=") }) {
            return usageError(ServeCommand.tokenOnCommandLine)
        }
        let command = words.first ?? "repl"
        switch command {
        case "repl":
            if let error = takeTrailingGlobals(&words, from: 1, keeping: [], options: &options) { return usageError(error) }
            guard words.count <= 1 else { return usageError("repl takes no arguments") }
            return REPL.run(options: options)
        case "init":
            if let error = takeTrailingGlobals(&words, from: 1, keeping: [], options: &options) { return usageError(error) }
            guard words.count <= 1 else { return usageError("init takes no arguments (the file is --db PATH)") }
            return initReplica(options)
        case "help":
            if let error = takeTrailingGlobals(&words, from: 1, keeping: [], options: &options) { return usageError(error) }
            return help(Array(words.dropFirst()), json: options.json)
        case "serve":
            // serve reads its own flags, global ones included.
            return ServeCommand.run(options: options, arguments: Array(words.dropFirst()))
        case "backup":
            if let error = takeTrailingGlobals(&words, from: 1, keeping: [], options: &options) { return usageError(error) }
            return BackupCommand.run(options: options, arguments: Array(words.dropFirst()))
        case "clone":
            if let error = takeTrailingGlobals(&words, from: 1, keeping: [], options: &options) { return usageError(error) }
            return CloneCommand.run(options: options, arguments: Array(words.dropFirst()))
        default:
            let firstWords = Set(CommandRegistry.firstWords + CommandRegistry.aliases)
            guard firstWords.contains(command) else {
                let candidates = ["repl", "serve", "backup", "clone", "help", "init"] + firstWords.sorted()
                let hint = closestMatch(to: command, in: candidates).map { " — did you mean \"\($0)\"?" } ?? ""
                return usageError("unknown command \"\(command)\"\(hint) (see: setuplink help)")
            }
            // An unknown second word (`link lsit --json`) still gets its global flags read, so it fails in JSON.
            let spec = CommandRegistry.lookup(words)?.configuration
            if let error = takeTrailingGlobals(&words, from: spec?.words.count ?? 1, keeping: spec?.flags ?? [], options: &options) {
                return usageError(error)
            }
            return REPL.runOne(options: options, words: words)
        }
    }

    /// Whether errors are also printed as JSON (`--json` was given anywhere).
    nonisolated(unsafe) static var jsonErrors = false

    /// Sets global flag `name` (`--json`, `--db`, `--external-url`) to `value`; returns what was wrong, if anything.
    static func applyGlobal(_ name: String, value: String?, to options: inout Options) -> String? {
        switch name {
        case "--db":
            guard let v = value, !v.isEmpty else { return "--db needs a file path" }
            options.db = v
        case "--external-url":
            guard let v = value, !v.isEmpty else { return "--external-url needs a URL" }
            options.externalURL = v
            options.externalURLSource = "--external-url"
        default:
            options.json = true
        }
        return nil
    }

    /// A global flag met while a subcommand reads its own words (`backup COPY --db F`):
    /// `a` is the word, `args` the words after it (a separate value is taken from them).
    /// Returns nil when `a` is not a global flag, else what was wrong ("" when nothing).
    static func takeGlobal(_ a: String, _ args: inout ArraySlice<String>, _ options: inout Options) -> String? {
        let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
        guard let name = parts.first, ["--db", "--external-url", "--json"].contains(name) else { return nil }
        if name == "--json" { options.json = true; return "" }
        return applyGlobal(name, value: parts.count == 2 ? parts[1] : args.popFirst(), to: &options) ?? ""
    }

    /// Takes the global flags (`--json`, `--db PATH`, `--external-url URL`) out of a command's
    /// words after its name, unless the command has a flag of that name (`keeping`); the values
    /// of the command's own flags are skipped, so `--name --json` stays a name.
    static func takeTrailingGlobals(_ words: inout [String], from start: Int, keeping flags: [FlagSpec],
                                    options: inout Options) -> String? {
        var i = start
        while i < words.count {
            let w = words[i]
            let name = w.split(separator: "=", maxSplits: 1).first.map(String.init) ?? w
            if let own = flags.first(where: { $0.name == name }) {
                i += (own.value != nil && !w.contains("=")) ? 2 : 1
                continue
            }
            guard globalFlags.contains(name), name != "--help", name != "--version" else {
                i += 1
                continue
            }
            words.remove(at: i)
            var value: String?
            if valueFlags.contains(name) {
                if let eq = w.firstIndex(of: "=") { value = String(w[w.index(after: eq)...]) } else if i < words.count {
                    value = words.remove(at: i)
                }
            }
            if let error = applyGlobal(name, value: value, to: &options) { return error }
        }
        return nil
    }

    /// `setuplink --db PATH init`: creates the replica file, or says it exists (exit 0 both ways).
    static func initReplica(_ options: Options) -> Int32 {
        let existed = FileManager.default.fileExists(atPath: options.db)
        guard let service = openService(options) else { return 1 }
        defer { service.store.close() }
        let id = service.store.replicaID.hex
        if options.json {
            REPL.writeLine(Format.jsonLine([("replica", .string(id)), ("path", .string(service.store.path)), ("created", .bool(!existed))]))
        } else {
            REPL.writeLine(existed ? "replica \(id) already exists at \(service.store.path); nothing changed"
                                   : "new replica \(id) at \(service.store.path)")
        }
        return 0
    }

    /// The refusal of a one-shot command on a replica file that does not exist.
    static func noReplica(_ path: String) -> String {
        "no replica at \(path); create one with `setuplink --db \(path) init`"
    }

    /// `setuplink help [COMMAND]`: the command line's usage and the REPL commands, or one command's help
    /// (`serve`, `init` and `repl` included). An unknown topic is a malformed command line (exit 2).
    static func help(_ topic: [String], json: Bool) -> Int32 {
        do {
            if topic.isEmpty && !json {
                print(usage + "\n\n" + (try CommandHelp.text(topic: nil, json: false)))
            } else {
                print(try CommandHelp.text(topic: topic.isEmpty ? nil : topic.joined(separator: " "), json: json))
            }
            return 0
        } catch {
            return usageError("\(error)", command: "help")
        }
    }

    /// The commands that only read: run once on a replica file that does not exist, they
    /// are refused rather than creating an empty replica (a mistyped `--db`).
    static let readOnlyCommands: Set<String> = [
        "link list", "link show", "link copy", "directory list", "directory show", "directory events",
        "directory users", "directory groups", "user show", "group show", "status", "conflicts", "peer list",
        "member list", "providers", "api-key list", "open", "close", "quit",
    ]

    /// Prints a malformed-command-line error (also as JSON with `--json`); returns exit status 2.
    static func usageError(_ message: String, command: String? = nil) -> Int32 {
        commandLineError(message, command: command)
        return 2
    }

    /// An error of the command line itself (not of a REPL line, whose session prints its own
    /// JSON): `error: message` on stderr, and with `--json` anywhere also `{"error":…}` on stdout.
    static func commandLineError(_ message: String, command: String? = nil) {
        if jsonErrors { REPL.writeLine(Format.jsonLine([("error", .string(message)), ("command", command.map(JSONValue.string) ?? .null)])) }
        printError(message)
    }

    /// Prints `error: message` to standard error (`error:` in red on a terminal).
    static func printError(_ message: String) {
        let label = Style(enabled: Style.wanted(fd: STDERR_FILENO)).errorLabel
        FileHandle.standardError.write(Data("\(label) \(TerminalText.safe(message))\n".utf8))
    }

    /// Opens the replica and the flows, or prints why not.
    ///
    /// The external URL is `--external-url`, else `SETUPLINK_EXTERNAL_URL`, else the
    /// replica's `config external-url` setting, else where `serve` last served the file,
    /// else `http://localhost:8080`.
    static func openService(_ options: Options) -> SetupLinkService? {
        openSession(options)?.service
    }

    /// Opens the replica and the flows, and says where the external URL came from.
    static func openSession(_ options: Options) -> (service: SetupLinkService, externalURLSource: String)? {
        do {
            let store = try SetupLinkService.openStore(path: options.db)
            do {
                var url = options.externalURL
                var source = options.externalURLSource
                if source == "default", let stored = try SetupLinkService(store: store).storedExternalURL() {
                    url = stored
                    source = "config"
                } else if source == "default", let served = try store.settings.value(ServeCommand.servedURLSetting), !served.isEmpty {
                    // Nothing configured, but this file was served: its links point where it was served, not localhost:8080.
                    url = served
                    source = "serve"
                }
                return (try SetupLinkService(store: store, externalURL: url), source)
            } catch {
                store.close()
                throw error
            }
        } catch {
            commandLineError("\(error)")
            return nil
        }
    }
}
