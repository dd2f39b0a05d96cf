import Dispatch
import Foundation
import Synchronization

/// One HTTP request, parsed and with its whole body read.
public struct HTTPRequest: Sendable {
    /// The method as sent, e.g. `GET` (methods are case-sensitive in HTTP).
    public var method: String
    /// The path of the request target, without the query, not percent-decoded.
    public var path: String
    /// The query string after `?`, without the `?`; empty when there is none.
    public var query: String
    /// Header fields keyed by lowercased name; repeated fields are joined with `, `.
    public var headers: [String: String]
    /// The request body (empty when there is no `Content-Length`).
    public var body: [UInt8]
    /// The client's address, e.g. `127.0.0.1:53122`.
    public var peerAddress: String

    /// Creates a request; the server builds these, tests of routes may too.
    public init(method: String, path: String, query: String = "", headers: [String: String] = [:],
                body: [UInt8] = [], peerAddress: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { "\($0), \($1)" })
        self.body = body
        self.peerAddress = peerAddress
    }

    /// The value of header `name` (any case), or `nil`.
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }
}

/// An HTTP response produced by a handler.
///
/// The server writes `Content-Length` and `Connection` itself; handler values
/// for those two are ignored, as are headers containing CR or LF.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Extra header fields, e.g. `Content-Type`.
    public var headers: [String: String]
    /// The response body.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is already-encoded JSON.
    public static func json(status: Int = 200, _ bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// An error response: `{"error":"<message>"}` with the message JSON-escaped.
    public static func error(status: Int, message: String) -> HTTPResponse {
        .json(status: status, Array("{\"error\":\(jsonStringLiteral(message))}".utf8))
    }

    /// `text` as a quoted JSON string literal, escaping quotes, backslashes and
    /// control characters.
    public static func jsonStringLiteral(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// One line of the access log: what was asked and how it went. Never headers
/// (they carry bearer tokens) and never bodies.
public struct HTTPAccessLogEntry: Sendable, CustomStringConvertible {
    /// The request method, or `-` when the request could not be parsed.
    public var method: String
    /// The request path (no query), or `-` when it could not be parsed.
    public var path: String
    /// The status code sent.
    public var status: Int
    /// The number of response body bytes sent.
    public var bytes: Int
    /// Time from the first byte of the request to the last byte of the answer.
    public var milliseconds: Double

    /// `POST /sync/v1/pull 200 1234B 3.2ms`.
    public var description: String {
        "\(method) \(path) \(status) \(bytes)B \(String(format: "%.1f", milliseconds))ms"
    }
}

/// How an `HTTPServer` listens and what it tolerates from clients.
public struct HTTPServerConfiguration: Sendable {
    /// The address to bind, e.g. `127.0.0.1` (the default) or `0.0.0.0`.
    public var bindAddress: String
    /// The port to bind; 0 picks a free port (read it from `start()`).
    public var port: UInt16
    /// Connections served at once; one more is answered 503 and closed.
    public var maxConnections: Int
    /// Limit on the request line plus headers; over it the answer is 413.
    public var maxHeaderBytes: Int
    /// Limit on a request body; over it the answer is 413, without reading it.
    public var maxBodyBytes: Int
    /// How long a client may take to send the request line and headers, and
    /// how long it may go silent while sending a body, before it is dropped.
    public var readTimeout: Duration
    /// How long a kept-alive connection may sit idle between requests.
    public var idleKeepAliveTimeout: Duration
    /// How long `stop()` waits for requests in flight before cutting them off.
    public var stopGracePeriod: Duration

    /// Creates a configuration; every limit has a production default.
    public init(bindAddress: String = "127.0.0.1", port: UInt16 = 0, maxConnections: Int = 64,
                maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 16 * 1024 * 1024,
                readTimeout: Duration = .seconds(10), idleKeepAliveTimeout: Duration = .seconds(15),
                stopGracePeriod: Duration = .seconds(5)) {
        self.bindAddress = bindAddress
        self.port = port
        self.maxConnections = maxConnections
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.readTimeout = readTimeout
        self.idleKeepAliveTimeout = idleKeepAliveTimeout
        self.stopGracePeriod = stopGracePeriod
    }
}

/// Why an `HTTPServer` could not start.
public enum HTTPServerError: Error, CustomStringConvertible, Equatable {
    /// Binding or listening failed, e.g. the port is taken or privileged.
    case cannotListen(address: String, port: UInt16, reason: String)
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// `start()` was called on a server that is running or was stopped.
    case alreadyStarted

    /// One sentence: `cannot listen on 127.0.0.1:80: Permission denied`.
    public var description: String {
        switch self {
        case let .cannotListen(address, port, reason):
            let host = address.contains(":") ? "[\(address)]" : address
            return "cannot listen on \(host):\(port): \(reason)"
        case let .invalidConfiguration(message):
            return "invalid server configuration: \(message)"
        case .alreadyStarted:
            return "the server was already started; create a new one"
        }
    }
}

/// An HTTP/1.1 server on plain sockets, one dedicated thread per connection.
///
/// Bodies must carry `Content-Length` (chunked uploads get 411). Every error
/// answer is `{"error":"..."}` JSON, and a misbehaving client never affects
/// the others. Status codes for size limits: 413 for both an oversized header
/// block and an oversized body (the spec asks for 413 on size limits; 431
/// would also be acceptable for headers but one code is simpler for clients).
///
/// Call `stop()` before dropping the server: its threads keep it alive.
public final class HTTPServer: Sendable {
    /// The handler that turns a request into a response; runs on the connection's thread.
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    /// Receives one entry per answered request, e.g. to print to stderr.
    public typealias AccessLog = @Sendable (HTTPAccessLogEntry) -> Void

    private let configuration: HTTPServerConfiguration
    private let handler: Handler
    private let accessLog: AccessLog?
    private let state = Mutex(State())
    private let acceptLoopDone = DispatchGroup()
    private let connectionsDone = DispatchGroup()

    private struct Connection {
        let socket: ConnectedSocket
        var busy: Bool
    }

    private enum Phase { case created, running, stopped }

    private struct State {
        var phase = Phase.created
        var listener: ListeningSocket?
        var port: UInt16?
        var nextID = 0
        var connections: [Int: Connection] = [:]
    }

    /// Creates a stopped server; `start()` binds it.
    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                accessLog: AccessLog? = nil, handler: @escaping Handler) {
        self.configuration = configuration
        self.accessLog = accessLog
        self.handler = handler
    }

    /// The bound port while running, else `nil`.
    public var port: UInt16? { state.withLock { $0.phase == .running ? $0.port : nil } }

    /// The number of open client connections (busy or idle).
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Binds, starts accepting on a dedicated thread, and returns the bound port.
    @discardableResult
    public func start() throws(HTTPServerError) -> UInt16 {
        let c = configuration
        guard c.maxConnections >= 1 else { throw .invalidConfiguration("maxConnections must be at least 1") }
        guard c.maxHeaderBytes >= 64 else { throw .invalidConfiguration("maxHeaderBytes must be at least 64") }
        guard c.maxBodyBytes >= 0 else { throw .invalidConfiguration("maxBodyBytes must not be negative") }
        guard c.readTimeout > .zero, c.idleKeepAliveTimeout > .zero else {
            throw .invalidConfiguration("timeouts must be positive")
        }
        guard state.withLock({ $0.phase == .created }) else { throw .alreadyStarted }

        let listener: ListeningSocket
        do {
            listener = try ListeningSocket(address: c.bindAddress, port: c.port)
        } catch {
            throw .cannotListen(address: c.bindAddress, port: c.port, reason: error.message)
        }
        let started = state.withLock { s -> Bool in
            guard s.phase == .created else { return false }
            s.phase = .running
            s.listener = listener
            s.port = listener.port
            return true
        }
        guard started else { throw .alreadyStarted }
        acceptLoopDone.enter()
        let thread = Thread { [self] in
            acceptLoop(listener)
            acceptLoopDone.leave()
        }
        thread.name = "http-accept:\(listener.port)"
        thread.start()
        return listener.port
    }

    /// Stops the server: no new connections, requests in flight finish (up to
    /// `stopGracePeriod`), idle keep-alive connections are closed. Returns when
    /// every connection thread has ended or been cut off. Safe to call twice;
    /// never call it from a handler (it would wait for its own request).
    public func stop() {
        let listener = state.withLock { s -> ListeningSocket? in
            s.phase = .stopped
            defer { s.listener = nil }
            return s.listener
        }
        guard let listener else { return }
        listener.shutdown()
        acceptLoopDone.wait()
        // No connection can be added any more; wake the idle ones. Busy ones
        // see `phase == .stopped` after answering and close themselves.
        state.withLock { s in
            for connection in s.connections.values where !connection.busy { connection.socket.shutdown() }
        }
        if connectionsDone.wait(timeout: .now() + configuration.stopGracePeriod.dispatchInterval) == .timedOut {
            state.withLock { s in
                for connection in s.connections.values { connection.socket.shutdown() }
            }
            _ = connectionsDone.wait(timeout: .now() + .seconds(2))
        }
    }

    // MARK: - Accepting

    private func acceptLoop(_ listener: ListeningSocket) {
        while let socket = listener.accept() {
            let admitted = state.withLock { s -> Int? in
                guard s.phase == .running, s.connections.count < configuration.maxConnections else { return nil }
                let id = s.nextID
                s.nextID += 1
                s.connections[id] = Connection(socket: socket, busy: false)
                return id
            }
            guard let id = admitted else {
                reject(socket)
                continue
            }
            connectionsDone.enter()
            let thread = Thread { [self] in
                serve(socket, id: id)
                state.withLock { _ = $0.connections.removeValue(forKey: id) }
                connectionsDone.leave()
            }
            thread.name = "http-conn:\(id)"
            thread.start()
        }
    }

    /// Over the cap (or stopping): answer 503 from the accept thread and close.
    private func reject(_ socket: ConnectedSocket) {
        let started = ContinuousClock.now
        let response = HTTPResponse.error(status: 503, message: "server busy: too many connections, retry later")
        socket.setSendTimeout(.milliseconds(200))
        try? socket.sendAll(serialize(response, keepAlive: false, includeBody: true))
        log(method: "-", path: "-", status: 503, bytes: response.body.count, since: started)
        lingeringClose(socket, budget: .milliseconds(50))
    }

    // MARK: - Serving one connection

    private enum ReadOutcome {
        case request(HTTPRequest, keepAlive: Bool)
        case reject(status: Int, message: String, method: String, path: String)
        case dropped
    }

    private func serve(_ socket: ConnectedSocket, id: Int) {
        var buffer: [UInt8] = []
        var first = true
        while true {
            if buffer.isEmpty {
                let stopping = state.withLock { s -> Bool in
                    s.connections[id]?.busy = false
                    return s.phase != .running
                }
                if stopping { return }
                let wait = first ? configuration.readTimeout : configuration.idleKeepAliveTimeout
                guard case .data(let bytes) = socket.receive(maxBytes: 16 * 1024, timeout: wait) else { return }
                buffer = bytes
            }
            first = false
            state.withLock { $0.connections[id]?.busy = true }
            let started = ContinuousClock.now
            switch readRequest(socket, &buffer) {
            case .dropped:
                return
            case let .reject(status, message, method, path):
                let response = HTTPResponse.error(status: status, message: message)
                try? socket.sendAll(serialize(response, keepAlive: false, includeBody: true))
                log(method: method, path: path, status: status, bytes: response.body.count, since: started)
                lingeringClose(socket, budget: .seconds(1))
                return
            case let .request(request, requestKeepAlive):
                let response = handler(request)
                let keepAlive = requestKeepAlive && state.withLock { $0.phase == .running }
                let bytes = serialize(response, keepAlive: keepAlive, includeBody: request.method != "HEAD")
                do { try socket.sendAll(bytes) } catch { return }
                log(method: request.method, path: request.path, status: response.status,
                    bytes: response.body.count, since: started)
                if !keepAlive {
                    socket.shutdownWrite()
                    return
                }
            }
        }
    }

    /// Reads one request whose first bytes are in `buffer`; leaves any bytes
    /// of a following (pipelined) request in `buffer`.
    private func readRequest(_ socket: ConnectedSocket, _ buffer: inout [UInt8]) -> ReadOutcome {
        let clock = ContinuousClock()
        // The whole header block must arrive within readTimeout: a client
        // trickling one byte at a time cannot hold a thread forever.
        let headerDeadline = clock.now.advanced(by: configuration.readTimeout)
        var scanned = 0
        var requestLineChecked = false
        let headerEnd: Int
        while true {
            // Validate as bytes arrive, so garbage gets its 400 at once
            // instead of after the timeout.
            if !requestLineChecked, let newline = buffer.firstIndex(of: 0x0A) {
                if case let .failure(rejection) = parseRequestLine(buffer[..<newline]) {
                    return .reject(status: rejection.status, message: rejection.message, method: "-", path: "-")
                }
                requestLineChecked = true
            }
            let end = findHeaderEnd(buffer, from: max(0, scanned - 3))
            // Only the header block: body bytes may follow in the same read.
            if buffer[scanned..<(end ?? buffer.count)].contains(where: { ($0 < 0x20 && $0 != 0x0D && $0 != 0x0A && $0 != 0x09) || $0 == 0x7F }) {
                return .reject(status: 400, message: "malformed request: control characters in the request line or headers",
                               method: "-", path: "-")
            }
            if let end {
                headerEnd = end
                break
            }
            scanned = buffer.count
            if buffer.count > configuration.maxHeaderBytes {
                return .reject(status: 413, message: "request line and headers exceed \(configuration.maxHeaderBytes) bytes",
                               method: "-", path: "-")
            }
            let remaining = clock.now.duration(to: headerDeadline)
            guard remaining > .zero, case .data(let more) = socket.receive(maxBytes: 16 * 1024, timeout: remaining) else {
                return .dropped
            }
            buffer += more
        }
        if headerEnd > configuration.maxHeaderBytes {
            return .reject(status: 413, message: "request line and headers exceed \(configuration.maxHeaderBytes) bytes",
                           method: "-", path: "-")
        }

        let head: ParsedHead
        switch parseHead(buffer[..<headerEnd]) {
        case .success(let parsed): head = parsed
        case .failure(let rejection): return .reject(status: rejection.status, message: rejection.message, method: "-", path: "-")
        }
        buffer.removeFirst(headerEnd + 4)

        if head.headers["transfer-encoding"] != nil {
            return .reject(status: 411, message: "Transfer-Encoding is not supported: send the body with a Content-Length",
                           method: head.method, path: head.path)
        }
        var length = 0
        if let declared = head.headers["content-length"] {
            guard let value = parseContentLength(declared) else {
                return .reject(status: 400, message: "invalid Content-Length: \(declared)", method: head.method, path: head.path)
            }
            length = value
        }
        if length > configuration.maxBodyBytes {
            return .reject(status: 413, message: "request body of \(length) bytes exceeds the limit of \(configuration.maxBodyBytes) bytes",
                           method: head.method, path: head.path)
        }
        if length > buffer.count, head.version == "HTTP/1.1",
           head.headers["expect"]?.lowercased() == "100-continue" {
            do { try socket.sendAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) } catch { return .dropped }
        }
        var body: [UInt8]
        if buffer.count >= length {
            body = Array(buffer[..<length])
            buffer.removeFirst(length)
        } else {
            body = buffer
            buffer = []
            body.reserveCapacity(length)
            while body.count < length {
                // Inactivity timeout: a large body over a slow link may take
                // longer than readTimeout as long as it keeps moving.
                let want = min(length - body.count, 64 * 1024)
                guard case .data(let more) = socket.receive(maxBytes: want, timeout: configuration.readTimeout) else {
                    return .dropped
                }
                body += more
            }
        }

        let connection = head.headers["connection"]?.lowercased()
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        let keepAlive = head.version == "HTTP/1.1" && !connection.contains("close")
        let request = HTTPRequest(method: head.method, path: head.path, query: head.query,
                                  headers: head.headers, body: body, peerAddress: socket.peerAddress)
        return .request(request, keepAlive: keepAlive)
    }

    /// After an error answer: send FIN, then briefly read and discard what the
    /// client is still sending, so closing does not reset the connection
    /// before the client has read our answer.
    private func lingeringClose(_ socket: ConnectedSocket, budget: Duration) {
        socket.shutdownWrite()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budget)
        var drained = 0
        while drained < 1 << 20 {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero, case .data(let bytes) = socket.receive(maxBytes: 64 * 1024, timeout: remaining) else { break }
            drained += bytes.count
        }
        socket.shutdown()
    }

    private func log(method: String, path: String, status: Int, bytes: Int, since started: ContinuousClock.Instant) {
        guard let accessLog else { return }
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        accessLog(HTTPAccessLogEntry(method: method, path: path, status: status, bytes: bytes, milliseconds: ms))
    }
}

// MARK: - Parsing and serializing (pure functions)

/// The request line and headers of a request.
struct ParsedHead {
    /// The method token, e.g. `POST`.
    var method: String
    /// The target's path, before any `?`.
    var path: String
    /// The target's query, after `?`; empty when absent.
    var query: String
    /// `HTTP/1.1` or `HTTP/1.0`.
    var version: String
    /// Header fields keyed by lowercased name; repeats joined with `, `.
    var headers: [String: String]
}

/// A parse failure: the status and the one-line message to answer with.
struct Rejection: Error {
    /// The status to answer with, e.g. 400.
    var status: Int
    /// The sentence for `{"error":...}`.
    var message: String
}

/// Bytes allowed in a method or header name (RFC 9110 `tchar`).
private func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
    }
}

/// Parses `METHOD /target HTTP/1.1` (without the line ending).
func parseRequestLine(_ line: ArraySlice<UInt8>) -> Result<(method: String, path: String, query: String, version: String), Rejection> {
    var bytes = Array(line)
    if bytes.last == 0x0D { bytes.removeLast() }
    let parts = bytes.split(separator: 0x20, omittingEmptySubsequences: false)
    guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else {
        return .failure(Rejection(status: 400, message: "malformed request line: expected METHOD /path HTTP/1.1"))
    }
    let version = String(decoding: parts[2], as: UTF8.self)
    let target = parts[1]
    guard version.hasPrefix("HTTP/"), version.count == 8 else {
        return .failure(Rejection(status: 400, message: "malformed request line: expected METHOD /path HTTP/1.1"))
    }
    guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
        return .failure(Rejection(status: 505, message: "HTTP version \(version.dropFirst(5)) is not supported; use HTTP/1.1"))
    }
    guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
        return .failure(Rejection(status: 400, message: "malformed request target: it must start with /"))
    }
    let text = String(decoding: target, as: UTF8.self)
    let path: String, query: String
    if let mark = text.firstIndex(of: "?") {
        path = String(text[..<mark])
        query = String(text[text.index(after: mark)...])
    } else {
        path = text
        query = ""
    }
    return .success((String(decoding: parts[0], as: UTF8.self), path, query, version))
}

/// Parses the request line and header fields (the bytes before CRLFCRLF).
func parseHead(_ block: ArraySlice<UInt8>) -> Result<ParsedHead, Rejection> {
    let lines = Array(block).split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
        line.last == 0x0D ? line.dropLast() : line
    }
    guard let first = lines.first else { return .failure(Rejection(status: 400, message: "empty request")) }
    let requestLine: (method: String, path: String, query: String, version: String)
    switch parseRequestLine(first) {
    case .success(let parsed): requestLine = parsed
    case .failure(let rejection): return .failure(rejection)
    }
    var headers: [String: String] = [:]
    var contentLengths: [String] = []
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            return .failure(Rejection(status: 400, message: "malformed header line: expected Name: value"))
        }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            // Also catches obsolete line folding (a line starting with a space).
            return .failure(Rejection(status: 400, message: "malformed header name"))
        }
        let key = String(decoding: name.map(asciiLowercased), as: UTF8.self)
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIIWhitespace()
        if key == "content-length" { contentLengths.append(value) }
        if let existing = headers[key] {
            headers[key] = existing + ", " + value
        } else {
            headers[key] = value
        }
    }
    return .success(ParsedHead(method: requestLine.method, path: requestLine.path, query: requestLine.query,
                               version: requestLine.version, headers: headers))
}

/// Parses a (possibly repeated, comma-joined) Content-Length; every value
/// must be the same non-negative decimal number, else `nil` (answer 400).
func parseContentLength(_ field: String) -> Int? {
    var result: Int?
    for part in field.split(separator: ",", omittingEmptySubsequences: false) {
        let digits = part.trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.count <= 15, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let value = Int(digits) else { return nil }
        if let result, result != value { return nil }
        result = value
    }
    return result
}

/// The index of the first CRLFCRLF at or after `start`, or `nil`.
private func findHeaderEnd(_ buffer: [UInt8], from start: Int) -> Int? {
    guard buffer.count >= 4 else { return nil }
    var i = start
    while i + 3 < buffer.count {
        if buffer[i] == 0x0D, buffer[i + 1] == 0x0A, buffer[i + 2] == 0x0D, buffer[i + 3] == 0x0A { return i }
        i += 1
    }
    return nil
}

/// The status line, headers and (unless HEAD) body of a response.
func serialize(_ response: HTTPResponse, keepAlive: Bool, includeBody: Bool) -> [UInt8] {
    var head = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n"
    for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) {
        let lowered = name.lowercased()
        guard lowered != "content-length", lowered != "connection", lowered != "transfer-encoding",
              !name.isEmpty, name.utf8.allSatisfy(isTokenByte),
              // Unicode scalars, not Characters: "\r\n" is one Character.
              !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else { continue }
        head += "\(name): \(value)\r\n"
    }
    head += "Content-Length: \(response.body.count)\r\n"
    head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
    var bytes = Array(head.utf8)
    if includeBody { bytes += response.body }
    return bytes
}

/// The standard reason phrase for the statuses this project uses.
private func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 100: "Continue"
    case 200: "OK"
    case 201: "Created"
    case 204: "No Content"
    case 400: "Bad Request"
    case 401: "Unauthorized"
    case 403: "Forbidden"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 409: "Conflict"
    case 411: "Length Required"
    case 413: "Content Too Large"
    case 422: "Unprocessable Content"
    case 429: "Too Many Requests"
    case 500: "Internal Server Error"
    case 501: "Not Implemented"
    case 503: "Service Unavailable"
    case 505: "HTTP Version Not Supported"
    default: "Status"
    }
}

extension Duration {
    /// This duration as a Dispatch interval (nanosecond precision).
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .nanoseconds(Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
