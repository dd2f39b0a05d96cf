/// Splits a REPL line into words the way a POSIX shell does, without expansions.
///
/// - Spaces, tabs, carriage returns and newlines separate words.
/// - `'…'` is literal: nothing inside single quotes is special.
/// - `"…"` keeps spaces; a backslash inside escapes only `"`, `\`, `$` and `` ` ``
///   (before any other character the backslash stays, as in `sh`).
/// - Outside quotes a backslash makes the next character literal.
/// - Quotes join with what touches them: `--name="Acme EU"` is one word, `--name=Acme EU`.
/// - A line whose first non-blank character is `#` is a comment and has no words.
///   A `#` anywhere else is an ordinary character (`link show #12` keeps `#12`),
///   so a value can never be cut off by an accidental comment.
///
/// Parsing flags is the caller's job: `--name=Acme` stays one word.
/// An unterminated quote or a trailing lone backslash throws ``LexError``:
/// the lexer never guesses where the user meant the word to end.
public enum CommandLexer {
    /// Splits `line` into words.
    ///
    /// `--name "Acme EU"` gives `["--name", "Acme EU"]`; `''` gives one empty word;
    /// a blank or comment line gives `[]`.
    /// - Throws: ``LexError`` when a quote is not closed or the line ends in a lone backslash.
    public static func split(_ line: String) throws(LexError) -> [String] {
        let scan = Scan(line)
        if let quote = scan.openQuote {
            throw LexError(reason: quote.kind == .single ? .unterminatedSingleQuote : .unterminatedDoubleQuote,
                           column: quote.column)
        }
        if let column = scan.danglingBackslashColumn {
            throw LexError(reason: .trailingBackslash, column: column)
        }
        var words = scan.words
        if let current = scan.current { words.append(current) }
        return words
    }

    /// Quotes `word` only when it needs it, so that `split(quote(w)) == [w]`.
    ///
    /// Words made of letters, digits and `-_./:=,@%+^` come back unchanged
    /// (`--tenant`, `acme/crm`, `--name=Acme`). Anything else is wrapped in single
    /// quotes (`'Acme EU'`), or, when the word itself contains a single quote, in
    /// double quotes with `"`, `\`, `$` and `` ` `` escaped (`"O'Brien \"Ops\""`).
    /// The empty word becomes `''`. Characters a real shell treats specially
    /// (`$`, `*`, `;`, …) are quoted too, so echoed commands paste safely into a shell.
    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        if !needsQuoting(word) { return word }
        if !word.contains("'") { return "'" + word + "'" }
        var quoted = "\""
        for scalar in word.unicodeScalars {
            if Self.doubleQuoteEscapable.contains(scalar) { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }

    /// Joins words into a line that splits back into the same words (for echoing and history).
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    /// Whether `word` must be quoted to survive a round trip through ``split(_:)`` (and a shell).
    static func needsQuoting(_ word: String) -> Bool {
        word.unicodeScalars.contains { scalar in
            !(scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
              || safePunctuation.contains(scalar))
        }
    }

    /// Punctuation that is plain in both this lexer and a POSIX shell.
    private static let safePunctuation: Set<Unicode.Scalar> = ["-", "_", ".", "/", ":", "=", ",", "@", "%", "+", "^"]

    /// The characters a backslash escapes inside double quotes.
    static let doubleQuoteEscapable: Set<Unicode.Scalar> = ["\"", "\\", "$", "`"]

    /// The word separators.
    static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
    }

    /// One pass over a line that never fails: the words so far and how the line ends.
    ///
    /// ``split(_:)`` turns an unfinished ending into an error; completion instead
    /// treats it as the word being typed (`--name "Acme` is the word `Acme` in progress).
    struct Scan {
        /// The kind of quote left open.
        enum QuoteKind { case single, double }

        /// Words finished by a separator.
        var words: [String] = []
        /// The word the line ends inside of, if it does not end with a separator.
        var current: String?
        /// The index, in Unicode scalars of the line, where `current` starts.
        var currentStart: Int?
        /// The quote still open at the end of the line, and its 1-based column.
        var openQuote: (kind: QuoteKind, column: Int)?
        /// The 1-based column of a backslash that ends the line outside single quotes.
        var danglingBackslashColumn: Int?

        /// Scans `line`.
        init(_ line: String) {
            let scalars = Array(line.unicodeScalars)
            guard let first = scalars.firstIndex(where: { !CommandLexer.isBlank($0) }), scalars[first] != "#" else {
                return
            }
            var word = String.UnicodeScalarView()
            var inWord = false
            var index = first
            func startWord() {
                if !inWord { inWord = true; currentStart = index }
            }
            while index < scalars.count {
                let scalar = scalars[index]
                switch scalar {
                case _ where CommandLexer.isBlank(scalar):
                    if inWord {
                        words.append(String(word))
                        word = String.UnicodeScalarView()
                        inWord = false
                        currentStart = nil
                    }
                case "'":
                    startWord()
                    guard let close = scalars[(index + 1)...].firstIndex(of: "'") else {
                        openQuote = (.single, index + 1)
                        word.append(contentsOf: scalars[(index + 1)...])
                        index = scalars.count
                        continue
                    }
                    word.append(contentsOf: scalars[(index + 1)..<close])
                    index = close
                case "\"":
                    startWord()
                    let opening = index
                    index += 1
                    var closed = false
                    while index < scalars.count {
                        let inner = scalars[index]
                        if inner == "\"" { closed = true; break }
                        if inner == "\\", index + 1 < scalars.count,
                           CommandLexer.doubleQuoteEscapable.contains(scalars[index + 1]) {
                            index += 1
                            word.append(scalars[index])
                        } else if inner == "\\", index + 1 == scalars.count {
                            // A backslash ending an open double quote: the quote is the error to report.
                        } else {
                            word.append(inner)
                        }
                        index += 1
                    }
                    if !closed { openQuote = (.double, opening + 1) }
                case "\\":
                    startWord()
                    if index + 1 < scalars.count {
                        index += 1
                        word.append(scalars[index])
                    } else {
                        danglingBackslashColumn = index + 1
                    }
                default:
                    startWord()
                    word.append(scalar)
                }
                index += 1
            }
            if inWord { current = String(word) }
        }
    }
}

/// Why a REPL line could not be split into words.
public struct LexError: Error, Equatable, CustomStringConvertible {
    /// What is wrong with the line.
    public enum Reason: Sendable, Equatable {
        /// A `'` was opened and never closed.
        case unterminatedSingleQuote
        /// A `"` was opened and never closed.
        case unterminatedDoubleQuote
        /// The line ends in a backslash with nothing to escape.
        case trailingBackslash
    }

    /// What is wrong with the line.
    public let reason: Reason
    /// The 1-based column (in Unicode scalars) of the opening quote or the backslash.
    public let column: Int

    /// Creates an error.
    public init(reason: Reason, column: Int) {
        self.reason = reason
        self.column = column
    }

    /// The sentence shown to the user, e.g. `unterminated double quote`.
    public var description: String {
        switch reason {
        case .unterminatedSingleQuote: "unterminated single quote"
        case .unterminatedDoubleQuote: "unterminated double quote"
        case .trailingBackslash: "trailing backslash with nothing to escape"
        }
    }
}
