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
    /// an empty line, end of input, or Ctrl-C (see ``readAnswer()``) means no. Callers should only ask when
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
        input: () -> String? = { Terminal.readAnswer() },
        output: (String) -> Void = writeFlushed
    ) -> Bool {
        output(question + " [y/N] ")
        guard let answer = input() else {
            // End of input or Ctrl-C leaves the cursor after the question; end the line for what follows.
            output("\n")
            return false
        }
        let word = answer.trimmingCharacters(in: .whitespaces).lowercased()
        return word == "y" || word == "yes"
    }

    /// Reads one line typed on standard input, without its newline; `nil` at end of
    /// input or when Ctrl-C interrupts the read (with ``Interrupt`` installed).
    ///
    /// Reads the file descriptor a byte at a time, without stdio's buffer, so it takes
    /// nothing the line editor should read next, and a SIGINT is seen as `EINTR`
    /// instead of being retried.
    public static func readAnswer() -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            // Ctrl-C before or during the wait cancels the question (see Interrupt.waitReadable).
            guard Interrupt.waitReadable(STDIN_FILENO) else { return nil }
            let n = read(STDIN_FILENO, &byte, 1)
            if n == 1 {
                if byte == UInt8(ascii: "\n") { break }
                bytes.append(byte)
                continue
            }
            if n < 0, errno == EINTR, !Interrupt.isPending { continue }
            return nil   // Ctrl-C (the terminal echoed ^C) or end of input

        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Prints `text` to standard output without a newline and flushes it, so a prompt shows before input is read.
    public static func writeFlushed(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }
}
