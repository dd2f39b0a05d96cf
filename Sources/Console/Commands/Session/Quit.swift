/// `quit` (or `exit` alone): leaves the REPL.
struct Quit: ConsoleCommand {
    /// `quit`, also `exit`.
    static let configuration = CommandConfiguration(
        "quit", aliases: ["exit"], section: .housekeeping,
        summary: "leave the REPL (also: exit, Ctrl-D)", example: "quit")

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Asks the session to end after this line.
    func run(in session: ConsoleSession) throws {
        session.quitRequested = true
    }
}
