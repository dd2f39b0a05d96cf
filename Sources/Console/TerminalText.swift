import Bytes

/// Text made safe to write to the admin's terminal.
///
/// Names, user names, URLs and error text come from identity providers, peers
/// and receivers: any of them may hold escape sequences that would clear the
/// screen, set the window title or hide what follows. Everything the console
/// prints goes through here (`ConsoleSession.say`, errors, progress lines,
/// questions, table cells): control characters are written `\u{1B}`
/// (`ControlEscaping`), except line breaks and the coloured words `Style`
/// itself writes (a status word such as `active` or `failed`, or `error:`,
/// between its colour and the reset): a name cannot bring colour, or anything
/// else, of its own.
enum TerminalText {
    /// Everything `Style` paints, as it paints it, without the leading ESC.
    private static let colours: [String] = {
        let style = Style(enabled: true)
        let words = ["active", "ok", "delivered", "inactive", "never", "pending", "dropped", "expired", "deleted", "failed"]
        return (words.map { style.status($0) } + [style.errorLabel]).map { String($0.dropFirst()) }
    }()

    /// `text` with every control character escaped except `\n` and `Style`'s colours.
    static func safe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 != "\n" && ControlEscaping.isEscaped($0) }) else { return text }
        var out = ""
        var rest = Substring(text)
        while let scalar = rest.unicodeScalars.first {
            if scalar == "\u{1B}", let colour = colours.first(where: { rest.dropFirst().hasPrefix($0) }) {
                out += "\u{1B}" + colour
                rest = rest.dropFirst(1 + colour.count)
                continue
            }
            if scalar != "\n" && ControlEscaping.isEscaped(scalar) {
                out += ControlEscaping.escape(String(scalar))
            } else {
                out.unicodeScalars.append(scalar)
            }
            rest = Substring(rest.unicodeScalars.dropFirst())
        }
        return out
    }

    /// A line of JSON with the control characters JSON lets through raw (DEL, C1,
    /// U+2028, U+2029, bidirectional controls; they can only be inside strings)
    /// written as `\uXXXX`: the same JSON, safe on a terminal.
    static func jsonSafe(_ line: String) -> String {
        guard line.unicodeScalars.contains(where: { $0.value >= 0x7F && ControlEscaping.isEscaped($0) }) else { return line }
        var out = ""
        for scalar in line.unicodeScalars {
            if scalar.value >= 0x7F && ControlEscaping.isEscaped(scalar) {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
