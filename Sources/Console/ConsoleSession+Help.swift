import JSON
import Foundation

extension ConsoleSession {
    /// The sections of `help`, by a command's first word; commands added later under a
    /// new first word land in the last section, so every command is listed once.
    static let helpSections: [(title: String, firstWords: Set<String>)] = [
        ("Setup links (admin)", ["link"]),
        ("Directories (admin: any tenant; on a setup page: that page's only)", ["directory", "user", "group"]),
        ("Tenant setup page", ["open", "providers", "close"]),
        ("Sync and housekeeping", []),
    ]

    /// `help [COMMAND]`.
    func help(_ c: ParsedCommand) throws {
        let text = try Self.helpText(topic: c.arguments.first, json: json)
        if json { emitted = true }
        say(text)
    }

    /// What `help [TOPIC]` prints: text, or one JSON object on one line. Needs no replica,
    /// so `setuplink help link create` works before any replica exists.
    public static func helpText(topic: String?, json: Bool) throws -> String {
        if let topic { return try helpTopic(topic, json: json) }
        if json {
            return line([("commands", .array(CommandTable.all.map { .object([("usage", .string($0.usage)), ("summary", .string($0.summary))]) }))])
        }
        var lines: [String] = []
        let width = CommandTable.all.map(\.name.count).max() ?? 0
        for (index, section) in Self.helpSections.enumerated() {
            let isLast = index == Self.helpSections.count - 1
            let claimed = Self.helpSections.dropLast().reduce(into: Set<String>()) { $0.formUnion($1.firstWords) }
            let specs = CommandTable.all.filter { isLast ? !claimed.contains($0.words[0]) : section.firstWords.contains($0.words[0]) }
            guard !specs.isEmpty else { continue }
            lines.append(section.title + ":")
            for spec in specs {
                lines.append("  " + spec.name + String(repeating: " ", count: width - spec.name.count + 2) + spec.summary)
            }
            lines.append("")
        }
        lines.append("IDs may be abbreviated to any unique prefix; TAB completes commands, flags, ids and peer names.")
        lines.append("help COMMAND shows a command's flags and an example, e.g. help link create")
        return lines.joined(separator: "\n")
    }

    /// One JSON object as one line.
    static func line(_ object: [(String, JSONValue)]) -> String {
        String(decoding: JSONWriter.write(.object(object)), as: UTF8.self)
    }

    private static func helpTopic(_ topic: String, json: Bool) throws -> String {
        let words = topic.split(separator: " ").map(String.init)
        guard let spec = CommandTable.all.first(where: { $0.name == topic }) ?? CommandTable.lookup(words) else {
            let group = CommandTable.all.filter { $0.words[0] == topic }
            if !group.isEmpty {
                if json {
                    return line([("commands", .array(group.map { .object([("usage", .string($0.usage)), ("summary", .string($0.summary))]) }))])
                }
                return group.map { "  \($0.usage)" }.joined(separator: "\n")
            }
            let names = Array(Set(CommandTable.names + CommandTable.all.map { $0.words[0] }))
            let hint = closestMatch(to: topic, in: names).map { " — did you mean \"\($0)\"?" } ?? ""
            throw ConsoleError.usage("no help for \"\(topic)\"\(hint)")
        }
        if json {
            return line([("command", .string(spec.name)), ("usage", .string(spec.usage)), ("summary", .string(spec.summary)),
                         ("flags", .array(spec.flags.map { .object([("name", .string($0.name)), ("help", .string($0.help)), ("required", .bool($0.required))]) })),
                         ("example", .string(spec.example))])
        }
        var lines = ["usage: \(spec.usage)", "", spec.summary]
        if !spec.flags.isEmpty {
            lines.append("")
            let width = spec.flags.map { ($0.value.map { " " + $0 } ?? "").count + $0.name.count }.max() ?? 0
            for f in spec.flags {
                let left = f.name + (f.value.map { " " + $0 } ?? "")
                lines.append("  " + left + String(repeating: " ", count: width - left.count + 2) + f.help + (f.required ? " (required)" : ""))
            }
        }
        lines += ["", "example: \(spec.example)"]
        return lines.joined(separator: "\n")
    }
}
