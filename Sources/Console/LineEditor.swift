import CEditLine
import Foundation

/// What the user has typed up to the cursor, as the completer sees it.
public struct LineContext: Sendable, Equatable {
    /// The line from its start up to the cursor, as typed (quotes and all).
    public let line: String
    /// The finished words before the one being typed, unquoted.
    public let words: [String]
    /// The word being typed, unquoted; empty when the line ends in a blank (a new word starts).
    ///
    /// An unclosed quote is part of the word in progress: after `--name "Acme E`
    /// it is `Acme E`.
    public let currentWord: String
    /// The word being typed as it appears in `line`, for replacing it in place.
    let typedCurrentWord: String

    /// Splits `line` (the text up to the cursor) into finished words and the word in progress.
    public init(line: String) {
        let scan = CommandLexer.Scan(line)
        self.line = line
        words = scan.words
        currentWord = scan.current ?? ""
        if let start = scan.currentStart {
            var typed = String.UnicodeScalarView()
            typed.append(contentsOf: Array(line.unicodeScalars)[start...])
            typedCurrentWord = String(typed)
        } else {
            typedCurrentWord = ""
        }
    }
}

/// Completion candidates for the word being typed, from a table of commands and their flags.
///
/// `commands` maps a command path to its flags, e.g. `"link create": ["--tenant", "--product"]`,
/// `"link list": ["--tenant"]`, `"quit": []`. Candidates are those starting with
/// the word being typed (case-sensitive):
/// 1. the next command words that extend the words typed so far, sorted
///    (`li` → `link`; `link ` → `create`, `list`);
/// 2. then, once the words typed so far start with a whole command path (the
///    longest one wins), that command's flags in table order, leaving out flags
///    already on the line (as `--tenant X` or `--tenant=X`).
///
/// Nothing is offered for flag values (`--tenant=ac`).
public func completions(for line: String, commands: [String: [String]]) -> [String] {
    completions(for: LineContext(line: line), commands: commands)
}

/// Completion candidates for `context`, as the line-taking overload does.
public func completions(for context: LineContext, commands: [String: [String]]) -> [String] {
    let typed = context.words
    let partial = context.currentWord
    let paths = commands.keys.map { ($0, $0.split(separator: " ").map(String.init)) }

    var commandWords = Set<String>()
    for (_, path) in paths where path.count > typed.count && Array(path.prefix(typed.count)) == typed {
        let next = path[typed.count]
        if next.hasPrefix(partial) { commandWords.insert(next) }
    }

    var flags: [String] = []
    let matched = paths.filter { !$0.1.isEmpty && typed.starts(with: $0.1) }.max { $0.1.count < $1.1.count }
    if let (key, path) = matched {
        let used = Set(typed.dropFirst(path.count).map { word in
            word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
        })
        var seen = Set<String>()
        flags = commands[key, default: []].filter { flag in
            flag.hasPrefix(partial) && !used.contains(flag) && seen.insert(flag).inserted
        }
    }
    return commandWords.sorted() + flags
}

/// An interactive line reader over libedit: prompt, Emacs key bindings, history and TAB completion.
///
/// ```swift
/// let editor = LineEditor(programName: "setuplink", historyFile: "~/.local/state/setuplink/history") { context in
///     completions(for: context, commands: table)
/// }
/// editor.prompt = "setuplink(admin)> "
/// while let line = editor.readLine() { … }
/// ```
///
/// Reads standard input and writes to standard output. On a terminal the user
/// can edit the line, walk the history with the arrow keys and complete words
/// with TAB; `~/.editrc` is read, so personal libedit bindings apply. When
/// standard input is not a terminal libedit reads plain lines and shows no prompt.
///
/// Creating an editor sets the process's `LC_CTYPE` locale from the environment,
/// because libedit decodes UTF-8 input only under a UTF-8 locale.
///
/// Not thread-safe: create, use and release an editor on one thread (the REPL's).
public final class LineEditor {
    /// The prompt shown before each line, e.g. `setuplink(acme/crm)> `; set it between reads.
    public var prompt: String {
        didSet { replacePromptBuffer() }
    }

    /// The file the history is loaded from and saved to, or `nil` for history kept in memory only.
    public let historyFile: String?

    /// The most entries the history keeps; older ones are dropped.
    public static let historyLimit: Int32 = 1000

    /// What the history keeps of a line entered (`nil`: nothing); e.g. the line with secrets redacted.
    public var historyFilter: (String) -> String? = { $0 }

    private let completer: (LineContext) -> [String]
    /// Set by the Ctrl-C key binding while a line is read; the line is then discarded.
    private var interrupted = false
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    private let output: UnsafeMutablePointer<FILE>
    private var promptBuffer: UnsafeMutablePointer<CChar>
    private var event = HistEvent()

    /// Creates an editor and loads the history.
    ///
    /// - Parameters:
    ///   - programName: The name `~/.editrc` rules can select with `name:` lines.
    ///   - historyFile: Where history persists between runs (a leading `~` means the
    ///     home directory), or `nil`. A missing file is fine: it is created, with its
    ///     parent directory, on the first line entered, readable only by the user
    ///     because commands can carry secrets.
    ///   - prompt: The first prompt; ``prompt`` can change it later.
    ///   - completer: Called on TAB with the text up to the cursor; returns the
    ///     words that could stand in place of ``LineContext/currentWord``.
    ///     Candidates not starting with it are ignored.
    public init(programName: String, historyFile: String?, prompt: String = "> ",
                completer: @escaping (LineContext) -> [String] = { _ in [] }) {
        setlocale(LC_CTYPE, "")
        // el_init and history_init fail only when memory runs out.
        guard let editLine = el_init(programName, setuplink_stdin(), setuplink_stdout(), setuplink_stderr()) else {
            fatalError("el_init failed: out of memory")
        }
        guard let history = history_init() else {
            fatalError("history_init failed: out of memory")
        }
        self.editLine = editLine
        self.history = history
        self.output = setuplink_stdout()
        self.historyFile = historyFile.map { ($0 as NSString).expandingTildeInPath }
        self.prompt = prompt
        self.promptBuffer = strdup(prompt)
        self.completer = completer

        setuplink_history_setsize(history, &event, Self.historyLimit)
        setuplink_history_setunique(history, &event, 1)
        if let path = self.historyFile, FileManager.default.fileExists(atPath: path) {
            setuplink_history_load(history, &event, path)
        }

        // The callbacks are C function pointers and cannot capture `self`; they find
        // it through the client data. Unretained is enough: libedit calls them only
        // from inside el_gets, which runs on behalf of this (so, live) object.
        setuplink_el_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        setuplink_el_set_prompt(editLine, Self.promptCallback)
        setuplink_el_set_editor(editLine, "emacs")
        // libedit's own signal handling is off: on SIGINT it would put the terminal back in
        // cooked mode and keep reading there (the REPL then waits for a whole line), which a
        // Ctrl-C typed just as the prompt appears, before raw mode is set, can trigger. Ctrl-C
        // is a key while editing (below); the width is refreshed before each line instead.
        setuplink_el_set_signal(editLine, 0)
        setuplink_el_set_history(editLine, history)
        setuplink_el_add_function(editLine, "setuplink-complete", "Complete the word at the cursor",
                                  Self.completeCallback)
        setuplink_el_bind(editLine, "^I", "setuplink-complete")
        // Ctrl-C discards the line being typed and starts a new prompt, as in a shell. With ISIG
        // off while editing it reaches the key map as a character rather than as SIGINT
        // (which would end the program); the terminal is restored for running commands.
        setuplink_el_setty_edit(editLine, "-isig")
        setuplink_el_add_function(editLine, "setuplink-interrupt", "Discard the line (Ctrl-C)",
                                  Self.interruptCallback)
        setuplink_el_bind(editLine, "^C", "setuplink-interrupt")
        // Last, so the user's ~/.editrc overrides the bindings above.
        el_source(editLine, nil)
    }

    deinit {
        history_end(history)
        el_end(editLine)
        free(promptBuffer)
    }

    /// Reads one line, without its line break; `nil` at end of input (Ctrl-D on an empty line).
    ///
    /// Lines read from a pipe or file are returned but not recorded in the history.
    ///
    /// On a terminal, a line with something other than blanks is added to the
    /// history (as ``historyFilter`` gives it, without trailing blanks) and the history
    /// is saved, unless it starts with a space (a way to keep a command out of the
    /// history file) or repeats the line before it. Ctrl-C discards the line typed so
    /// far and returns an empty line, as does a read interrupted by a signal the program handles.
    public func readLine() -> String? {
        var count: Int32 = 0
        interrupted = false
        // Without libedit's SIGWINCH handler, pick up a window resized since the last line.
        el_resize(editLine)
        let raw = el_gets(editLine, &count)
        if interrupted {
            // The discarded text (and its ^C) stays on its own line; the next prompt starts a new one.
            fputs("\n", output)
            fflush(output)
            return ""
        }
        if count < 0, errno == EINTR {
            fputs("\n", output)
            return ""
        }
        guard let raw, count > 0 else {
            // Ctrl-D leaves the cursor after the prompt; end that line so the shell's prompt starts clean.
            if isatty(STDIN_FILENO) == 1 { fputs("\n", output) }
            return nil
        }
        var bytes = Array(UnsafeBufferPointer(start: raw, count: Int(count)).map { UInt8(bitPattern: $0) })
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        if isatty(STDIN_FILENO) == 1 { remember(line) }
        return line
    }

    /// Adds `line`, less trailing blanks, to the history and saves it, unless it is blank or starts with a space.
    private func remember(_ line: String) {
        guard let first = line.first, first != " ", let kept = historyFilter(line) else { return }
        // Completion leaves a space after the last word; without trimming, `x` and `x `
        // would be two entries and H_SETUNIQUE could not tell them apart.
        let entry = String(kept.reversed().drop(while: \.isWhitespace).reversed())
        guard !entry.isEmpty else { return }
        setuplink_history_enter(history, &event, entry)
        saveHistory()
    }

    /// Writes the history to ``historyFile``; history is a convenience, so failures are ignored.
    private func saveHistory() {
        guard let path = historyFile else { return }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
        // Create the file private before libedit's fopen(path, "w") writes to it,
        // since lines can hold tokens and webhook secrets.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
        setuplink_history_save(history, &event, path)
    }

    /// Keeps the prompt in a C string that outlives each prompt callback.
    private func replacePromptBuffer() {
        let old = promptBuffer
        promptBuffer = strdup(prompt)
        free(old)
    }

    /// The EL_PROMPT callback: the current prompt.
    private static let promptCallback: setuplink_el_prompt_fn = { editLine in
        // The client data is set before the prompt function, so it is always there.
        let editor = Unmanaged<LineEditor>.fromOpaque(setuplink_el_get_clientdata(editLine)!).takeUnretainedValue()
        return editor.promptBuffer
    }

    /// The TAB callback, registered with EL_ADDFN.
    private static let completeCallback: setuplink_el_user_fn = { editLine, _ in
        guard let editLine, let data = setuplink_el_get_clientdata(editLine) else { return UInt8(CC_ERROR) }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue().complete(editLine)
    }

    /// The Ctrl-C callback: shows `^C` at the end of the line and ends the read; `readLine` discards the line.
    private static let interruptCallback: setuplink_el_user_fn = { editLine, _ in
        guard let editLine, let data = setuplink_el_get_clientdata(editLine) else { return UInt8(CC_ERROR) }
        let editor = Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
        editor.interrupted = true
        if let info = el_line(editLine)?.pointee, let cursor = info.cursor, let last = info.lastchar, last > cursor {
            el_cursor(editLine, Int32(last - cursor))
        }
        el_insertstr(editLine, "^C")
        return UInt8(CC_NEWLINE)
    }

    /// Completes the word before the cursor: the rest of a single candidate and a
    /// space, else the candidates' common prefix, else a list of the candidates.
    private func complete(_ editLine: OpaquePointer) -> UInt8 {
        guard let info = el_line(editLine)?.pointee, let buffer = info.buffer, let cursor = info.cursor else {
            return UInt8(CC_ERROR)
        }
        let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: cursor - buffer), as: UTF8.self)
        let context = LineContext(line: line)
        var seen = Set<String>()
        let candidates = completer(context).filter { $0.hasPrefix(context.currentWord) && seen.insert($0).inserted }
        if candidates.isEmpty { return UInt8(CC_REFRESH_BEEP) }

        let replacement: String?
        if candidates.count == 1 {
            replacement = Self.typed(candidates[0], complete: true)
        } else {
            let prefix = commonPrefix(candidates)
            replacement = prefix.count > context.currentWord.count ? Self.typed(prefix, complete: false) : nil
        }
        if let replacement {
            // el_deletestr counts characters as libedit does: Unicode scalars under a UTF-8 locale.
            el_deletestr(editLine, Int32(context.typedCurrentWord.unicodeScalars.count))
            el_insertstr(editLine, replacement)
            return UInt8(CC_REFRESH)
        }
        fputs("\n" + Self.columns(candidates, width: Int(setuplink_el_columns(editLine))) + "\n", output)
        return UInt8(CC_REDISPLAY)
    }

    /// How to type `word` on the line: as is when it needs no quotes, else single-quoted;
    /// a complete word is closed and followed by a space, a prefix is left open to continue.
    static func typed(_ word: String, complete: Bool) -> String {
        guard CommandLexer.needsQuoting(word) else { return complete ? word + " " : word }
        let body = "'" + word.replacingOccurrences(of: "'", with: "'\\''")
        return complete ? body + "' " : body
    }

    /// Lays `words` out in columns that fit `width` terminal columns, like `ls`.
    static func columns(_ words: [String], width: Int) -> String {
        let cell = (words.map(displayWidth).max() ?? 0) + 2
        let perLine = max(1, width / cell)
        var lines: [String] = []
        for start in stride(from: 0, to: words.count, by: perLine) {
            let line = words[start..<min(start + perLine, words.count)].map { word in
                word + String(repeating: " ", count: cell - displayWidth(word))
            }.joined()
            lines.append(String(line.reversed().drop { $0 == " " }.reversed()))
        }
        return lines.joined(separator: "\n")
    }
}

/// The longest common prefix of `words`, by characters.
private func commonPrefix(_ words: [String]) -> String {
    guard var prefix = words.first.map(Array.init) else { return "" }
    for word in words.dropFirst() {
        let characters = Array(word)
        var length = 0
        while length < min(prefix.count, characters.count), prefix[length] == characters[length] { length += 1 }
        prefix.removeSubrange(length...)
    }
    return String(prefix)
}
