/// A fragment of HTML in which every interpolated `String` is escaped.
///
/// Pages are written as string literals with interpolations; a `String`
/// value is always escaped (`<script>` becomes `&lt;script&gt;`), and only
/// another `HTML` fragment is inserted as is. So a value can reach the page
/// unescaped only by being wrapped in `HTML(trusted:)`, which the renderer does
/// for its own constant text alone.
struct HTML: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    /// The markup.
    private(set) var markup: String

    /// A literal fragment: the text is markup, written by the programmer.
    init(stringLiteral value: String) { markup = value }

    /// A fragment built from a literal with escaped interpolations.
    init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    /// Markup the caller vouches for (constant text of this target, never a value from a request or a record).
    init(trusted markup: String) { self.markup = markup }

    /// The fragments one after another.
    init(joining parts: [HTML]) { markup = parts.map(\.markup).joined() }

    /// The markup.
    var description: String { markup }

    /// The interpolation that escapes strings and passes fragments through.
    struct Interpolation: StringInterpolationProtocol {
        /// The markup so far.
        var markup = ""

        /// Reserves room for the literal parts and some values.
        init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        /// Literal text of the template: markup.
        mutating func appendLiteral(_ literal: String) { markup += literal }

        /// A value: escaped.
        mutating func appendInterpolation(_ value: String) { markup += HTML.escape(value) }

        /// A number: digits need no escaping.
        mutating func appendInterpolation(_ value: Int) { markup += String(value) }

        /// Another fragment: inserted as is (its own values were escaped when it was built).
        mutating func appendInterpolation(_ fragment: HTML) { markup += fragment.markup }

        /// Several fragments, one after another.
        mutating func appendInterpolation(_ fragments: [HTML]) {
            for fragment in fragments { markup += fragment.markup }
        }
    }

    /// `text` with `& < > " '` replaced by entities: safe in element content
    /// and in attribute values quoted with `"` or `'` (the package's one HTML escaper).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
