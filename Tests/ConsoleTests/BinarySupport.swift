import Foundation
import Testing

/// The folder holding the built products (`setuplink`, `LibraryDemo`, …).
func productsDirectory() -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("setuplink").path) { return dir }
        dir = dir.deletingLastPathComponent()
    }
    // Fall back to the package's default build folder.
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug")
}

/// The package's root folder (for Samples/).
func packageRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// What a run of a program printed and returned.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var errorLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
}

/// Runs a built product with `input` piped to its standard input.
func runTool(_ arguments: [String], input: String = "", environment: [String: String] = [:], product: String = "setuplink") throws -> RunResult {
    let p = Process()
    p.executableURL = productsDirectory().appendingPathComponent(product)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["SETUPLINK_DB"] = nil
    env["SETUPLINK_EXTERNAL_URL"] = nil
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    let writer = Thread {
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    let errData = ReadAll(errPipe.fileHandleForReading)
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: errData.wait())
}

/// Reads a pipe to its end on a thread of its own (so two pipes cannot deadlock).
final class ReadAll: @unchecked Sendable {
    // @unchecked Sendable: `data` is written by the reader thread before `done` is signalled, and read only after.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }.start()
    }
    func wait() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A fresh replica path in its own temporary folder.
func temporaryReplica() -> String {
    let dir = NSTemporaryDirectory() + "setuplink-console-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/replica.sqlite"
}

/// Parses one line of JSON output into a dictionary.
func json(_ line: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
}

/// The replica's `status --json` object.
func status(_ db: String) throws -> [String: Any] {
    let r = try runTool(["--db", db, "--json"], input: "status\n")
    #expect(r.status == 0, "status failed: \(r.stderr)")
    return json(r.lines.first ?? "")
}
