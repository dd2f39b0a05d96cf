/// A command line parsed against the registry: which command, and the flags and
/// positional arguments typed, checked against its configuration.
///
/// A command reads its typed values with `input[Self.tenant]` (a ``Flag``) and
/// `input[Self.id]` (an ``Argument``).
struct ParsedCommand {
    /// The matched command.
    let command: any ConsoleCommand.Type
    /// Flag values by name; switches map to `""`.
    let flags: [String: String]
    /// Positional arguments in order (a trailing rest argument already joined).
    let arguments: [String]

    /// The matched command's configuration.
    var configuration: CommandConfiguration { command.configuration }

    /// A flag's value: `String?`, `String` when required, `Bool` for a switch.
    subscript<Value>(flag: Flag<Value>) -> Value { flag.value(from: flags[flag.spec.name]) }

    /// A positional argument's value: `String` when required, else `String?`.
    subscript<Value>(argument: Argument<Value>) -> Value {
        let index = configuration.arguments.firstIndex(of: argument.spec)
        return argument.value(from: index.flatMap { $0 < arguments.count ? arguments[$0] : nil })
    }

    /// Parses words (already split like a shell) into a command, or throws a one-line
    /// error that names the closest command or flag when one was mistyped.
    static func parse(_ words: [String]) throws(ConsoleError) -> ParsedCommand {
        guard let first = words.first else { throw ConsoleError.usage("empty command") }
        if words.count == 1, let command = CommandRegistry.command(aliased: first) {
            return ParsedCommand(command: command, flags: [:], arguments: [])
        }
        guard let command = CommandRegistry.lookup(words) else { throw unknownCommand(words) }
        let spec = command.configuration
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
                guard let f = spec.flag(named: name) else {
                    if SetupLinkCLI.globalFlags.contains(name) {
                        // In the REPL (or a piped script): the command line's options are set when it starts.
                        throw ConsoleError.usage("\(name) is an option of the setuplink command line, not of \(spec.name):"
                                                 + " put \(name) before the command when you start it (setuplink \(name)\(name == "--json" ? "" : " …") …)")
                    }
                    let known = spec.flags.map(\.name)
                    let hint = closestMatch(to: name, in: known).map { " — did you mean \($0)?" }
                        ?? (known.isEmpty ? " (\(spec.name) takes no flags)" : " (flags: \(known.joined(separator: " ")))")
                    throw ConsoleError.usage("unknown flag \(name) for \(spec.name)\(hint)")
                }
                guard flags[name] == nil else { throw ConsoleError.usage("flag \(name) given twice") }
                if let placeholder = f.value {
                    if let inline { flags[name] = inline } else if let v = rest.popFirst() { flags[name] = v } else {
                        throw ConsoleError.usage("flag \(name) needs a value (\(name) \(placeholder))")
                    }
                } else {
                    guard inline == nil else { throw ConsoleError.usage("flag \(name) takes no value") }
                    flags[name] = ""
                }
            } else {
                arguments.append(w)
            }
        }
        // A trailing rest argument takes the rest of the line as one value.
        if let last = spec.arguments.last, last.arity == .rest, arguments.count >= spec.arguments.count {
            let k = spec.arguments.count - 1
            arguments = Array(arguments[..<k]) + [arguments[k...].joined(separator: " ")]
        }
        let required = spec.arguments.filter { $0.arity == .required }.count
        if arguments.count < required {
            let missing = spec.arguments[arguments.count].placeholder
            throw ConsoleError.usage("\(spec.name) needs \(missing) (usage: \(spec.usage))")
        }
        if arguments.count > spec.arguments.count {
            throw ConsoleError.usage("unexpected argument \"\(arguments[spec.arguments.count])\" for \(spec.name) (usage: \(spec.usage))")
        }
        for f in spec.flags where f.required && flags[f.name] == nil {
            throw ConsoleError.usage("\(spec.name) needs \(f.name) \(f.value ?? "") (usage: \(spec.usage))")
        }
        return ParsedCommand(command: command, flags: flags, arguments: arguments)
    }

    /// Why `words` name no command, with the closest one: first by the first word's
    /// subcommands (`link lsit`), then among the first words (`lnik`).
    private static func unknownCommand(_ words: [String]) -> ConsoleError {
        let first = words[0]
        let configurations = CommandRegistry.configurations
        let groups = Set(configurations.filter { $0.words.count > 1 }.map { $0.words[0] })
        if groups.contains(first) {
            let subs = configurations.filter { $0.words[0] == first && $0.words.count > 1 }.map { $0.words[1] }
            let given = words.count > 1 ? words[1] : ""
            if given.isEmpty || given.hasPrefix("-") {
                return .usage("\(first) needs a subcommand: \(subs.joined(separator: ", "))")
            }
            let hint = closestMatch(to: given, in: subs).map { " — did you mean \"\(first) \($0)\"?" }
                ?? " (try: \(subs.joined(separator: ", ")))"
            return .usage("unknown command \"\(first) \(given)\"\(hint)")
        }
        // The shell's own commands (`clone`, `serve`, `backup`, `init`) are not the REPL's.
        if let topic = CommandHelp.commandLineTopics.first(where: { $0.name == first && $0.name != "repl" }) {
            return .usage("\(first) is a command of the shell, not of the REPL: \(topic.usage) (see: help \(first))")
        }
        let hint = closestMatch(to: first, in: Array(Set(CommandRegistry.firstWords + CommandRegistry.aliases)))
            .map { " — did you mean \"\($0)\"?" } ?? " (type help for the list)"
        return .usage("unknown command \"\(first)\"\(hint)")
    }
}
