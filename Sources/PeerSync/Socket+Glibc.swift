// The only file in PeerSync that touches libc sockets. File descriptors are
// wrapped in final classes that close them in `deinit`, so no descriptor ever
// leaves this file and none is closed twice or reused while still referenced.
import Glibc

/// A failed socket call: which call, on what, and the `errno` text.
struct SocketError: Error, CustomStringConvertible {
    /// The libc call that failed, e.g. `bind`.
    let call: String
    /// The `errno` value reported by the call.
    let code: Int32
    /// A message that replaces `strerror` when the failure has no errno (getaddrinfo).
    var detail: String? = nil
    /// A one-line message: `strerror(errno)`, or `detail` when set.
    var message: String { detail ?? String(cString: strerror(code)) }
    /// `bind: Permission denied (errno 13)`.
    var description: String { "\(call): \(message) (errno \(code))" }

    /// Captures the current `errno` for `call`.
    static func current(_ call: String) -> SocketError {
        SocketError(call: call, code: errno)
    }
}

/// Ignores `SIGPIPE` for the whole process, once: a peer that hangs up must
/// produce an `EPIPE` error, not kill the process. Sends also pass
/// `MSG_NOSIGNAL`, this covers any other write path.
enum SignalSetup {
    /// Evaluated once, thread-safely (global lazy initialisation).
    static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()
}

/// Converts a `Duration` to whole milliseconds for `poll`, clamped to `Int32`.
private func pollMilliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    if seconds < 0 { return 0 }
    let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    return Int32(clamping: ms)
}

/// Waits until `fd` has `events` or `timeout` passes. Returns `false` on timeout.
private func waitFor(_ fd: Int32, events: Int16, timeout: Duration) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        let remaining = clock.now.duration(to: deadline)
        let rc = poll(&pfd, 1, pollMilliseconds(max(remaining, .zero)))
        if rc > 0 { return true }           // readable, or error/hang-up: the next call reports it
        if rc == 0 { return false }
        if errno != EINTR { return true }   // let the following recv/accept report the error
    }
}

/// A listening TCP socket bound to an address and port.
///
/// Sendable: the descriptor is immutable and only ever passed to thread-safe
/// syscalls; it is closed in `deinit`, when no other reference can exist.
final class ListeningSocket: Sendable {
    private let fd: Int32
    /// The port actually bound (the chosen one when asked for port 0).
    let port: UInt16

    /// Binds and listens on `address:port` with `SO_REUSEADDR`.
    ///
    /// `address` is a numeric IPv4/IPv6 address or a host name; port 0 picks a
    /// free port, reported in `port`.
    init(address: String, port: UInt16, backlog: Int32 = 128) throws(SocketError) {
        _ = SignalSetup.ignoreSIGPIPE
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(address, String(port), &hints, &list)
        guard gai == 0, let first = list else {
            let text = String(cString: gai_strerror(gai))
            throw SocketError(call: "getaddrinfo", code: EINVAL, detail: "cannot resolve address \(address): \(text)")
        }
        defer { freeaddrinfo(list) }

        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .current("socket") }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let error = SocketError.current("bind")
            close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SocketError.current("listen")
            close(fd)
            throw error
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let error = SocketError.current("getsockname")
            close(fd)
            throw error
        }
        self.fd = fd
        self.port = socketAddressPort(storage)
    }

    deinit { close(fd) }

    /// Blocks until a client connects. Returns `nil` once the listener has been
    /// shut down (see `shutdown()`); transient errors are retried.
    func accept() -> ConnectedSocket? {
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
            }
            if client >= 0 {
                return ConnectedSocket(fd: client, peerAddress: socketAddressText(storage))
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO:
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of descriptors or memory: back off briefly instead of spinning.
                _ = waitFor(-1, events: 0, timeout: .milliseconds(50))
                continue
            default:
                return nil   // EINVAL after shutdown(), EBADF: the listener is finished
            }
        }
    }

    /// Stops the listener: wakes a thread blocked in `accept()` (closing alone
    /// would not) and refuses new connections. The descriptor closes in `deinit`.
    func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }
}

/// The outcome of one `receive` call.
enum ReceiveResult {
    /// Some bytes arrived.
    case data([UInt8])
    /// The peer closed its side (or the socket was shut down locally).
    case closed
    /// Nothing arrived before the deadline.
    case timedOut
    /// The connection failed, e.g. reset by the peer.
    case failed(SocketError)
}

/// A connected TCP socket (one accepted client).
///
/// Sendable for the same reason as `ListeningSocket`: an immutable descriptor,
/// thread-safe syscalls, closed only in `deinit`. `shutdown()` from another
/// thread is how a blocked reader is woken up.
final class ConnectedSocket: Sendable {
    private let fd: Int32
    /// The numeric address of the peer, e.g. `127.0.0.1:53122`.
    let peerAddress: String

    fileprivate init(fd: Int32, peerAddress: String) {
        self.fd = fd
        self.peerAddress = peerAddress
        // A peer that stops reading must not block a sender forever.
        setSendTimeout(.seconds(10))
    }

    deinit { close(fd) }

    /// Bounds how long `sendAll` may block on a peer that does not read.
    func setSendTimeout(_ timeout: Duration) {
        let ms = Int(pollMilliseconds(timeout))
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Receives up to `maxBytes`, waiting at most `timeout` for the first byte.
    func receive(maxBytes: Int, timeout: Duration) -> ReceiveResult {
        guard waitFor(fd, events: Int16(POLLIN), timeout: timeout) else { return .timedOut }
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, maxBytes, 0) }
            if n > 0 { return .data(Array(buffer[0..<n])) }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
            return .failed(.current("recv"))
        }
    }

    /// Sends every byte, retrying partial sends. Never raises `SIGPIPE`.
    func sendAll(_ bytes: [UInt8]) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw .current("send")
        }
    }

    /// Half-closes the sending side (a FIN), so the peer sees the end of the
    /// response while we may still drain what it is sending.
    func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Shuts both directions down; a thread blocked reading this socket wakes
    /// up and sees `.closed`. The descriptor closes in `deinit`.
    func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }
}

/// The port of an IPv4 or IPv6 socket address, in host byte order.
private func socketAddressPort(_ storage: sockaddr_storage) -> UInt16 {
    var storage = storage
    return withUnsafePointer(to: &storage) { pointer in
        switch Int32(pointer.pointee.ss_family) {
        case AF_INET:
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        case AF_INET6:
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
        default:
            return 0
        }
    }
}

/// `host:port` (or `[v6]:port`) for an IPv4 or IPv6 socket address.
private func socketAddressText(_ storage: sockaddr_storage) -> String {
    var storage = storage
    let family = Int32(storage.ss_family)
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let port = socketAddressPort(storage)
    withUnsafePointer(to: &storage) { pointer in
        switch family {
        case AF_INET:
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                var address = $0.pointee.sin_addr
                _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            }
        case AF_INET6:
            pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                var address = $0.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            }
        default:
            break
        }
    }
    let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
}
