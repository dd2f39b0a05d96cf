import Foundation
import Glibc

/// The package's root folder.
func packageRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The built `setuplink` executable.
func setuplinkBinary() -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("setuplink")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return packageRoot().appendingPathComponent(".build/debug/setuplink")
}

/// A fresh folder for one test.
func temporaryFolder() -> String {
    let dir = NSTemporaryDirectory() + "setuplink-page-e2e-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// What a finished child process printed.
struct ToolRun {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Each stdout line parsed as a JSON object (`--json` output).
    var objects: [[String: Any]] {
        stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// Runs `executable` with `input` on stdin; waits for it.
func runProcess(_ executable: URL, _ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> ToolRun {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SETUPLINK_") }
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    inPipe.fileHandleForWriting.write(Data(input.utf8))
    try? inPipe.fileHandleForWriting.close()
    let err = Drain(errPipe.fileHandleForReading)
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ToolRun(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: err.text())
}

/// The `setuplink` REPL on `db`, commands piped in, `--json` output.
func setuplink(db: String, _ commands: String, externalURL: String = "https://hub.example.test") throws -> ToolRun {
    try runProcess(setuplinkBinary(), ["--db", db, "--json", "--external-url", externalURL], input: commands)
}

/// Reads a pipe to its end on a thread of its own, so two pipes cannot deadlock.
final class Drain: Sendable {
    private let data = Locked(Data())
    private let done = DispatchSemaphore(value: 0)
    init(_ handle: FileHandle) {
        Thread { [data, done] in
            let all = handle.readDataToEndOfFile()
            data.withLock { $0 = all }
            done.signal()
        }.start()
    }
    func text() -> String {
        done.wait()
        return data.withLock { String(decoding: $0, as: UTF8.self) }
    }
}

/// `setuplink serve` as a child process: the real server a tenant's browser reaches.
final class ServeProcess: Sendable {
    let process: Process
    /// `http://127.0.0.1:PORT`.
    let url: String
    private let stderrText = Locked("")

    /// Starts `setuplink --db DB --external-url URL serve --port 0` with the peer
    /// token in `SETUPLINK_TOKEN`, and waits until it listens.
    init(db: String, externalURL: String = "https://hub.example.test", peerToken: String = "peer-secret-0123456789") throws {
        let p = Process()
        p.executableURL = setuplinkBinary()
        p.arguments = ["--db", db, "--external-url", externalURL, "serve", "--port", "0"]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SETUPLINK_") }
        env["SETUPLINK_TOKEN"] = peerToken
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        let output = Locked("")
        for (pipe, sink) in [(err, 0), (out, 1)] {
            Thread { [stderrText] in
                while true {
                    let d = pipe.fileHandleForReading.availableData
                    if d.isEmpty { return }
                    let s = String(decoding: d, as: UTF8.self)
                    if sink == 0 { stderrText.withLock { $0 += s } } else { output.withLock { $0 += s } }
                }
            }.start()
        }
        let deadline = Date().addingTimeInterval(30)
        var found: String?
        while Date() < deadline, found == nil {
            found = output.withLock { text in
                text.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) }
            }
            if found == nil { usleep(20_000) }
        }
        guard let found else {
            p.terminate()
            throw ServeError("serve did not start: \(output.withLock { $0 }) \(stderrText.withLock { $0 })")
        }
        url = found
    }

    /// What the server wrote on stderr: its access log.
    var accessLog: String { stderrText.withLock { $0 } }

    /// Stops it with SIGTERM and waits.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A child process failed in a way the test cannot go on from.
struct ServeError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
