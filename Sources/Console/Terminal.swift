import Foundation

/// What the REPL needs to know about, and ask through, the terminal.
public enum Terminal {
    /// Whether standard input is a terminal (a person typing) rather than a pipe or file.
    ///
    /// With a non-TTY stdin the REPL shows no prompt and asks no questions.
    public static var stdinIsTTY: Bool { isatty(STDIN_FILENO) == 1 }

    /// Whether standard output is a terminal rather than a pipe or file.
    public static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Whether standard error is a terminal.
    public static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    /// Asks a yes/no question whose default is No, and reads one line for the answer.
    ///
    /// Writes `question` followed by ` [y/N] ` and reads one line: `y` or `yes`,
    /// in any case and with surrounding blanks ignored, means yes; anything else,
    /// an empty line, or end of input means no. Callers should only ask when
    /// ``stdinIsTTY`` (scripts pass `--yes` instead).
    ///
    /// - Parameters:
    ///   - question: The question, e.g. `Delete link 4f1c?`.
    ///   - input: Reads one line without its newline, `nil` at end of input;
    ///     standard input by default.
    ///   - output: Writes text as is (no newline added); standard output,
    ///     flushed, by default.
    /// - Returns: `true` only for an explicit yes.
    public static func confirm(
        _ question: String,
        input: () -> String? = { Swift.readLine(strippingNewline: true) },
        output: (String) -> Void = writeFlushed
    ) -> Bool {
        output(question + " [y/N] ")
        guard let answer = input() else {
            // End of input leaves the cursor after the question; end the line for what follows.
            output("\n")
            return false
        }
        let word = answer.trimmingCharacters(in: .whitespaces).lowercased()
        return word == "y" || word == "yes"
    }

    /// Prints `text` to standard output without a newline and flushes it, so a prompt shows before input is read.
    public static func writeFlushed(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }
}
