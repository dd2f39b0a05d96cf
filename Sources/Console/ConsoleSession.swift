import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks
import Storage

/// How a session prints and asks.
public struct ConsoleIO: Sendable {
    /// Writes one line (a newline is added) to standard output.
    public var out: @Sendable (String) -> Void
    /// Asks a yes/no question; `nil` means "do not ask" (piped input acts without asking).
    public var confirm: (@Sendable (String) -> Bool)?
    /// Shows transient progress (a TTY status line), or `nil`.
    public var progress: (@Sendable (String) -> Void)?

    /// Creates the IO.
    public init(out: @escaping @Sendable (String) -> Void, confirm: (@Sendable (String) -> Bool)?,
                progress: (@Sendable (String) -> Void)? = nil) {
        self.out = out
        self.confirm = confirm
        self.progress = progress
    }
}

/// Collects the lines a nested command prints.
final class CapturedOutput: @unchecked Sendable {
    // @unchecked Sendable: used by one thread, inside one call to `run(line:)`.
    private(set) var text = ""
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

/// One REPL session on a replica: the admin view, or a tenant's setup page once opened.
public final class ConsoleSession: @unchecked Sendable {
    // @unchecked Sendable: a session is driven by one thread (the REPL loop); it is only
    // marked Sendable so it can be handed to that thread.

    /// The replica.
    public let store: ReplicaStore
    /// The flows.
    public let service: SetupLinkService
    /// Whether commands print JSON objects instead of tables.
    public let json: Bool
    /// The open setup page, if any.
    public internal(set) var page: TenantPage?
    let io: ConsoleIO

    /// A session on `service`'s replica.
    public init(service: SetupLinkService, json: Bool, io: ConsoleIO) {
        self.service = service
        self.store = service.store
        self.json = json
        self.io = io
    }

    /// The prompt: where you are.
    public var prompt: String {
        if let page { return "setuplink(\(page.link.tenant)/\(page.link.product))> " }
        return "setuplink(admin)> "
    }

    /// Splits, parses and runs one line.
    ///
    /// `$(COMMAND)` outside single quotes is replaced by what COMMAND prints, as in
    /// a shell, so a script can write `open $(link copy ID)`.
    public func run(line: String) -> LineOutcome {
        let expanded: String
        do { expanded = try substitute(line) } catch let e as ConsoleError { return .failed(e.description) } catch {
            return .failed("\(error)")
        }
        let words: [String]
        do { words = try CommandLexer.split(expanded) } catch { return .failed(error.description) }
        guard !words.isEmpty else { return .ok }
        if words == ["quit"] || words == ["exit"] { return .quit }
        do {
            let command = try ParsedCommand.parse(words)
            try execute(command)
            return .ok
        } catch let e as ConsoleError {
            return .failed(e.description)
        } catch let e as SetupLinkError {
            return .failed(e.description)
        } catch let e as StoreError {
            return .failed(e.description)
        } catch {
            return .failed("\(error)")
        }
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
                let sub = ConsoleSession(service: service, json: false, io: ConsoleIO(out: { captured.append($0) }, confirm: nil))
                sub.page = page
                if case .failed(let m) = sub.run(line: inner) { throw ConsoleError.failed("in $(\(inner)): \(m)") }
                out += captured.text.trimmingCharacters(in: .whitespacesAndNewlines)
                i = line.index(after: close)
                continue
            }
            out.append(ch)
            i = line.index(after: i)
        }
        return out
    }

    func emit(_ object: [(String, JSONValue)]) {
        io.out(String(decoding: JSONWriter.write(.object(object)), as: UTF8.self))
    }

    func say(_ text: String) { io.out(text) }

    /// Asks to confirm unless `--yes` or the input is piped.
    func confirmed(_ command: ParsedCommand, _ question: String) -> Bool {
        if command.has("--yes") { return true }
        guard let ask = io.confirm else { return true }
        return ask(question)
    }

    func execute(_ c: ParsedCommand) throws {
        switch c.spec.name {
        case "link create": try linkCreate(c)
        case "link list": try linkList(c)
        case "link show": try linkShow(c)
        case "link copy": try linkCopy(c)
        case "link regenerate": try linkRegenerate(c)
        case "link delete": try linkDelete(c)
        case "directory list": try directoryList(c)
        case "directory show": try directoryShow(c)
        case "open": try open(c)
        case "providers": providers()
        case "directory new": try directoryNew(c)
        case "directory activate": try directorySetActive(c, active: true)
        case "directory deactivate": try directorySetActive(c, active: false)
        case "directory delete": try directoryDelete(c)
        case "close": try close()
        case "peer add": try peerAdd(c)
        case "peer list": try peerList()
        case "peer update": try peerUpdate(c)
        case "peer remove": try peerRemove(c)
        case "sync": try sync(c)
        case "status": try status()
        case "conflicts": try conflicts()
        case "config": try config(c)
        case "help": try help(c)
        default: throw ConsoleError.usage("unknown command \"\(c.spec.name)\"")
        }
    }

    // MARK: Help

    func help(_ c: ParsedCommand) throws {
        if let topic = c.arguments.first {
            let words = topic.split(separator: " ").map(String.init)
            guard let spec = CommandTable.all.first(where: { $0.name == topic })
                    ?? CommandTable.lookup(words) else {
                let group = CommandTable.all.filter { $0.words[0] == topic }
                if !group.isEmpty {
                    say(group.map { "  \($0.usage)" }.joined(separator: "\n"))
                    return
                }
                let hint = closestMatch(to: topic, in: Array(Set(CommandTable.names + CommandTable.all.map { $0.words[0] }))).map { " — did you mean \"\($0)\"?" } ?? ""
                throw ConsoleError.usage("no help for \"\(topic)\"\(hint)")
            }
            if json {
                emit([("command", .string(spec.name)), ("usage", .string(spec.usage)), ("summary", .string(spec.summary)),
                      ("flags", .array(spec.flags.map { .object([("name", .string($0.name)), ("help", .string($0.help)), ("required", .bool($0.required))]) })),
                      ("example", .string(spec.example))])
                return
            }
            var lines = ["usage: \(spec.usage)", "", spec.summary]
            if !spec.flags.isEmpty {
                lines.append("")
                let width = spec.flags.map { ($0.value.map { " " + $0 } ?? "").count + $0.name.count }.max() ?? 0
                for f in spec.flags {
                    let left = f.name + (f.value.map { " " + $0 } ?? "")
                    lines.append("  " + left + String(repeating: " ", count: width - left.count + 2) + f.help + (f.required ? " (required)" : ""))
                }
            }
            lines += ["", "example: \(spec.example)"]
            say(lines.joined(separator: "\n"))
            return
        }
        if json {
            emit([("commands", .array(CommandTable.all.map { .object([("usage", .string($0.usage)), ("summary", .string($0.summary))]) }))])
            return
        }
        let sections: [(String, [String])] = [
            ("Admin", ["link create", "link list", "link show", "link copy", "link regenerate", "link delete", "directory list", "directory show"]),
            ("Tenant (after open)", ["open", "providers", "directory new", "directory show", "directory activate", "directory deactivate", "directory delete", "close"]),
            ("Sync and housekeeping", ["peer add", "peer update", "peer list", "peer remove", "sync", "status", "conflicts", "config", "help", "quit"]),
        ]
        var lines: [String] = []
        let width = CommandTable.all.map(\.name.count).max() ?? 0
        for (title, names) in sections {
            lines.append(title + ":")
            for n in names {
                let spec = CommandTable.all.first { $0.name == n }!
                lines.append("  " + n + String(repeating: " ", count: width - n.count + 2) + spec.summary)
            }
            lines.append("")
        }
        lines.append("help COMMAND shows a command's flags and an example, e.g. help link create")
        say(lines.joined(separator: "\n"))
    }
}
