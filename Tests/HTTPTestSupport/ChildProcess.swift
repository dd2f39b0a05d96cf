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
/// a browser or a peer reaches. Its stderr (the access log) is kept.
public final class ServedSetuplink: Sendable {
    public let process: Process
    /// Where it listens, `http://127.0.0.1:PORT`.
    public let url: String
    private let stderrText = Locked("")

    /// Starts `setuplink --db DB --external-url URL serve` with `peerToken` in
    /// `SETUPLINK_TOKEN` and waits until it listens. Without `externalURL`, it
    /// serves on a free port and that address is its external URL (so
    /// `meta.location` is the address clients use); with one, on a port the
    /// system picks.
    public init(db: String, externalURL: String? = nil, peerToken: String = "peer-secret-0123456789") throws {
        var lastError = ""
        // A free port may be taken between the probe and the bind: a few tries.
        for _ in 0..<3 {
            let port: UInt16 = externalURL == nil ? try freePort() : 0
            let p = Process()
            p.executableURL = setuplinkBinary()
            p.arguments = ["--db", db, "--external-url", externalURL ?? "http://127.0.0.1:\(port)", "serve", "--port", String(port)]
            p.environment = childEnvironment(["SETUPLINK_TOKEN": peerToken])
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.standardInput = FileHandle.nullDevice
            try p.run()
            let output = Locked("")
            for (pipe, isErr) in [(err, true), (out, false)] {
                Thread { [stderrText] in
                    while true {
                        let d = pipe.fileHandleForReading.availableData
                        if d.isEmpty { return }
                        let s = String(decoding: d, as: UTF8.self)
                        if isErr { stderrText.withLock { $0 += s } } else { output.withLock { $0 += s } }
                    }
                }.start()
            }
            func listening() -> String? {
                output.withLock { text in
                    text.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) }
                }
            }
            _ = eventually(timeout: .seconds(30)) { listening() != nil || !p.isRunning }
            if let found = listening(), p.isRunning {
                process = p
                url = found
                return
            }
            lastError = output.withLock { $0 } + stderrText.withLock { $0 }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            stderrText.withLock { $0 = "" }
        }
        throw ChildProcessError("serve did not start: \(lastError)")
    }

    /// What the server wrote on stderr: its access log.
    public var accessLog: String { stderrText.withLock { $0 } }

    /// Stops it with SIGTERM and waits.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
