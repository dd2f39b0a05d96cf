/// `help [COMMAND]`: every command by section, or one command's usage, flags and example.
struct Help: ConsoleCommand {
    /// `help [COMMAND]`.
    static let configuration = CommandConfiguration(
        "help", section: .housekeeping, arguments: [topic],
        summary: "list commands, or show one command's flags and an example", example: "help link create")
    private static let topic = Argument.rest("COMMAND", completes: .command)

    private let topic: String?

    /// The command asked about, if any (the rest of the line).
    init(_ input: ParsedCommand) { topic = input[Self.topic] }

    /// Prints the help, as built by ``CommandHelp``.
    func run(in session: ConsoleSession) throws {
        let text = try CommandHelp.text(topic: topic, json: session.json)
        if session.json { session.emit(line: text) } else { session.say(text) }
    }
}
