import Foundation
import Replica

/// One flag a command accepts.
public struct FlagSpec: Sendable {
    /// The flag with its dashes, e.g. `--tenant`.
    public let name: String
    /// The placeholder of its value (`T`), or `nil` for a switch like `--yes`.
    public let value: String?
    /// Whether the command needs it.
    public let required: Bool
    /// One line of help.
    public let help: String
}

/// One REPL command: its words, flags, arguments and help.
public struct CommandSpec: Sendable {
    /// The command words, e.g. `["link", "create"]`.
    public let words: [String]
    /// Positional argument placeholders, e.g. `["ID"]`; a trailing `?` marks an optional one.
    public let arguments: [String]
    /// Accepted flags.
    public let flags: [FlagSpec]
    /// One line of help.
    public let summary: String
    /// A complete example line.
    public let example: String

    /// The command words joined: `link create`.
    public var name: String { words.joined(separator: " ") }

    /// The usage line: `link create --tenant T --product P [--name N]`.
    public var usage: String {
        var parts = [name]
        parts += arguments.map { $0.hasSuffix("?") ? "[\($0.dropLast())]" : $0.hasSuffix("...") ? "[\($0.dropLast(3))]" : $0 }
        for f in flags {
            let s = f.value.map { "\(f.name) \($0)" } ?? f.name
            parts.append(f.required ? s : "[\(s)]")
        }
        return parts.joined(separator: " ")
    }
}

private func flag(_ name: String, _ value: String? = nil, required: Bool = false, _ help: String) -> FlagSpec {
    FlagSpec(name: name, value: value, required: required, help: help)
}

private func toggle(_ name: String, _ help: String) -> FlagSpec {
    FlagSpec(name: name, value: nil, required: false, help: help)
}

/// Every REPL command, in the order `help` lists them.
public enum CommandTable {
    /// The `--yes` switch of the commands that ask first.
    static let yes = toggle("--yes", "skip the confirmation question")

    /// The commands.
    public static let all: [CommandSpec] = [
        // Admin flow
        CommandSpec(words: ["link", "create"], arguments: [], flags: [
            flag("--tenant", "T", required: true, "the tenant (customer); 1-256 characters, no ':'"),
            flag("--product", "P", required: true, "the product; 1-256 characters, no ':'"),
            flag("--webhook-url", "URL", required: true, "where directory events go: an absolute http(s) URL"),
            flag("--webhook-secret", "S", required: true, "the webhook signing secret"),
            flag("--name", "N", "a display name (directories are named after it)"),
            flag("--expiry-days", "D", "days the link stays valid (default: the replica's, else 3)"),
            toggle("--regenerate", "issue a new token even if a valid link exists"),
        ], summary: "create the setup link of a tenant and product (one per pair)",
        example: "link create --tenant acme --product crm --webhook-url https://hooks.example.com/dsync --webhook-secret s3cret --name \"Acme EU\""),
        CommandSpec(words: ["link", "list"], arguments: [], flags: [
            flag("--tenant", "T", "only this tenant"), flag("--product", "P", "only this product"),
        ], summary: "list setup links: ID, Tenant, Product, Valid till, Status", example: "link list --tenant acme"),
        CommandSpec(words: ["link", "show"], arguments: ["ID"], flags: [],
                    summary: "show a setup link's info section", example: "link show 3f2a"),
        CommandSpec(words: ["link", "copy"], arguments: ["ID"], flags: [],
                    summary: "print the setup link's URL alone (for copying)", example: "link copy 3f2a"),
        CommandSpec(words: ["link", "update"], arguments: ["ID"], flags: [
            flag("--name", "N", "a new display name (new directories are named after it)"),
            flag("--webhook-url", "URL", "a new webhook URL, for the link's directories too (waiting events go there)"),
            flag("--webhook-secret", "S", "a new webhook signing secret, for the link's directories too"),
        ], summary: "change a setup link's name, webhook URL or webhook secret", example: "link update 3f2a --name \"Acme EU\""),
        CommandSpec(words: ["link", "regenerate"], arguments: ["ID"], flags: [yes],
                    summary: "issue a new token; the old one stops working at once", example: "link regenerate 3f2a --yes"),
        CommandSpec(words: ["link", "delete"], arguments: ["ID"], flags: [yes],
                    summary: "delete a setup link (its directories stay)", example: "link delete 3f2a --yes"),
        CommandSpec(words: ["directory", "list"], arguments: [], flags: [
            flag("--tenant", "T", "only this tenant (admin)"), flag("--product", "P", "only this product (admin)"),
        ], summary: "list directories (on a setup page: that page's)", example: "directory list --tenant acme"),
        CommandSpec(words: ["directory", "show"], arguments: ["ID"], flags: [],
                    summary: "show a directory's info section: SCIM Endpoint, SCIM Token", example: "directory show 6c1e"),
        CommandSpec(words: ["directory", "rename"], arguments: ["ID", "NAME"], flags: [],
                    summary: "rename a directory", example: "directory rename 6c1e \"Acme Okta\""),
        CommandSpec(words: ["directory", "users"], arguments: ["ID"], flags: [
            flag("--filter", "TEXT", "a SCIM filter (RFC 7644), e.g. 'userName sw \"ann\"' or 'active eq false'"),
        ], summary: "list the users a directory's identity provider provisioned (offline): ID, User name, Name, Email, Status",
        example: "directory users 6c1e --filter 'emails[type eq \"work\"].value ew \"@acme.com\"'"),
        CommandSpec(words: ["directory", "groups"], arguments: ["ID"], flags: [],
                    summary: "list the groups a directory's identity provider pushed (offline): ID, Name, Members", example: "directory groups 6c1e"),
        CommandSpec(words: ["user", "show"], arguments: ["ID"], flags: [],
                    summary: "show a provisioned user: names, emails, status, groups", example: "user show 8d2f"),
        CommandSpec(words: ["group", "show"], arguments: ["ID"], flags: [],
                    summary: "show a provisioned group and its members", example: "group show 41aa"),
        CommandSpec(words: ["directory", "events"], arguments: ["ID"], flags: [
            flag("--status", "STATUS", "only events that are pending, delivered, failed or dropped"),
        ], summary: "a directory's webhook events on this replica: time, event, status, attempts, next retry, last error",
        example: "directory events 6c1e --status pending"),
        // Tenant flow
        CommandSpec(words: ["open"], arguments: ["URL|TOKEN"], flags: [],
                    summary: "open the setup page of a link (tenant flow)", example: "open http://localhost:8080/setup/9b1d…"),
        CommandSpec(words: ["providers"], arguments: [], flags: [],
                    summary: "list directory types: id and label", example: "providers"),
        CommandSpec(words: ["directory", "new"], arguments: [], flags: [
            flag("--type", "TYPE", "the provider type (default azure-scim-v2; see: providers)"),
            flag("--name", "N", "the directory's name (default: the link's name, else scim-TENANT-PRODUCT)"),
        ], summary: "create a directory on the open setup page", example: "directory new --type okta-scim-v2 --name \"Acme Okta\""),
        CommandSpec(words: ["directory", "activate"], arguments: ["ID"], flags: [],
                    summary: "activate a directory (SCIM changes are accepted again)", example: "directory activate 6c1e"),
        CommandSpec(words: ["directory", "deactivate"], arguments: ["ID"], flags: [],
                    summary: "deactivate a directory (SCIM changes are ignored until activated)", example: "directory deactivate 6c1e"),
        CommandSpec(words: ["directory", "delete"], arguments: ["ID"], flags: [yes],
                    summary: "delete a directory", example: "directory delete 6c1e --yes"),
        CommandSpec(words: ["close"], arguments: [], flags: [],
                    summary: "leave the setup page", example: "close"),
        // Sync and housekeeping
        CommandSpec(words: ["peer", "add"], arguments: ["NAME", "URL"], flags: [
            flag("--token", "T", "the peer's bearer token"),
            flag("--token-file", "FILE", "read the bearer token from FILE (keeps it off command lines)"),
            flag("--cacert", "PEM", "trust this CA certificate for an https:// peer (a private CA or self-signed)"),
        ], summary: "remember a peer to sync with", example: "peer add hub https://hub.example.com:8080 --token-file hub.token --cacert ca.pem"),
        CommandSpec(words: ["peer", "update"], arguments: ["NAME"], flags: [
            flag("--url", "URL", "the peer's new URL"),
            flag("--token", "T", "the peer's new bearer token"),
            flag("--token-file", "FILE", "read the new bearer token from FILE"),
            flag("--cacert", "PEM", "trust this CA certificate for the peer from now on"),
        ], summary: "change a peer's URL, token or CA certificate (what it acknowledged is kept)", example: "peer update hub --token-file hub.token"),
        CommandSpec(words: ["peer", "list"], arguments: [], flags: [],
                    summary: "list known peers", example: "peer list"),
        CommandSpec(words: ["peer", "remove"], arguments: ["NAME"], flags: [],
                    summary: "forget a peer", example: "peer remove hub"),
        CommandSpec(words: ["sync"], arguments: ["NAME|URL?"], flags: [
            flag("--token", "T", "the bearer token (for a URL, or to override the peer's; else SETUPLINK_TOKEN)"),
            flag("--token-file", "FILE", "read the bearer token from FILE"),
            flag("--cacert", "PEM", "trust this CA certificate for an https:// URL (or instead of the peer's)"),
        ], summary: "pull then push changes with a peer (all known peers without NAME); prints pulled, pushed, conflicts", example: "sync hub"),
        CommandSpec(words: ["status"], arguments: [], flags: [],
                    summary: "replica id, record counts, digest, webhook events pending, and per peer: last sync and unacknowledged changes", example: "status"),
        CommandSpec(words: ["conflicts"], arguments: [], flags: [],
                    summary: "concurrent writes that lost, with both values", example: "conflicts"),
        CommandSpec(words: ["config"], arguments: ["KEY?", "VALUE?"], flags: [],
                    summary: "show or set this replica's settings (default-expiry-days, external-url)", example: "config default-expiry-days 7"),
        CommandSpec(words: ["help"], arguments: ["COMMAND..."], flags: [],
                    summary: "list commands, or show one command's flags and an example", example: "help link create"),
        CommandSpec(words: ["quit"], arguments: [], flags: [], summary: "leave the REPL (also: exit, Ctrl-D)", example: "quit"),
    ]

    /// What a positional argument names, for completion: by its placeholder and the
    /// command's first word (`ID` of a `link` command is a link id), so commands added
    /// later (`directory users ID`, `user show ID`) complete without more code.
    static func argumentKind(_ spec: CommandSpec, _ index: Int) -> ArgumentKind? {
        guard index < spec.arguments.count else { return nil }
        let placeholder = spec.arguments[index]
        if placeholder.hasPrefix("ID") {
            switch spec.words[0] {
            case "link": return .record(.link)
            case "directory": return .record(.directory)
            case "user": return .record(.user)
            case "group": return .record(.group)
            default: return nil
            }
        }
        if spec.words[0] == "peer" && placeholder == "NAME" && spec.words.count > 1 && spec.words[1] != "add" { return .peer }
        if spec.name == "sync" { return .peer }
        if spec.name == "help" { return .command }
        return nil
    }

    /// Command words and their flags, for tab completion.
    public static var completionTable: [String: [String]] {
        var t: [String: [String]] = ["exit": []]
        for c in all { t[c.name] = c.flags.map(\.name) }
        return t
    }

    /// The spec whose words start `words`, longest first.
    static func lookup(_ words: [String]) -> CommandSpec? {
        var best: CommandSpec?
        for c in all where words.count >= c.words.count && Array(words.prefix(c.words.count)) == c.words {
            if best == nil || c.words.count > best!.words.count { best = c }
        }
        return best
    }

    /// Every command name, for suggestions.
    static var names: [String] { all.map(\.name) + ["exit"] }
}

/// What a positional argument names, for completion.
enum ArgumentKind: Equatable {
    /// An id of a record of this kind.
    case record(RecordKind)
    /// A peer name.
    case peer
    /// A command (for `help`).
    case command
}

/// A command line parsed against its spec: flags and positional arguments.
public struct ParsedCommand: Sendable {
    /// The matched command.
    public let spec: CommandSpec
    /// Flag values; switches map to `""`.
    public let flags: [String: String]
    /// Positional arguments in order.
    public let arguments: [String]

    /// A flag's value.
    public subscript(flag: String) -> String? { flags[flag] }

    /// Whether a switch was given.
    public func has(_ flag: String) -> Bool { flags[flag] != nil }

    /// Parses words (already split like a shell) into a command, or throws a one-line error.
    public static func parse(_ words: [String]) throws(ConsoleError) -> ParsedCommand {
        guard let first = words.first else { throw ConsoleError.usage("empty command") }
        guard let spec = CommandTable.lookup(words) else {
            // Suggest the closest command: first by its first word, then as a whole.
            let groups = Set(CommandTable.all.filter { $0.words.count > 1 }.map { $0.words[0] })
            if groups.contains(first) {
                let subs = CommandTable.all.filter { $0.words[0] == first }.map { $0.words[1] }
                let given = words.count > 1 ? words[1] : ""
                if given.isEmpty || given.hasPrefix("-") {
                    throw ConsoleError.usage("\(first) needs a subcommand: \(subs.joined(separator: ", "))")
                }
                let hint = closestMatch(to: given, in: subs).map { " — did you mean \"\(first) \($0)\"?" } ?? " (try: \(subs.joined(separator: ", ")))"
                throw ConsoleError.usage("unknown command \"\(first) \(given)\"\(hint)")
            }
            let hint = closestMatch(to: first, in: Array(Set(CommandTable.all.map { $0.words[0] } + ["exit"])))
                .map { " — did you mean \"\($0)\"?" } ?? " (type help for the list)"
            throw ConsoleError.usage("unknown command \"\(first)\"\(hint)")
        }
        var flags: [String: String] = [:]
        var arguments: [String] = []
        var rest = Array(words.dropFirst(spec.words.count))[...]
        while let w = rest.popFirst() {
            if w.hasPrefix("--") && w.count > 2 {
                var name = w, inline: String?
                if let eq = w.firstIndex(of: "=") {
                    name = String(w[..<eq])
                    inline = String(w[w.index(after: eq)...])
                }
                guard let f = spec.flags.first(where: { $0.name == name }) else {
                    let known = spec.flags.map(\.name)
                    let hint = closestMatch(to: name, in: known).map { " — did you mean \($0)?" }
                        ?? (known.isEmpty ? " (\(spec.name) takes no flags)" : " (flags: \(known.joined(separator: " ")))")
                    throw ConsoleError.usage("unknown flag \(name) for \(spec.name)\(hint)")
                }
                guard flags[name] == nil else { throw ConsoleError.usage("flag \(name) given twice") }
                if f.value != nil {
                    if let inline { flags[name] = inline } else if let v = rest.popFirst() { flags[name] = v } else {
                        throw ConsoleError.usage("flag \(name) needs a value (\(name) \(f.value!))")
                    }
                } else {
                    guard inline == nil else { throw ConsoleError.usage("flag \(name) takes no value") }
                    flags[name] = ""
                }
            } else {
                arguments.append(w)
            }
        }
        // A trailing `WORDS...` argument takes the rest of the line as one value.
        if let last = spec.arguments.last, last.hasSuffix("..."), arguments.count >= spec.arguments.count {
            let k = spec.arguments.count - 1
            arguments = Array(arguments[..<k]) + [arguments[k...].joined(separator: " ")]
        }
        let required = spec.arguments.filter { !$0.hasSuffix("?") && !$0.hasSuffix("...") }.count
        if arguments.count < required {
            let missing = spec.arguments[arguments.count]
            throw ConsoleError.usage("\(spec.name) needs \(missing) (usage: \(spec.usage))")
        }
        if arguments.count > spec.arguments.count {
            throw ConsoleError.usage("unexpected argument \"\(arguments[spec.arguments.count])\" for \(spec.name) (usage: \(spec.usage))")
        }
        for f in spec.flags where f.required && flags[f.name] == nil {
            throw ConsoleError.usage("\(spec.name) needs \(f.name) \(f.value ?? "") (usage: \(spec.usage))")
        }
        return ParsedCommand(spec: spec, flags: flags, arguments: arguments)
    }
}

/// An error in the console layer, shown as `error: <description>`.
public enum ConsoleError: Error, CustomStringConvertible, Sendable {
    /// The command line itself is wrong.
    case usage(String)
    /// The command failed; the message says why.
    case failed(String)

    /// The sentence.
    public var description: String {
        switch self {
        case .usage(let s), .failed(let s): return s
        }
    }
}
