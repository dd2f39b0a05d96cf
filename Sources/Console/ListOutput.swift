import Foundation

/// How long lists reach a person at a terminal.
public enum Paging: Sendable {
    /// `rows` lines at a time, then `-- more --`: Enter shows the next screen, `q` or Ctrl-C stops.
    case more(rows: Int, ask: @Sendable (String) -> Bool)
    /// Through a pager command (`$PAGER`, run by `/bin/sh -c`), when the list is longer than `rows` lines.
    case command(String, rows: Int)

    /// The terminal's height in lines (standard output), or `LINES`, or 24.
    public static func terminalRows() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 { return Int(size.ws_row) }
        return ProcessInfo.processInfo.environment["LINES"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 24
    }

    /// The paging for a terminal: `$PAGER` when set, else `more` with the terminal's height.
    public static func forTerminal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Paging {
        let rows = max(5, terminalRows() - 1)
        if let pager = environment["PAGER"]?.trimmingCharacters(in: .whitespaces), !pager.isEmpty, pager != "cat" {
            return .command(pager, rows: rows)
        }
        return .more(rows: rows) { prompt in
            Terminal.writeFlushed(prompt)
            guard let answer = Terminal.readAnswer() else {
                Terminal.writeFlushed("\n")
                return false
            }
            return answer.trimmingCharacters(in: .whitespaces).lowercased() != "q"
        }
    }
}

/// Writes lines to a pager's standard input; the pager draws on the terminal.
final class PagerProcess {
    private let process = Process()
    private let input = Pipe()
    private(set) var closed = false

    /// Starts `/bin/sh -c command`, or returns nil if it cannot start.
    init?(command: String) {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = input
        var env = ProcessInfo.processInfo.environment
        // less: keep colours, leave the screen as it was when quitting.
        if env["LESS"] == nil { env["LESS"] = "FRX" }
        process.environment = env
        // A pager the user quits closes the pipe: a write must fail with EPIPE, not kill the REPL.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch {
            signal(SIGPIPE, SIG_DFL)
            return nil
        }
    }

    /// Writes `text` and a newline; false once the pager has quit (the rest is not wanted).
    func write(_ text: String) -> Bool {
        guard !closed else { return false }
        var bytes = Array((text + "\n").utf8)
        let fd = input.fileHandleForWriting.fileDescriptor
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                closed = true   // EPIPE: the user quit the pager (SIGPIPE is ignored)
                return false
            }
            offset += n
        }
        bytes.removeAll()
        return true
    }

    /// Closes the pager's input and waits for the user to leave it.
    func finish() {
        try? input.fileHandleForWriting.close()
        closed = true
        process.waitUntilExit()
        signal(SIGPIPE, SIG_DFL)
    }
}

extension ConsoleSession {
    /// The widest a table cell is shown, in terminal columns (ids and tokens fit; JSON is never cut).
    static let maxCellWidth = 48

    /// Prints a table whose rows arrive page by page: the header and the first page as
    /// soon as they are read, with column widths taken from that page (later, wider
    /// cells end in `…`); then, on a terminal, a screen at a time (or through `$PAGER`).
    ///
    /// - Parameters:
    ///   - next: The next page of rows, or `nil` when there are no more.
    ///   - statusColumns: Columns whose words are coloured as statuses.
    func streamTable(headers: [String], statusColumns: Set<Int> = [], first: [[String]],
                     next: () throws -> [[String]]?) throws {
        var table = TextTable(headers: headers, rows: first, maxCellWidth: Self.maxCellWidth)
        let style = io.style
        if style.enabled && !statusColumns.isEmpty {
            table.style = { column, cell in statusColumns.contains(column) ? style.status(cell) : cell }
        }
        let widths = table.columnWidths()
        var sink = LineSink(session: self)
        sink.emit(table.headerLine(widths: widths))
        var page: [[String]]? = first
        while let rows = page {
            table.rows = rows
            for line in table.rowLines(widths: widths) where !sink.emit(line) { return sink.finish() }
            // Each page is shown as soon as it is read: the first rows appear at once.
            sink.endOfPage()
            if io.interrupted() {
                sink.finish()
                say("(stopped)")
                return
            }
            page = try next()
        }
        sink.finish()
    }
}

/// Where the lines of a streamed table go: straight out, a screen at a time, or to a pager.
struct LineSink {
    let session: ConsoleSession
    private var buffered: [String] = []
    private var shown = 0
    private var pager: PagerProcess?
    private var stopped = false

    init(session: ConsoleSession) { self.session = session }

    /// Sends one line; false when the user asked to stop.
    @discardableResult
    mutating func emit(_ line: String) -> Bool {
        guard !stopped else { return false }
        switch session.io.paging {
        case nil:
            // Lines are gathered per page, so a long list is a few writes, not one per row.
            buffered.append(line)
        case .more(let rows, let ask)?:
            session.say(line)
            shown += 1
            if shown >= rows {
                if !ask("-- more -- (Enter: next screen, q: stop) ") { stopped = true; return false }
                shown = 0
            }
        case .command(let command, let rows)?:
            if let pager {
                if !pager.write(line) { stopped = true; return false }
                return true
            }
            buffered.append(line)
            if buffered.count > rows {
                guard let started = PagerProcess(command: command) else {
                    // No pager after all: print as a pipe would.
                    flush()
                    return true
                }
                pager = started
                for l in buffered where !started.write(l) { stopped = true; break }
                buffered.removeAll()
                if stopped { return false }
            }
        }
        return true
    }

    /// Prints the lines gathered so far when printing straight out (a pager gets them as they come).
    mutating func endOfPage() {
        if session.io.paging == nil { flush() }
    }

    private mutating func flush() {
        if !buffered.isEmpty { session.say(buffered.joined(separator: "\n")) }
        buffered.removeAll()
    }

    /// Prints what is still buffered, or waits for the pager to be closed.
    mutating func finish() {
        if let pager {
            pager.finish()
        } else {
            flush()
        }
    }
}
