import Foundation
import Glibc
import Synchronization
import HTTP
import TestSupport
@testable import PeerSync

/// A hostile peer on a raw socket: answers each request with whatever the test
/// wants (one response per connection, then close), so a real `SyncClient`
/// can be fed answers no honest server would send.
final class FakePeer: @unchecked Sendable {
    // @unchecked Sendable: `listener` is written once before the accept thread starts; `answer` is immutable.
    /// What to answer: (method, path, request body) → (status, content type, body).
    typealias Answer = @Sendable (String, String, [UInt8]) -> (Int, String, [UInt8])

    private let listener: Int32
    private let answer: Answer
    private let stopped = Mutex(false)
    /// `http://127.0.0.1:<port>`.
    let url: String

    init(answer: @escaping Answer) throws {
        self.answer = answer
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        listener = fd
        guard bound else { throw RawClientError.failed("fake peer: bind") }
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        Thread { [self] in serve() }.start()
    }

    deinit {
        stopped.withLock { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve() {
        while !stopped.withLock({ $0 }) {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            handle(fd)
            close(fd)
        }
    }

    private func handle(_ fd: Int32) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        var contentLength = 0
        while true {
            if headEnd == nil, let r = data.firstRange(of: separator) {
                headEnd = r.upperBound
                let head = String(decoding: data[..<r.lowerBound], as: UTF8.self).lowercased()
                for line in head.components(separatedBy: "\r\n") where line.hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let h = headEnd, data.count - h >= contentLength { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if n <= 0 { return }
            data += buffer[0..<n]
        }
        let head = String(decoding: data[..<headEnd!], as: UTF8.self)
        let requestLine = head.prefix { $0 != "\r" }.split(separator: " ")
        guard requestLine.count >= 2 else { return }
        let body = Array(data[headEnd!..<(headEnd! + contentLength)])
        let (status, type, out) = answer(String(requestLine[0]), String(requestLine[1]), body)
        let response = Array("HTTP/1.1 \(status) X\r\nContent-Type: \(type)\r\nContent-Length: \(out.count)\r\nConnection: close\r\n\r\n".utf8) + out
        var offset = 0
        while offset < response.count {
            let n = response.withUnsafeBytes { send(fd, $0.baseAddress! + offset, response.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}
