import Foundation
import Glibc

/// A minimal HTTP/1.1 client over one keep-alive TCP connection, for the
/// benchmark only: it sends a request, reads the status line, the headers and a
/// `Content-Length` body, and reconnects when the server closes. Cheap enough
/// that the measured CPU is the server's, not the client's.
final class KeepAliveClient {
    let host: String
    let port: UInt16
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Connections opened (1 when keep-alive held throughout).
    private(set) var connections = 0

    init(host: String = "127.0.0.1", port: UInt16) {
        self.host = host
        self.port = port
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connect() throws {
        if fd >= 0 { close(fd) }
        buffer.removeAll(keepingCapacity: true)
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
    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> (Int, [UInt8]) {
        for attempt in 0..<2 {
            if fd < 0 { try connect() }
            var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
            for (n, v) in headers { head += "\(n): \(v)\r\n" }
            if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" { head += "Content-Length: \(body.count)\r\n" }
            head += "\r\n"
            let request = Array(head.utf8) + body
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

    private func fill() -> Bool {
        let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: readBuffer[0..<n])
        return true
    }

    private func readResponse() throws -> (status: Int, body: [UInt8], close: Bool)? {
        var end: Int?
        while end == nil {
            if let i = Self.find(buffer, [13, 10, 13, 10]) { end = i } else if !fill() { return nil }
        }
        let headText = String(decoding: buffer[0..<end!], as: UTF8.self)
        buffer.removeFirst(end! + 4)
        let lines = headText.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12, let status = Int(statusLine.dropFirst(9).prefix(3)) else {
            throw BenchError("bad status line: \(lines.first ?? "")")
        }
        var length = 0
        // An HTTP/1.0 server (the reference scim2-server) closes after each answer.
        var close = statusLine.hasPrefix("HTTP/1.0")
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].lowercased(), value = parts[1].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) ?? 0 }
            if name == "connection" && value.lowercased() == "close" { close = true }
        }
        while buffer.count < length { if !fill() { return nil } }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return (status, body, close)
    }

    private static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i + 1] == needle[1] && haystack[i + 2] == needle[2] && haystack[i + 3] == needle[3] { return i }
        }
        return nil
    }
}

/// A benchmark step that cannot go on.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
