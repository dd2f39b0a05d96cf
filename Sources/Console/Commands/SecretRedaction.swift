/// Keeping secrets out of the REPL history file (Console.docc/REPL.md, "At a terminal").
public enum SecretRedaction {
    /// The flags whose values are secrets: those commands mark secret, and `--scim-token`,
    /// which no command takes today but Console.docc/REPL.md promises never to keep (a line typed
    /// with it, by mistake or for an older version, still stays out of the file).
    public static let secretFlags: Set<String> = CommandRegistry.secretFlags.union(["--scim-token"])

    /// What stands in the history for a secret value.
    public static let placeholder = "REDACTED"

    /// Every flag some command takes (a flag spelt exactly is judged by its own name).
    static let knownFlags: Set<String> = Set(CommandRegistry.configurations.flatMap { $0.flags.map(\.name) })
        .union(secretFlags)

    /// Whether `name` (a word starting with `--`) is a secret flag, or a flag no command takes
    /// that "did you mean" would turn into one (`--webhook-secr`, `--tokn`).
    static func isSecret(flag name: String) -> Bool {
        if secretFlags.contains(name) { return true }
        if knownFlags.contains(name) { return false }
        return closestMatch(to: name, in: Array(secretFlags).sorted()) != nil
    }

    /// `line` as the history keeps it: the values of secret flags replaced by `REDACTED`
    /// (`--token X` and `--token=X` alike), also when the flag is misspelt (see
    /// `isSecret(flag:)`) or its value follows an escaped space in the same word
    /// (`--token\\ X`); `nil` (keep nothing) when a line that may name a secret flag cannot be
    /// split into words, or holds a `$( )` whose words would change.
    public static func redact(_ line: String) -> String? {
        guard line.contains("--") else { return line }
        guard let words = try? CommandLexer.split(line) else {
            let mentioned = line.split(whereSeparator: { $0.isWhitespace || $0 == "=" || $0 == "'" || $0 == "\"" })
                .contains { $0.hasPrefix("--") && $0.count > 2 && isSecret(flag: String($0)) }
            return mentioned || secretFlags.contains(where: { line.contains($0) }) ? nil : line
        }
        var out: [String] = []
        var redactNext = false
        var redacted = false
        for w in words {
            if redactNext {
                out.append(placeholder)
                redactNext = false
                redacted = true
                continue
            }
            guard w.hasPrefix("--"), w.count > 2 else {
                out.append(w)
                continue
            }
            // The flag's name ends at `=` or at whitespace that was escaped into the word.
            if let cut = w.firstIndex(where: { $0 == "=" || $0.isWhitespace }) {
                let name = String(w[..<cut])
                if isSecret(flag: name) {
                    out.append(name + String(w[cut]) + placeholder)
                    redacted = true
                } else {
                    out.append(w)
                }
            } else {
                if isSecret(flag: w) { redactNext = true }
                out.append(w)
            }
        }
        if redactNext { redacted = true }
        guard redacted else { return line }
        // A `$( )` would be run again from the history with different words.
        if line.contains("$(") { return nil }
        return CommandLexer.join(out)
    }
}
