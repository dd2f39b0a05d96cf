import Foundation
import Replica
import SetupLinks

extension ConsoleSession {
    /// TAB completion on the replica: commands and flags (from the table), then the
    /// positional argument being typed: link and directory ids by prefix (on a setup
    /// page only that page's directories), peer names, and command names for `help`.
    public func completions(for context: LineContext) -> [String] {
        var out = Console.completions(for: context, commands: CommandTable.completionTable)
        guard !context.currentWord.hasPrefix("-"), let spec = CommandTable.lookup(context.words),
              let index = Self.positionalIndex(context.words, spec: spec),
              let kind = CommandTable.argumentKind(spec, index) else { return out }
        let typed = context.currentWord
        switch kind {
        case .record(.directory) where page != nil:
            out += ((try? page!.directories()) ?? []).map(\.id).filter { $0.hasPrefix(typed.lowercased()) }
        case .record(let k) where page != nil && (k == .user || k == .group):
            // On a setup page, only that page's directories' users and groups.
            let mine = Set(((try? page!.directories()) ?? []).map(\.id))
            out += ((try? service.idCompletions(kind: k, prefix: typed)) ?? []).filter { id in
                (try? replica.record(id: id)).flatMap { $0.flatMap(ScimRecords.directory(of:)) }.map(mine.contains) ?? false
            }
        case .record(let k):
            out += (try? service.idCompletions(kind: k, prefix: typed)) ?? []
        case .peer:
            out += ((try? peers.all()) ?? []).map(\.name).filter { $0.hasPrefix(typed) }
        case .command:
            if context.words.count == 1 { out += Set(CommandTable.all.map { $0.words[0] }).sorted().filter { $0.hasPrefix(typed) } }
        }
        return out
    }

    /// Which positional argument the word being typed is, after the command words of
    /// `spec`, skipping flags and the values of flags that take one; `nil` when it is a flag's value.
    static func positionalIndex(_ words: [String], spec: CommandSpec) -> Int? {
        var index = 0
        var skipValue = false
        for w in words.dropFirst(spec.words.count) {
            if skipValue { skipValue = false; continue }
            if w.hasPrefix("--") {
                if !w.contains("="), spec.flags.first(where: { $0.name == w })?.value != nil { skipValue = true }
                continue
            }
            index += 1
        }
        return skipValue ? nil : index
    }
}

/// Keeping secrets out of the REPL history file (SPEC §8).
public enum SecretRedaction {
    /// The flags whose values are secrets.
    public static let secretFlags: Set<String> = ["--webhook-secret", "--token", "--scim-token"]

    /// What stands in the history for a secret value.
    public static let placeholder = "REDACTED"

    /// `line` as the history keeps it: the values of secret flags replaced by `REDACTED`
    /// (`--token X` and `--token=X` alike); `nil` (keep nothing) when a line that names a
    /// secret flag cannot be split into words, or holds a `$( )` whose words would change.
    public static func redact(_ line: String) -> String? {
        guard secretFlags.contains(where: { line.contains($0) }) else { return line }
        guard !line.contains("$("), let words = try? CommandLexer.split(line) else { return nil }
        var out: [String] = []
        var redactNext = false
        for w in words {
            if redactNext {
                out.append(placeholder)
                redactNext = false
            } else if let eq = w.firstIndex(of: "="), secretFlags.contains(String(w[..<eq])) {
                out.append(w[..<eq] + "=" + placeholder)
            } else {
                if secretFlags.contains(w) { redactNext = true }
                out.append(w)
            }
        }
        return CommandLexer.join(out)
    }
}
