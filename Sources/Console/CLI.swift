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
          serve [--port 8080] [--bind ADDR] [--token-file F] [--tls-cert PEM --tls-key PEM [--tls-priority S]]
                                            serve this replica to peers over HTTP(S)
          serve token show|rotate           print or replace the stored peer token
          sync NAME|URL [--token-file F] [--cacert PEM]
                                            pull then push changes with a peer
                                            (the token: --token-file, else env SETUPLINK_TOKEN)
          help [COMMAND]                    this text, or one command's flags and an example
          any REPL command, run once:       setuplink link list --tenant acme
                                            setuplink --json link show 3309

        Options (before the command):
          --db PATH            the replica file (env SETUPLINK_DB; default ~/.local/share/setuplink/replica.sqlite)
          --json               print one JSON object per command
          --external-url URL   base of setup links and SCIM endpoints (env SETUPLINK_EXTERNAL_URL;
                               else the replica's config external-url; default http://localhost:8080)
          --version            print the version
        """

    /// The global flags, for "did you mean".
    static let globalFlags = ["--db", "--json", "--external-url", "--version", "--help"]

    /// Runs the program with `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        let env = ProcessInfo.processInfo.environment
        var options = Options(db: defaultDB(environment: env), externalURL: SetupLinkService.defaultExternalURL)
        if let e = env["SETUPLINK_EXTERNAL_URL"], !e.isEmpty {
            options.externalURL = e
            options.externalURLSource = "SETUPLINK_EXTERNAL_URL"
        }
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
                options.externalURLSource = "--external-url"
            case "--json": options.json = true
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
        let words = Array(args)
        // A token on the process's command line is readable by every user (ps):
        // refused for every one-shot command (serve, sync, peer add, …); the REPL's input is not a command line.
        if words.contains(where: { $0 == "--token" || $0.hasPrefix("--token=") }) {
            return usageError(ServeCommand.tokenOnCommandLine)
        }
        let command = words.first ?? "repl"
        switch command {
        case "repl":
            guard words.count <= 1 else { return usageError("repl takes no arguments") }
            return REPL.run(options: options)
        case "help":
            return help(Array(words.dropFirst()), json: options.json)
        case "serve":
            return ServeCommand.run(options: options, arguments: Array(words.dropFirst()))
        default:
            let firstWords = Set(CommandRegistry.firstWords + CommandRegistry.aliases)
            guard firstWords.contains(command) else {
                let candidates = ["repl", "serve", "help"] + firstWords.sorted()
                let hint = closestMatch(to: command, in: candidates).map { " — did you mean \"\($0)\"?" } ?? ""
                return usageError("unknown command \"\(command)\"\(hint) (see: setuplink help)")
            }
            return REPL.runOne(options: options, words: words)
        }
    }

    /// `setuplink help [COMMAND]`: the command line's usage and the REPL commands, or one command's help.
    static func help(_ topic: [String], json: Bool) -> Int32 {
        do {
            if topic.isEmpty && !json {
                print(usage + "\n\n" + (try CommandHelp.text(topic: nil, json: false)))
            } else {
                print(try CommandHelp.text(topic: topic.isEmpty ? nil : topic.joined(separator: " "), json: json))
            }
            return 0
        } catch {
            if json { print(Format.jsonLine([("error", .string("\(error)")), ("command", .string("help"))])) }
            printError("\(error)")
            return 1
        }
    }

    /// Prints a malformed-command-line error; returns exit status 2.
    static func usageError(_ message: String) -> Int32 {
        printError(message)
        return 2
    }

    /// Prints `error: message` to standard error (`error:` in red on a terminal).
    static func printError(_ message: String) {
        let label = Style(enabled: Style.wanted(fd: STDERR_FILENO)).errorLabel
        FileHandle.standardError.write(Data("\(label) \(TerminalText.safe(message))\n".utf8))
    }

    /// Opens the replica and the flows, or prints why not.
    ///
    /// The external URL is `--external-url`, else `SETUPLINK_EXTERNAL_URL`, else the
    /// replica's `config external-url` setting, else `http://localhost:8080`.
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
                }
                return (try SetupLinkService(store: store, externalURL: url), source)
            } catch {
                store.close()
                throw error
            }
        } catch {
            printError("\(error)")
            return nil
        }
    }
}
