/// A REPL command (also run once from the command line): what it is called, what
/// it takes, its help, and what it does.
///
/// A command is a type in `Commands/<Area>/` listed once in ``CommandRegistry``;
/// help, TAB completion, "did you mean", history redaction and one-shot dispatch
/// are all built from its ``configuration``. Running a line parses it against the
/// configuration, makes the command from what was typed (`init(_:)`), then calls
/// ``run(in:)`` with the session as the context.
///
/// ```swift
/// /// `link show ID`: a setup link's info section.
/// struct LinkShow: ConsoleCommand {
///     /// `link show ID`.
///     static let configuration = CommandConfiguration(
///         "link show", section: .links, arguments: [id],
///         summary: "show a setup link's info section", example: "link show 3f2a")
///     private static let id = Argument.required("ID", completes: .record(.link))
///
///     private let id: String
///
///     /// The id typed.
///     init(_ input: ParsedCommand) { id = input[Self.id] }
///
///     /// Prints the link's section, or its JSON object.
///     func run(in session: ConsoleSession) throws { … }
/// }
/// ```
protocol ConsoleCommand: Sendable {
    /// Its words, arguments, flags and help.
    static var configuration: CommandConfiguration { get }

    /// The command with the values typed, already checked against ``configuration``
    /// (required arguments and flags are there, no unknown flag was given).
    init(_ input: ParsedCommand)

    /// Does what the command does, printing through `session`; throws a one-line error.
    func run(in session: ConsoleSession) throws
}
