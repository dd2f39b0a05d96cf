/// The section of `help` a command is listed in.
enum HelpSection: CaseIterable, Sendable {
    /// `link …`.
    case links
    /// `directory …`, `user show`, `group show`.
    case directories
    /// `open`, `providers`, `close`.
    case tenantPage
    /// `api-key …`.
    case appAPI
    /// Peers, sync, status, settings, help, quit.
    case housekeeping

    /// The section's title in `help`.
    var title: String {
        switch self {
        case .links: "Setup links (admin)"
        case .directories: "Directories (admin: any tenant; on a setup page: that page's only)"
        case .tenantPage: "Tenant setup page"
        case .appAPI: "App API keys (the product's backend: /api/v1/dsync on every hub)"
        case .housekeeping: "Sync and housekeeping"
        }
    }
}

/// What a command is called, what it takes, and its help: everything help,
/// completion, suggestions, history redaction and parsing need to know of it.
struct CommandConfiguration: Sendable {
    /// The command words, e.g. `["link", "create"]`.
    let words: [String]
    /// Other words that run the command when typed alone (`exit` for `quit`). They
    /// complete and are suggested like names; `help` and longer lines know the
    /// command by its words only.
    let aliases: [String]
    /// Where `help` lists it.
    let section: HelpSection
    /// Positional arguments, required ones first.
    let arguments: [ArgumentSpec]
    /// Accepted flags, in the order help and completion show them.
    let flags: [FlagSpec]
    /// One line of help.
    let summary: String
    /// A complete example line.
    let example: String

    /// Describes a command.
    ///
    /// - Parameters:
    ///   - path: The command words separated by spaces: `"link create"`.
    ///   - arguments: Its ``Argument``s, in the order they are typed.
    ///   - flags: Its ``Flag``s, in the order help lists them.
    init(_ path: String, aliases: [String] = [], section: HelpSection, arguments: [any CommandArgument] = [],
         flags: [any CommandFlag] = [], summary: String, example: String) {
        words = path.split(separator: " ").map(String.init)
        self.aliases = aliases
        self.section = section
        self.arguments = arguments.map(\.spec)
        self.flags = flags.map(\.spec)
        self.summary = summary
        self.example = example
    }

    /// The command words joined: `link create`.
    var name: String { words.joined(separator: " ") }

    /// The usage line: `link create --tenant T --product P [--name N]`.
    var usage: String {
        var parts = [name] + arguments.map(\.usage)
        for f in flags { parts.append(f.required ? f.usage : "[\(f.usage)]") }
        return parts.joined(separator: " ")
    }

    /// The flag named `name` (with its dashes), if the command takes it.
    func flag(named name: String) -> FlagSpec? { flags.first { $0.name == name } }

    /// What the positional argument at `index` names, for completion; `nil` for nothing or no such argument.
    func argumentKind(at index: Int) -> ArgumentKind? {
        index < arguments.count ? arguments[index].completion : nil
    }

    /// Which positional argument the word being typed after `words` is, skipping the
    /// command words, flags and the values of flags that take one; `nil` when it is a flag's value.
    func positionalIndex(_ words: [String]) -> Int? {
        var index = 0
        var skipValue = false
        for w in words.dropFirst(self.words.count) {
            if skipValue { skipValue = false; continue }
            if w.hasPrefix("--") {
                if !w.contains("="), flag(named: w)?.value != nil { skipValue = true }
                continue
            }
            index += 1
        }
        return skipValue ? nil : index
    }
}
