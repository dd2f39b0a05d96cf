import Foundation
import Glibc

/// A minimal HTTP/1.1 client over one keep-alive TCP connection, for the
/// benchmark only: it sends a request, reads the status line, the headers and a
/// `Content-Length` body, and reconnects when the server closes. Cheap enough
/// that the measured CPU is the server's, not the client's.
public final class KeepAliveClient {
    public let host: String
    public let port: UInt16
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    /// The first byte of `buffer` not yet consumed.
    private var start = 0
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Connections opened (1 when keep-alive held throughout).
    public private(set) var connections = 0

    private let hostHeader: [UInt8]

    public init(host: String = "127.0.0.1", port: UInt16) {
        self.host = host
        self.port = port
        hostHeader = Array("\(host):\(port)\r\n".utf8)
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connect() throws {
        if fd >= 0 { close(fd) }
        buffer.removeAll(keepingCapacity: true)
        start = 0
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw BenchError("connect to \(host):\(port): \(String(cString: strerror(errno)))") }
        connections += 1
    }

    /// Sends one request and returns (status, body).
    public func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> (Int, [UInt8]) {
        for attempt in 0..<2 {
            if fd < 0 { try connect() }
            var request: [UInt8] = []
            request.reserveCapacity(256 + body.count)
            request += method.utf8
            request.append(32)
            request += target.utf8
            request += " HTTP/1.1\r\nHost: ".utf8
            request += hostHeader
            for (n, v) in headers {
                request += n.utf8
                request += ": ".utf8
                request += v.utf8
                request += "\r\n".utf8
            }
            if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
                request += "Content-Length: ".utf8
                request += String(body.count).utf8
                request += "\r\n".utf8
            }
            request += "\r\n".utf8
            request += body
            if writeAll(request), let response = try readResponse() {
                if response.close {
                    close(fd)
                    fd = -1
                }
                return (response.status, response.body)
            }
            // The server closed an idle connection between requests: once more on a new one.
            close(fd)
            fd = -1
            if attempt == 1 { break }
        }
        throw BenchError("\(method) \(target): the connection failed twice")
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    /// Reads more bytes into `buffer` (after `start`, the first unread byte).
    private func fill() -> Bool {
        let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: readBuffer[0..<n])
        return true
    }

    /// Parses one response from the bytes: status line and headers as bytes (only
    /// `Content-Length` and `Connection` matter), no strings but the error's.
    private func readResponse() throws -> (status: Int, body: [UInt8], close: Bool)? {
        if start == buffer.count {
            // Everything read so far was answered: start the buffer over.
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        var end: Int?
        var searched = start
        while end == nil {
            if let i = Self.find(buffer, [13, 10, 13, 10], from: searched) { end = i } else {
                searched = max(start, buffer.count - 3)
                if !fill() { return nil }
            }
        }
        let head = buffer[start..<end!]
        start = end! + 4
        // "HTTP/1.x NNN …"
        guard head.count >= 12, head.starts(with: Array("HTTP/1.".utf8)) else {
            throw BenchError("bad status line: \(String(decoding: head.prefix(40), as: UTF8.self))")
        }
        let s = head.startIndex
        var status = 0
        for k in 9..<12 {
            let d = head[s + k]
            guard d >= 48 && d <= 57 else { throw BenchError("bad status line: \(String(decoding: head.prefix(40), as: UTF8.self))") }
            status = status * 10 + Int(d - 48)
        }
        // An HTTP/1.0 server (the reference scim2-server) closes after each answer.
        var close = head[s + 7] == UInt8(ascii: "0")
        var length = 0
        var line = head.firstIndex(of: 10).map { $0 + 1 } ?? head.endIndex
        while line < head.endIndex {
            let lineEnd = head[line...].firstIndex(of: 13) ?? head.endIndex
            let text = head[line..<lineEnd]
            if Self.hasName(text, "content-length:") {
                length = 0
                for d in text.dropFirst(15) where d >= 48 && d <= 57 { length = length * 10 + Int(d - 48) }
            } else if Self.hasName(text, "connection:") {
                close = close || Self.contains(text.dropFirst(11), "close")
            }
            line = lineEnd + 2
        }
        while buffer.count - start < length { if !fill() { return nil } }
        let body = Array(buffer[start..<(start + length)])
        start += length
        return (status, body, close)
    }

    /// Whether a header line starts with `name` (lowercase, with its colon), without case.
    private static func hasName(_ line: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
        guard line.count >= name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { n in zip(line, n).allSatisfy { a, b in a | 0x20 == b || a == b } }
    }

    /// Whether `value` holds `word` (lowercase), without case.
    private static func contains(_ value: ArraySlice<UInt8>, _ word: StaticString) -> Bool {
        word.withUTF8Buffer { w in
            guard value.count >= w.count else { return false }
            return (value.startIndex...(value.endIndex - w.count)).contains { i in
                zip(value[i..<(i + w.count)], w).allSatisfy { a, b in a | 0x20 == b }
            }
        }
    }

    private static func find(_ haystack: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        guard haystack.count - from >= needle.count else { return nil }
        for i in from...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i + 1] == needle[1] && haystack[i + 2] == needle[2] && haystack[i + 3] == needle[3] { return i }
        }
        return nil
    }
}

/// A benchmark step that cannot go on.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The port `setuplink --json serve --port 0` listens on: read from the first line it prints
/// on `out` (`{…,"port":N,…}`), waiting for it; fails if the process ends first.
public func servePort(_ out: Pipe) throws -> Int {
    var line = Data()
    while !line.contains(10) {
        let d = out.fileHandleForReading.availableData
        if d.isEmpty { throw BenchError("serve ended before listening") }
        line.append(d)
    }
    let text = String(decoding: line.prefix(while: { $0 != 10 }), as: UTF8.self)
    guard let r = text.range(of: "\"port\":"),
          let port = Int(text[r.upperBound...].prefix(while: { $0.isNumber })) else {
        throw BenchError("serve said: \(text)")
    }
    return port
}
