/// Keeping secrets out of the REPL history file (Console.docc/REPL.md, "At a terminal").
public enum SecretRedaction {
    /// The flags whose values are secrets: those commands mark secret, and `--scim-token`,
    /// which no command takes today but Console.docc/REPL.md promises never to keep (a line typed
    /// with it, by mistake or for an older version, still stays out of the file).
    public static let secretFlags: Set<String> = CommandRegistry.secretFlags.union(["--scim-token"])

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
