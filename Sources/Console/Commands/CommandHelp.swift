import JSON

/// What `help` prints, built from the registry: every command once, by section,
/// or one command's usage, flags and example.
enum CommandHelp {
    /// What `help [TOPIC]` prints: text, or one JSON object on one line. Needs no replica,
    /// so `setuplink help link create` works before any replica exists.
    static func text(topic: String?, json: Bool) throws -> String {
        if let topic { return try self.topic(topic, json: json) }
        let all = CommandRegistry.configurations
        if json { return list(all) }
        var lines: [String] = []
        let width = all.map(\.name.count).max() ?? 0
        for section in HelpSection.allCases {
            let listed = all.filter { $0.section == section }
            guard !listed.isEmpty else { continue }
            lines.append(section.title + ":")
            for c in listed {
                lines.append("  " + c.name + String(repeating: " ", count: width - c.name.count + 2) + c.summary)
            }
            lines.append("")
        }
        lines.append("IDs may be abbreviated to any unique prefix; TAB completes commands, flags, ids and peer names.")
        lines.append("help COMMAND shows a command's flags and an example, e.g. help link create")
        return lines.joined(separator: "\n")
    }

    /// `{"commands":[{"usage":…,"summary":…},…]}`.
    private static func list(_ configurations: [CommandConfiguration]) -> String {
        Format.jsonLine([("commands", .array(configurations.map {
            .object([("usage", .string($0.usage)), ("summary", .string($0.summary))])
        }))])
    }

    /// One command's help; a first word alone (`help link`) lists its commands' usage lines.
    private static func topic(_ topic: String, json: Bool) throws -> String {
        let words = topic.split(separator: " ").map(String.init)
        let all = CommandRegistry.configurations
        guard let c = all.first(where: { $0.name == topic }) ?? CommandRegistry.lookup(words)?.configuration else {
            let group = all.filter { $0.words[0] == topic }
            if !group.isEmpty {
                if json { return list(group) }
                return group.map { "  \($0.usage)" }.joined(separator: "\n")
            }
            let names = Array(Set(CommandRegistry.names + CommandRegistry.firstWords))
            let hint = closestMatch(to: topic, in: names).map { " — did you mean \"\($0)\"?" } ?? ""
            throw ConsoleError.usage("no help for \"\(topic)\"\(hint)")
        }
        if json {
            return Format.jsonLine([
                ("command", .string(c.name)), ("usage", .string(c.usage)), ("summary", .string(c.summary)),
                ("flags", .array(c.flags.map {
                    .object([("name", .string($0.name)), ("help", .string($0.help)), ("required", .bool($0.required))])
                })),
                ("example", .string(c.example)),
            ])
        }
        var lines = ["usage: \(c.usage)", "", c.summary]
        if !c.flags.isEmpty {
            lines.append("")
            let width = c.flags.map(\.usage.count).max() ?? 0
            for f in c.flags {
                lines.append("  " + f.usage + String(repeating: " ", count: width - f.usage.count + 2) + f.help
                             + (f.required ? " (required)" : ""))
            }
        }
        lines += ["", "example: \(c.example)"]
        return lines.joined(separator: "\n")
    }
}
