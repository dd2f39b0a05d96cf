import Foundation
import JSON
import Scim
import SetupLinks

/// How a session prints and asks.
public struct ConsoleIO: Sendable {
    /// Writes one line (a newline is added) to standard output.
    public var out: @Sendable (String) -> Void
    /// Asks a yes/no question; `nil` means "do not ask" (piped input acts without asking).
    public var confirm: (@Sendable (String) -> Bool)?
    /// Shows transient progress (a TTY status line; `""` clears it), or `nil`.
    public var progress: (@Sendable (String) -> Void)?
    /// Colour for status words in what `out` prints.
    public var style: Style
    /// How long lists reach the user (page by page on a terminal), or `nil` to print them whole.
    public var paging: Paging?
    /// Whether the user asked to stop the running command (Ctrl-C); polled by sync and long lists.
    public var interrupted: @Sendable () -> Bool

    /// Creates the IO.
    public init(out: @escaping @Sendable (String) -> Void, confirm: (@Sendable (String) -> Bool)?,
                progress: (@Sendable (String) -> Void)? = nil, style: Style = .plain, paging: Paging? = nil,
                interrupted: @escaping @Sendable () -> Bool = { false }) {
        self.out = out
        self.confirm = confirm
        self.progress = progress
        self.style = style
        self.paging = paging
        self.interrupted = interrupted
    }
}

/// Collects the lines a nested command prints.
final class CapturedOutput: @unchecked Sendable {
    // @unchecked Sendable: used by one thread, inside one call to `run(line:)`.
    private(set) var text = ""
    /// Adds one printed line.
    func append(_ line: String) { text += line + "\n" }
}

/// What running one line did.
public enum LineOutcome: Equatable, Sendable {
    /// The command ran (or the line was blank).
    case ok
    /// The command failed; nothing was changed. The message is for `error: <message>`.
    case failed(String)
    /// The user asked to leave.
    case quit
}

/// One REPL session on a replica: the context every command runs in.
///
/// It holds the scope (the admin view, or a tenant's setup page once opened), the
/// output mode (tables or JSON), the services commands reach the replica through,
/// and how to print and ask. It parses a line and hands it to the command the
/// registry names; what each command does lives in its own type (`Commands/`).
///
/// With `json`, every command line prints exactly one JSON object on one line:
/// the command's result, `{"result":"declined",…}` when a question was answered no,
/// or `{"error":"…","command":…}` when it failed (the error also goes to stderr,
/// which is the caller's job). Blank and comment lines print nothing.
public final class ConsoleSession: @unchecked Sendable {
    // @unchecked Sendable: a session is driven by one thread (the REPL loop); it is only
    // marked Sendable so it can be handed to that thread.

    /// The flows: links, directories, settings.
    public let service: SetupLinkService
    /// The replica's identity, counts, digest and conflicts.
    let replica: ReplicaService
    /// The peers this replica syncs with.
    let peers: PeerService
    /// The webhook events this replica accepted.
    let outbox: OutboxService
    /// Whether commands print JSON objects instead of tables.
    public let json: Bool
    /// The open setup page, if any: commands then act on that page's directories only.
    public internal(set) var page: TenantPage?
    /// How the session prints and asks.
    let io: ConsoleIO
    /// Whether the current line has printed its JSON object.
    var emitted = false
    /// Set when a question was answered no during the current line (a `$( )` then stops the line).
    var declined = false
    /// Set by `quit` (or `exit`): the line's outcome is then ``LineOutcome/quit``.
    var quitRequested = false
    /// Where the external URL in force comes from, for `config`.
    public var externalURLSource = "default"
    /// Whether the session runs one command from the shell's command line (where `--token` is refused).
    public var oneShot = false
    /// Whether the last failed line failed as a malformed command (unknown command or flag, a missing argument).
    public internal(set) var lastFailureWasUsage = false

    /// A session on `service`'s replica.
    public init(service: SetupLinkService, json: Bool, io: ConsoleIO) {
        self.service = service
        replica = ReplicaService(store: service.store)
        peers = PeerService(store: service.store)
        outbox = OutboxService(store: service.store)
        self.json = json
        self.io = io
    }

    /// Reads SCIM users and groups with resources located under the external URL in force.
    var scim: ScimBrowser { ScimBrowser(store: service.store, externalURL: service.externalURL) }

    /// How to give a peer token where this session runs: `--token T` inside the REPL (its own
    /// input), `--token-file FILE` on the shell's command line (where `--token` is refused).
    var tokenFlag: String { oneShot ? "--token-file FILE" : "--token T" }

    /// The prompt: where you are.
    public var prompt: String {
        if let page { return "setuplink(\(page.link.tenant)/\(page.link.product))> " }
        return "setuplink(admin)> "
    }

    /// Splits, parses and runs one line.
    ///
    /// `$(COMMAND)` outside single quotes is replaced by what COMMAND prints, as in
    /// a shell, so a script can write `open $(link copy ID)`. A command inside `$( )`
    /// asks before it deletes or regenerates, like any other.
    public func run(line: String) -> LineOutcome {
        emitted = false
        declined = false
        let expanded: String
        do { expanded = try substitute(line) } catch {
            return fail(error, command: nil)
        }
        let words: [String]
        do { words = try CommandLexer.split(expanded) } catch { return fail(error, command: nil) }
        return run(words: words)
    }

    /// Parses and runs one command already split into words (a one-shot command line).
    public func run(words: [String]) -> LineOutcome {
        emitted = false
        quitRequested = false
        guard !words.isEmpty else { return .ok }
        var name: String?
        do {
            let input = try ParsedCommand.parse(words)
            name = input.configuration.name
            try input.command.init(input).run(in: self)
            return quitRequested ? .quit : .ok
        } catch {
            return fail(error, command: name)
        }
    }

    /// The failure of a line: its one-line message, and in JSON mode its error object
    /// (unless the command already printed its object).
    private func fail(_ error: any Error, command: String?) -> LineOutcome {
        // Every error a command throws (the console's, the flows', the store's, the lexer's,
        // sync's) is CustomStringConvertible, and its description is the sentence to show.
        let message = "\(error)"
        if case ConsoleError.usage? = error as? ConsoleError { lastFailureWasUsage = true } else { lastFailureWasUsage = false }
        if json && !emitted {
            emit([("error", .string(message)), ("command", command.map(JSONValue.string) ?? .null)])
        }
        return .failed(message)
    }

    /// Replaces each `$(…)` (outside single quotes, not nested) by the output of the command inside.
    func substitute(_ line: String) throws -> String {
        guard line.contains("$(") else { return line }
        var out = ""
        var inSingle = false
        var i = line.startIndex
        while i < line.endIndex {
            let ch = line[i]
            if ch == "'" { inSingle.toggle() }
            if !inSingle, ch == "$", line.index(after: i) < line.endIndex, line[line.index(after: i)] == "(" {
                let start = line.index(i, offsetBy: 2)
                guard let close = line[start...].firstIndex(of: ")") else {
                    throw ConsoleError.usage("unterminated $( in the line")
                }
                let inner = String(line[start..<close])
                if inner.contains("$(") { throw ConsoleError.usage("nested $( ) is not supported") }
                let captured = CapturedOutput()
                // The inner command asks the same questions as the outer one would (a
                // `$(link delete ID)` on a terminal is still a delete), but prints to the capture.
                let sub = ConsoleSession(service: service, json: false, io: ConsoleIO(
                    out: { captured.append($0) }, confirm: io.confirm, interrupted: io.interrupted))
                sub.page = page
                if case .failed(let m) = sub.run(line: inner) { throw ConsoleError.failed("in $(\(inner)): \(m)") }
                if sub.declined { throw ConsoleError.failed("$(\(inner)) was declined; the line was not run") }
                out += captured.text.trimmingCharacters(in: .whitespacesAndNewlines)
                i = line.index(after: close)
                continue
            }
            out.append(ch)
            i = line.index(after: i)
        }
        return out
    }

    /// Prints one JSON object on one line.
    func emit(_ object: [(String, JSONValue)]) {
        emit(line: Format.jsonLine(object))
    }

    /// Prints a JSON object already written as one line (`help --json`).
    func emit(line: String) {
        emitted = true
        io.out(TerminalText.jsonSafe(line))
    }

    /// Prints text (one or more lines), with control characters from names, URLs and
    /// remote errors escaped (`TerminalText`).
    func say(_ text: String) { io.out(TerminalText.safe(text)) }

    /// Asks to confirm unless `skip` (`--yes`) or the input is piped. A no (or Ctrl-C) is
    /// reported by the command with ``reportDeclined(_:_:id:)``.
    func confirmed(skip: Bool, _ question: String) -> Bool {
        if skip { return true }
        guard let ask = io.confirm else { return true }
        let yes = ask(question)
        if !yes { declined = true }
        return yes
    }

    /// Says that a question was answered no: `Not deleted.`, or a JSON object naming `command`.
    func reportDeclined(_ command: CommandConfiguration, _ sentence: String, id: String) {
        if json {
            emit([("result", .string("declined")), ("command", .string(command.name)), ("id", .string(id))])
        } else {
            say(sentence)
        }
    }
}
