import Foundation
import Glibc
import Synchronization
import Testing
@testable import PeerSync

/// A response read off a raw socket.
struct RawResponse {
    /// The status code from the status line.
    var status: Int
    /// Header fields keyed by lowercased name.
    var headers: [String: String]
    /// The body, decoded as UTF-8.
    var body: String
}

/// A bare TCP client, so tests can send exactly the bytes they want
/// (garbage, lies, stalls) instead of what a well-behaved client would send.
final class RawClient {
    private let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to `127.0.0.1:port`; throws if nothing listens there.
    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawClientError.failed("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw RawClientError.failed("connect: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Sends `text` as UTF-8.
    func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends `bytes`, stopping silently if the server has closed.
    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads more bytes; `nil` on EOF, error or timeout.
    private func readMore(until deadline: ContinuousClock.Instant) -> [UInt8]? {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return nil }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&pfd, 1, max(ms, 1)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
        return n > 0 ? Array(buffer[0..<n]) : nil
    }

    /// Reads one response framed by Content-Length, or `nil` if the
    /// connection ends or nothing complete arrives within `timeout`.
    func readResponse(timeout: Duration = .seconds(5)) -> RawResponse? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let end = pending.firstRange(of: separator) {
                let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ")
                var headers: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if pending.count - end.upperBound >= length {
                    let body = String(decoding: pending[end.upperBound..<(end.upperBound + length)], as: UTF8.self)
                    pending.removeFirst(end.upperBound + length)
                    return RawResponse(status: Int(statusLine[1]) ?? 0, headers: headers, body: body)
                }
            }
            guard let more = readMore(until: deadline) else { return nil }
            pending += more
        }
    }

    /// Whether the server closes (or resets) the connection within `timeout`,
    /// discarding anything it sends first.
    func isClosed(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 20) >= 0 else { return true }
            if pfd.revents == 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if n <= 0 { return true }
        }
        return false
    }
}

/// A raw client could not connect.
enum RawClientError: Error {
    /// The failed call and its errno text.
    case failed(String)
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

/// Starts a server on port 0 with `configuration`; the handler echoes
/// method, path, query and body as JSON-ish text unless one is given.
func startServer(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                 handler: HTTPServer.Handler? = nil) throws -> (HTTPServer, UInt16) {
    let server = HTTPServer(configuration: configuration, handler: handler ?? echo)
    let port = try server.start()
    return (server, port)
}

/// Answers `METHOD PATH?QUERY BODY`.
let echo: HTTPServer.Handler = { request in
    let text = "\(request.method) \(request.path)?\(request.query) \(String(decoding: request.body, as: UTF8.self))"
    return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: Array(text.utf8))
}

/// The output of a finished child process.
struct ProcessResult {
    /// The exit status.
    var status: Int32
    /// Everything written to standard output.
    var stdout: String
    /// Everything written to standard error.
    var stderr: String
}

/// Runs `executable` with `arguments` and waits for it to exit.
func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}

/// Finds `python3` on PATH (it may live under pyenv).
func python3Path() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/python3"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
