import Foundation
import Glibc
import HTTPTestSupport

/// The package's root folder.
func packageRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The built `setuplink` executable (beside the test bundle, else `.build/debug`).
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
func temporaryFolder(_ label: String) -> String {
    let dir = NSTemporaryDirectory() + "setuplink-\(label)-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// What a finished child process printed.
struct ChildRun {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Each stdout line parsed as a JSON object (`--json` output).
    var objects: [[String: Any]] {
        stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// Runs `executable` with `input` on stdin and `environment` added (the caller's
/// `SETUPLINK_*` variables removed); waits for it.
func runChild(_ executable: String, _ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> ChildRun {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
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
    let err = Shared(Data())
    let done = DispatchSemaphore(value: 0)
    Thread {
        let all = errPipe.fileHandleForReading.readDataToEndOfFile()
        err.withLock { $0 = all }
        done.signal()
    }.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    done.wait()
    return ChildRun(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                    stderr: err.withLock { String(decoding: $0, as: UTF8.self) })
}

/// `setuplink --db DB --json …` with `commands` piped in.
func setuplink(db: String, _ arguments: [String] = [], _ commands: String = "", externalURL: String? = nil) throws -> ChildRun {
    var args = ["--db", db, "--json"]
    if let externalURL { args += ["--external-url", externalURL] }
    return try runChild(setuplinkBinary().path, args + arguments, input: commands)
}

/// `setuplink serve` as a child process: the real server an identity provider reaches.
final class ServedReplica: Sendable {
    let process: Process
    /// `http://127.0.0.1:PORT`.
    let url: String
    private let errText = Shared("")

    /// Starts `setuplink --db DB --external-url http://127.0.0.1:PORT serve --port PORT`
    /// on a free port (so `meta.location` is the address clients use), and waits until it listens.
    init(db: String, peerToken: String = "peer-secret-0123456789") throws {
        var lastError = ""
        for _ in 0..<3 {
            let port = try freePort()
            let p = Process()
            p.executableURL = setuplinkBinary()
            p.arguments = ["--db", db, "--external-url", "http://127.0.0.1:\(port)", "serve", "--port", String(port)]
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SETUPLINK_") }
            env["SETUPLINK_TOKEN"] = peerToken
            p.environment = env
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.standardInput = FileHandle.nullDevice
            try p.run()
            let output = Shared("")
            for (pipe, isErr) in [(err, true), (out, false)] {
                Thread { [errText] in
                    while true {
                        let d = pipe.fileHandleForReading.availableData
                        if d.isEmpty { return }
                        let s = String(decoding: d, as: UTF8.self)
                        if isErr { errText.withLock { $0 += s } } else { output.withLock { $0 += s } }
                    }
                }.start()
            }
            let listening = "listening on http://127.0.0.1:\(port)"
            let started = eventually(timeout: .seconds(30)) { output.withLock { $0.contains(listening) } || !p.isRunning }
            if started && p.isRunning {
                process = p
                url = "http://127.0.0.1:\(port)"
                return
            }
            lastError = output.withLock { $0 } + errText.withLock { $0 }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            errText.withLock { $0 = "" }
        }
        throw ServeFailure("serve did not start: \(lastError)")
    }

    /// What the server wrote on stderr: its access log.
    var accessLog: String { errText.withLock { $0 } }

    /// Stops it with SIGTERM and waits.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Makes a setup link and a directory of `type` on `db` with one-shot and piped commands,
/// as an admin and a tenant would; returns the directory's `--json` object.
func makeDirectory(db: String, type: String, externalURL: String) throws -> [String: Any] {
    let link = try setuplink(db: db, ["link", "create", "--tenant", "acme", "--product", "crm",
                                      "--webhook-url", "https://hooks.example.com/x", "--webhook-secret", "s3cret"])
    guard link.status == 0, let token = link.objects.first?["token"] as? String else {
        throw ServeFailure("link create failed: \(link.stdout) \(link.stderr)")
    }
    let made = try setuplink(db: db, [], "open \(token)\ndirectory new --type \(type)\n", externalURL: externalURL)
    guard made.status == 0, let d = made.objects.last, d["result"] as? String == "created" else {
        throw ServeFailure("directory new failed: \(made.stdout) \(made.stderr)")
    }
    return d
}
