import BenchSupport
import Foundation
import Glibc
import JSON
import Synchronization

/// The `setuplink` release binary beside this benchmark, serving a fresh replica
/// in a separate process, with a setup link and a directory made by one-shot commands.
enum ServedReplica {
    /// The `setuplink` executable next to `scim-bench`.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("setuplink").path
    }

    /// Runs `setuplink` with `arguments` and `input`; returns its stdout, or fails the bench.
    static func run(_ arguments: [String], input: String = "") throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        let inPipe = Pipe(), out = Pipe()
        p.standardInput = inPipe
        p.standardOutput = out
        try p.run()
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try inPipe.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError("setuplink \(arguments.joined(separator: " ")) failed") }
        return String(decoding: data, as: UTF8.self)
    }

    /// A member of the last JSON line of `output`.
    static func member(_ output: String, _ name: String) -> JSONValue? {
        guard let line = output.split(separator: "\n").last,
              let object = try? JSONParser.parse(Array(line.utf8)).objectValue else { return nil }
        return object.first { $0.0 == name }?.1
    }

    /// Starts the server; returns it and where its directory's SCIM base is.
    static func start() throws -> (Process, Target) {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("no setuplink at \(binary): build it first (swift build -c release)")
        }
        let dir = NSTemporaryDirectory() + "scim-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let db = dir + "/hub.sqlite"
        // Every create enqueues its webhook event in the outbox, as in production; the receiver is a
        // closed local port, so deliveries fail at once and back off instead of loading the machine.
        let link = try run(["--db", db, "--json", "link", "create", "--tenant", "bench", "--product", "scim",
                            "--webhook-url", "http://127.0.0.1:9/bench", "--webhook-secret", "s3cret"])
        guard case .string(let linkToken)? = member(link, "token") else { throw BenchError("no link token in \(link)") }
        let made = try run(["--db", db, "--json"], input: "open \(linkToken)\ndirectory new --type generic-scim-v2\n")
        guard case .string(let id)? = member(made, "id"), case .string(let scimToken)? = member(made, "scim_token") else {
            throw BenchError("no directory in \(made)")
        }
        let key = try run(["--db", db, "--json", "api-key", "create", "bench"])
        guard case .string(let apiKey)? = member(key, "key") else { throw BenchError("no API key in \(key)") }
        // SCIM_BENCH_FOLLOWER=1: a second hub follows this one and this one follows it (a mesh
        // of two), so the creates measured also travel to it as they are made.
        var followerDB: String?
        if ProcessInfo.processInfo.environment["SCIM_BENCH_FOLLOWER"] == "1" {
            let b = dir + "/follower.sqlite"
            let tokenFile = dir + "/peer.token"
            _ = FileManager.default.createFile(atPath: tokenFile, contents: Data("bench-peer-token\n".utf8), attributes: [.posixPermissions: 0o600])
            let (process, port) = try serve(db: b, stderr: FileHandle.nullDevice)
            follower.withLock { $0 = process }
            _ = try run(["--db", db, "peer", "add", "b", "http://127.0.0.1:\(port)", "--token-file", tokenFile, "--follow"])
            followerDB = b
            FileHandle.standardError.write(Data("scim-bench: follower hub on port \(port), pid \(process.processIdentifier), following and followed\n".utf8))
        }
        // The access log (a line per request, written as always) goes to /dev/null, or to the
        // file SCIM_BENCH_SERVER_LOG names.
        var log = FileHandle.nullDevice
        if let path = ProcessInfo.processInfo.environment["SCIM_BENCH_SERVER_LOG"], FileManager.default.createFile(atPath: path, contents: nil),
           let handle = FileHandle(forWritingAtPath: path) {
            log = handle
        }
        let (p, port) = try serve(db: db, stderr: log)
        FileHandle.standardError.write(Data("scim-bench: serving \(db) on port \(port), server pid \(p.processIdentifier)\n".utf8))
        if let followerDB {
            let tokenFile = dir + "/peer.token"
            _ = try run(["--db", followerDB, "peer", "add", "a", "http://127.0.0.1:\(port)", "--token-file", tokenFile, "--follow"])
            // The follower's serve reads its peers every two seconds: wait until it has synced the directory.
            for _ in 0..<200 {
                if try run(["--db", followerDB, "--json", "status"]).contains("\"directories\":1") { break }
                usleep(100_000)
            }
        }
        return (p, Target(host: "127.0.0.1", port: UInt16(port), base: "/api/scim/v2.0/" + id, token: scimToken,
                          pid: p.processIdentifier, folder: dir, directory: id, apiKey: apiKey))
    }

    /// The follower hub (SCIM_BENCH_FOLLOWER=1), stopped at the end.
    static let follower = Mutex<Process?>(nil)

    /// Stops the follower hub, if one runs.
    static func stopFollower() {
        if let p = follower.withLock({ $0 }), p.isRunning { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() }
    }

    /// `setuplink --db DB --json serve --port 0`; returns it and its port.
    static func serve(db: String, stderr: FileHandle) throws -> (Process, Int) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--db", db, "--json", "serve", "--port", "0"]
        var env = ProcessInfo.processInfo.environment
        env["SETUPLINK_TOKEN"] = "bench-peer-token"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = stderr
        try p.run()
        let port = try servePort(out)
        return (p, Int(port))
    }

    /// The process's peak resident set (`VmHWM`), KiB.
    static func peakRSS(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// User plus system CPU seconds the process has used.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Counts across threads.
final class Atomic: Sendable {
    private let value_: Mutex<Int>
    init(_ v: Int) { value_ = Mutex(v) }
    /// Adds `n`; returns the value before.
    func add(_ n: Int) -> Int { value_.withLock { v in defer { v += n }; return v } }
    var value: Int { value_.withLock { $0 } }
}

/// The id each created user got, by its number.
final class IDs: Sendable {
    private let ids: Mutex<[String?]>
    init(count: Int) { ids = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ id: String) { ids.withLock { $0[i] = id } }
    func get(_ i: Int) -> String? { ids.withLock { $0[i] } }
}

/// The figures reported so far, in order.
final class Figures: Sendable {
    private let list = Mutex<[(String, Double, String)]>([])
    func add(_ name: String, _ value: Double, _ unit: String) { list.withLock { $0.append((name, value, unit)) } }
    var all: [(String, Double, String)] { list.withLock { $0 } }
}
