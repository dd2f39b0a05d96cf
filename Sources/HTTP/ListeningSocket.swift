import Glibc

/// A bound, listening TCP socket, made here rather than by libmicrohttpd so a
/// failure to bind comes back as a sentence (`Address already in use`) and the
/// bound port (for port 0) is known before the server starts.
enum ListeningSocket {
    /// Binds `address:port` and listens; returns the descriptor, the port bound and whether it is IPv6.
    static func open(address: String, port: UInt16, backlog: Int32 = 1024) throws(HTTPServerError)
        -> (fd: Int32, port: UInt16, ipv6: Bool) {
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let ipv6: Bool
        if inet_pton(AF_INET, address, &v4.sin_addr) == 1 {
            ipv6 = false
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
        } else if inet_pton(AF_INET6, address, &v6.sin6_addr) == 1 {
            ipv6 = true
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
        } else {
            throw .cannotListen(address: address, port: port, reason: "not an IP address (give one like 127.0.0.1, 0.0.0.0 or ::)")
        }
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .cannotListen(address: address, port: port, reason: errnoText()) }
        var one: Int32 = 1
        // A restarted hub can bind again while old connections sit in TIME_WAIT.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32 = ipv6
            ? withUnsafePointer(to: &v6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            : withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let reason = errnoText()
            close(fd)
            throw .cannotListen(address: address, port: port, reason: reason)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let boundPort: UInt16 = withUnsafePointer(to: &storage) { pointer in
            ipv6 ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                 : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return (fd, boundPort, ipv6)
    }

    /// `strerror(errno)`.
    static func errnoText() -> String { String(cString: strerror(errno)) }
}
