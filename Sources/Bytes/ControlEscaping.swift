/// Escaping of characters that would act on a terminal or forge a log line,
/// for text that came from someone else (a request path, a replicated name, a
/// remote error) before it is written to a log or a terminal.
///
/// Escaped as `\u{1B}`: C0 controls (tab and newline included), DEL, C1
/// controls (U+0080–U+009F), the line and paragraph separators U+2028 and
/// U+2029, and the bidirectional overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), which reorder what a reader sees. Everything else, other
/// scripts and emoji included, is kept as it is.
public enum ControlEscaping {
    /// Whether `scalar` is escaped.
    @inlinable
    public static func isEscaped(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` with every escaped scalar written `\u{…}` (hex, upper case); `text`
    /// itself when there is none (the common case costs one pass and no copy).
    public static func escape(_ text: String) -> String {
        // Printable ASCII (every log line, nearly every name): one pass over the bytes.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        guard text.unicodeScalars.contains(where: isEscaped) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if isEscaped(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension String {
    /// This text with control characters escaped (`ControlEscaping`).
    public var escapingControlCharacters: String { ControlEscaping.escape(self) }
}
