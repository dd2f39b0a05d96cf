import Foundation
import Glibc
import Synchronization
import HTTP

/// A response read off a raw socket.
public struct RawResponse: Sendable, Equatable {
    /// The status code from the status line.
    public var status: Int
    /// Header fields keyed by lowercased name.
    public var headers: [String: String]
    /// The body, decoded as UTF-8.
    public var body: String
}

/// A bare TCP client, so tests can send exactly the bytes they want
/// (garbage, lies, stalls) instead of what a well-behaved client would send.
public final class RawClient: @unchecked Sendable {
    // @unchecked Sendable: `send` touches only the descriptor (safe from any thread);
    // `pending` is used by the reading calls, which one thread makes.
    private let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to `127.0.0.1:port`; throws if nothing listens there.
    public init(port: UInt16) throws {
        // The descriptor is made before `self` exists: a failed connect closes it
        // once, here, and there is no instance whose deinit would close it again
        // (a second close could hit a descriptor another test has opened since).
        fd = try Self.connected(port: port)
    }

    private static func connected(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
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
            let reason = String(cString: strerror(errno))
            close(fd)
            throw RawClientError.failed("connect: \(reason)")
        }
        // Every send leaves at once, so a request split in two sends arrives in two segments.
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    deinit { close(fd) }

    /// Hangs up both ways (the descriptor stays open until the client is released).
    public func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Sends `text` as UTF-8.
    public func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends `bytes`, stopping silently if the server has closed.
    public func send(_ bytes: [UInt8]) {
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
    public func readResponse(timeout: Duration = .seconds(5)) -> RawResponse? {
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

    /// Everything the server sends until it closes the connection (or `timeout` passes),
    /// as UTF-8 text: to see every answer a request got, not only the first.
    public func readAll(timeout: Duration) -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var all = pending
        pending = []
        while let more = readMore(until: deadline) { all += more }
        return String(decoding: all, as: UTF8.self)
    }

    /// Reads until the server closes the connection, about `bytesPerSecond` at most (a pause
    /// after each 64 KiB read), or until `timeout`; returns how many bytes arrived.
    public func readSlowly(bytesPerSecond: Int, timeout: Duration) -> Int {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var total = pending.count
        pending = []
        let started = ContinuousClock.now
        while let more = readMore(until: deadline) {
            total += more.count
            // Ahead of the rate: wait until the bytes so far are due.
            let due = started.advanced(by: .milliseconds(Int64(total) * 1000 / Int64(max(1, bytesPerSecond))))
            if due > ContinuousClock.now { Thread.sleep(forTimeInterval: Double(ContinuousClock.now.duration(to: due).components.attoseconds) / 1e18
                                                                            + Double(ContinuousClock.now.duration(to: due).components.seconds)) }
        }
        return total
    }

    /// Whether the server closes (or resets) the connection within `timeout`,
    /// discarding anything it sends first.
    public func isClosed(within timeout: Duration) -> Bool {
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
public enum RawClientError: Error {
    /// The failed call and its errno text.
    case failed(String)
}

/// Routes made of closures, for tests: everything under `prefix`.
public struct ClosureRoutes: HTTPRoutes {
    /// The path prefix served.
    public var prefix = "/"
    /// The head-phase decision.
    public var admitter: @Sendable (HTTPHead) -> Admission = { _ in .accept(maxBodyBytes: 16 * 1024 * 1024) }
    /// The answer.
    public var responder: @Sendable (HTTPRequest) -> HTTPResponse

    /// Routes answering with `responder` under `prefix`.
    public init(prefix: String = "/", responder: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.prefix = prefix
        self.responder = responder
    }

    public func handles(_ head: HTTPHead) -> Bool { head.path.hasPrefix(prefix) }
    public func admit(_ head: HTTPHead) -> Admission { admitter(head) }
    public func respond(_ request: HTTPRequest) -> HTTPResponse { responder(request) }
    public func loggedPath(_ head: HTTPHead) -> String { head.path }
}

/// Starts a server on port 0 with `configuration`; the routes echo method,
/// path, query and body unless a handler is given, and admit any head.
public func startServer(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                        handler: (@Sendable (HTTPRequest) -> HTTPResponse)? = nil) throws -> (HTTPServer, UInt16) {
    try startGuardedServer(configuration, admit: { _ in .accept(maxBodyBytes: 16 * 1024 * 1024) }, handler: handler)
}

/// Starts a server on port 0 whose routes decide with `admit` from the head.
public func startGuardedServer(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                        admit: @escaping @Sendable (HTTPHead) -> Admission = { _ in .accept(maxBodyBytes: 16 * 1024 * 1024) },
                        log: (@Sendable (HTTPLogEntry) -> Void)? = nil,
                        handler: (@Sendable (HTTPRequest) -> HTTPResponse)? = nil) throws -> (HTTPServer, UInt16) {
    var routes = ClosureRoutes(responder: handler ?? echo)
    routes.admitter = admit
    let server = HTTPServer(configuration: configuration, routes: [routes], log: log)
    let port = try server.start()
    return (server, port)
}

/// Answers `METHOD PATH?QUERY BODY`, the query as `name=value` pairs joined by `&`.
public let echo: @Sendable (HTTPRequest) -> HTTPResponse = { request in
    let query = request.head.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    let text = "\(request.method) \(request.path)?\(query) \(String(decoding: request.body, as: UTF8.self))"
    return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array(text.utf8))
}

/// A port nothing listens on: bound, then closed.
public func freePort() throws -> UInt16 {
    let (fd, port) = try boundSocket()
    close(fd)
    return port
}

/// A TCP socket bound to a free loopback port, left open (the caller closes it; `listen` on it
/// makes the port busy for whoever else asks).
public func boundSocket() throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let rc = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 ? getsockname(fd, pointer, &length) : -1
        }
    }
    guard rc == 0 else {
        close(fd)
        throw RawClientError.failed("bind: \(String(cString: strerror(errno)))")
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}
