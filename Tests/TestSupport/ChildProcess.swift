import Foundation
import Glibc
import Synchronization

// Running the built `setuplink` (and the package's other products) as child
// processes, the way a user, an identity provider or a browser meets them: one
// copy for every test target.

/// The package's root folder.
public func packageRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The folder holding the built products (`setuplink`, `merge-bench`, …): beside
/// the test bundle, else the package's `.build/debug`.
public func productsDirectory() -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("setuplink").path) { return dir }
        dir = dir.deletingLastPathComponent()
    }
    return packageRoot().appendingPathComponent(".build/debug")
}

/// The built `setuplink` executable.
public func setuplinkBinary() -> URL { productsDirectory().appendingPathComponent("setuplink") }

/// A value behind a lock, shared by reference with other threads.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R { try mutex.withLock { try body(&$0) } }
}

/// What a finished child process printed and returned.
public struct ChildRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The non-empty lines of stdout.
    public var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    /// The non-empty lines of stderr.
    public var errorLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    /// Each stdout line parsed as a JSON object (`--json` output); lines that are not, left out.
    public var objects: [[String: Any]] {
        stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// The caller's environment without its `SETUPLINK_*` variables, plus `extra`:
/// a child sees only what its test gives it.
public func childEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SETUPLINK_") }
    for (k, v) in extra { env[k] = v }
    return env
}

/// Runs `executable` with `input` written to its stdin (on a thread of its own, so
/// a long input cannot deadlock against a full stdout pipe) and `environment`
/// added to `childEnvironment()`; waits for it.
public func runChild(_ executable: URL, _ arguments: [String], input: String = "",
                     environment: [String: String] = [:]) throws -> ChildRun {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    p.environment = childEnvironment(environment)
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    Thread {
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inPipe.fileHandleForWriting.close()
    }.start()
    let err = PipeDrain(errPipe.fileHandleForReading)
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ChildRun(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: err.text())
}

/// Runs the program at `executable` (`curl`, `openssl`, a Python) with
/// `arguments` and nothing on its stdin; waits for it.
public func run(_ executable: String, _ arguments: [String]) throws -> ChildRun {
    try runChild(URL(fileURLWithPath: executable), arguments)
}

/// Reads a pipe to its end on a thread of its own, so two pipes cannot deadlock.
public final class PipeDrain: Sendable {
    private let data = Locked(Data())
    private let done = DispatchSemaphore(value: 0)

    public init(_ handle: FileHandle) {
        Thread { [data, done] in
            let all = handle.readDataToEndOfFile()
            data.withLock { $0 = all }
            done.signal()
        }.start()
    }

    /// Everything read, once the pipe has ended.
    public func text() -> String {
        done.wait()
        return data.withLock { String(decoding: $0, as: UTF8.self) }
    }
}

/// A child process that did not do what the test needs to go on.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// `setuplink serve` as a child process: the real server an identity provider,
/// a browser or a peer reaches. Its stdout and stderr (the access log) are kept.
public final class ServedSetuplink: Sendable {
    public let process: Process
    /// Where it listens, `http://127.0.0.1:PORT`.
    public let url: String
    /// The peer token it printed (`token: …`), when it made one.
    public let token: String
    private let stderrText = Locked("")
    private let stdoutText = Locked("")
    /// Signalled when stderr reaches its end (the process exited).
    private let stderrClosed = DispatchSemaphore(value: 0)

    /// Starts `setuplink --db DB --external-url URL serve` with `peerToken` in
    /// `SETUPLINK_TOKEN` and waits until it listens. Without `externalURL`, it
    /// serves on a free port and that address is its external URL (so
    /// `meta.location` is the address clients use); with one, on a port the
    /// system picks.
    public convenience init(db: String, externalURL: String? = nil, peerToken: String = "peer-secret-0123456789") throws {
        var lastError: (any Error)?
        // A free port may be taken between the probe and the bind: a few tries.
        for _ in 0..<3 {
            let port: UInt16 = externalURL == nil ? try freePort() : 0
            do {
                try self.init(db: db, before: ["--external-url", externalURL ?? "http://127.0.0.1:\(port)"],
                              serve: ["--port", String(port)], environment: ["SETUPLINK_TOKEN": peerToken])
                return
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    /// Starts `setuplink --db DB BEFORE… serve SERVE…` with `environment` added to
    /// `childEnvironment()`, and waits until it listens and has said where its peer
    /// token comes from (printing it when it made one).
    public init(db: String, before: [String] = [], serve: [String] = ["--port", "0"], environment: [String: String] = [:]) throws {
        let p = Process()
        p.executableURL = setuplinkBinary()
        p.arguments = ["--db", db] + before + ["serve"] + serve
        p.environment = childEnvironment(environment)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let stdoutText = self.stdoutText
        for (pipe, text, closed) in [(err, stderrText, stderrClosed), (out, stdoutText, nil)] {
            Thread {
                while true {
                    let d = pipe.fileHandleForReading.availableData
                    if d.isEmpty { break }
                    text.withLock { $0 += String(decoding: d, as: UTF8.self) }
                }
                closed?.signal()
            }.start()
        }
        var found: (url: String, token: String)?
        poll(until: {
            let lines = stdoutText.withLock { $0 }.split(separator: "\n")
            guard let listening = lines.first(where: { $0.hasPrefix("listening on ") }) else { return !p.isRunning }
            let token = lines.first { $0.hasPrefix("token: ") }.map { String($0.dropFirst(7)) } ?? ""
            // The token's line (or where it came from) follows the listening line.
            guard !token.isEmpty || lines.contains(where: { $0.contains("using the") }) else { return !p.isRunning }
            found = (String(listening.dropFirst("listening on ".count)), token)
            return true
        }, deadline: .seconds(30))
        guard let found, p.isRunning else {
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            throw ChildProcessError("serve did not start: \(stdoutText.withLock { $0 }) \(stderrText.withLock { $0 })")
        }
        process = p
        url = found.url
        token = found.token
    }

    /// What the server wrote on stderr: its access log.
    public var accessLog: String { stderrText.withLock { $0 } }

    /// What the server printed on stdout: its banner.
    public var banner: String { stdoutText.withLock { $0 } }

    /// Waits until the access log contains `text`, up to `seconds`.
    public func waitForLog(_ text: String, seconds: Double = 60) -> Bool {
        poll(until: { accessLog.contains(text) }, deadline: .milliseconds(Int(seconds * 1000)))
    }

    /// Stops it with SIGTERM and waits for it, and for its log to be read to the end.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        // A second stop() returns at once.
        if stderrClosed.wait(timeout: .now() + 10) == .success { stderrClosed.signal() }
    }

    deinit { stop() }
}
