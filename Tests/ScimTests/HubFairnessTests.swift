import Foundation
import Glibc
import HTTP
import JSON
import SetupLinks
import Storage
import Synchronization
import Testing
import TestSupport
import Webhooks
@testable import Scim

/// A TCP server that accepts connections and never answers: a webhook receiver that hangs.
final class HangingServer: @unchecked Sendable {
    // @unchecked Sendable: `held` is guarded by its lock; the descriptor is only closed by `close()`.
    let port: UInt16
    private let fd: Int32
    private let held = Locked<[Int32]>([])
    /// Connections accepted so far.
    let accepted = Locked(0)

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = self.fd
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && listen(fd, 128) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        guard ok else { throw RawClientError.failed("hanging server: \(String(cString: strerror(errno)))") }
        port = UInt16(bigEndian: address.sin_port)
        let held = self.held, accepted = self.accepted
        Thread {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { return }
                held.withLock { $0.append(c) }
                accepted.withLock { $0 += 1 }
            }
        }.start()
    }

    /// Connections open right now (the hub has not given up on them yet): what a
    /// connection sent is read and dropped, and one the hub closed reads as its end.
    var open: Int {
        held.withLock { fds in
            fds.filter { c in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(c, $0.baseAddress, 4096, Int32(MSG_DONTWAIT)) }
                    if n > 0 { continue }
                    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                }
            }.count
        }
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        held.withLock { fds in fds.forEach { Glibc.close($0) }; fds = [] }
    }

    deinit { close() }
}

/// Fairness between directories and clients (issue 26), each over real sockets against a
/// real `Hub` holding 10,000 records, with its other clients served while the attack runs.
@Suite struct HubFairnessTests {
    @Test func hangingWebhookReceiversDelayOnlyTheirOwnDirectories() throws {
        let hanging = try HangingServer()
        defer { hanging.close() }
        let received = Locked<[String]>([])
        let (healthy, healthyPort) = try startServer { request in
            received.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
            return .text("ok")
        }
        defer { healthy.stop() }
        let configuration = WebhookConfiguration(senders: 16, connectTimeout: .seconds(2), timeout: .seconds(3),
                                                 retryBase: .milliseconds(40), retryCap: .milliseconds(300), pollInterval: .milliseconds(200))
        let h = try SafetyHub(webhooks: configuration)
        // 12 directories whose receiver hangs: more than the half of the senders slow ones may hold.
        let bad = try (0..<12).map { try h.directory(tenant: "hang\($0)", webhook: "http://127.0.0.1:\(hanging.port)/hook") }
        let good = try h.directory(tenant: "good", webhook: "http://127.0.0.1:\(healthyPort)/hook")
        for d in bad { _ = try h.scim(d).createUser("victim@example.com") }
        #expect(poll(until: { hanging.open == 12 }, deadline: .seconds(30)), "every hanging receiver holds a request")

        // While all twelve hang, the healthy directory's event goes through.
        _ = try h.scim(good).createUser("first@example.com")
        #expect(poll(until: { received.withLock { $0.contains { $0.contains("first@example.com") } } }, deadline: .seconds(60)))
        #expect(hanging.open > 0, "delivered while the hanging receivers still held their requests")

        // Once they have failed (slow), they hold at most half the senders: more events of theirs
        // and the healthy directory's next event still goes through.
        #expect(poll(until: { hanging.accepted.withLock { $0 } > 12 }, deadline: .seconds(60)), "the hanging ones were retried")
        for d in bad { _ = try h.scim(d).createUser("again@example.com") }
        _ = try h.scim(good).createUser("second@example.com")
        #expect(poll(until: { received.withLock { $0.contains { $0.contains("second@example.com") } } }, deadline: .seconds(60)))
        #expect(hanging.open > 0 && hanging.open <= 8, "slow directories hold at most half the senders (\(hanging.open))")
        h.expectOthersServed()

        // Nothing is lost: pointed at a receiver that answers, every waiting event arrives.
        for d in bad { try h.service.updateDirectory(id: d.id, webhookURL: "http://127.0.0.1:\(healthyPort)/hook") }
        #expect(poll(until: { received.withLock { $0.filter { $0.contains("victim@example.com") || $0.contains("again@example.com") }.count } >= 24 },
                     deadline: .seconds(60)), "every event of the hanging directories arrived once they answered")
    }

    @Test func readersOfAHugeGroupCannotStarveOtherTenants() throws {
        let h = try SafetyHub()
        let big = try h.directory(tenant: "big")
        let other = try h.directory(tenant: "other")
        let bigScim = h.scim(big), otherScim = h.scim(other)
        let gid = try bigScim.createGroup("Everyone")
        // 12,000 members (large from 10,000), as an identity provider adds them.
        for batch in 0..<2 {
            let values = (0..<6_000).map { #"{"value":"user-\#(batch)-\#($0)"}"# }.joined(separator: ",")
            let r = try bigScim.patch("/Groups/\(gid)", #"[{"op":"add","path":"members","value":[\#(values)]}]"#)
            #expect(r.status == 204, "\(r.status) \(r.text.prefix(200))")
        }
        let statuses = Locked<[Int: Int]>([:])
        let retryAfter = Locked<Set<String>>([])
        try h.whileAttacking(threads: 6, { stop in
            while !stop() {
                guard let r = try? bigScim.get("/Groups/\(gid)") else { continue }
                statuses.withLock { $0[r.status, default: 0] += 1 }
                if r.status == 429 { retryAfter.withLock { _ = $0.insert(r.headers["retry-after"] ?? "") } }
            }
        }) {
            // Another tenant works normally meanwhile: creates, reads its own group with members.
            let members = try (0..<5).map { try otherScim.createUser("worker\($0)@example.com") }
            let small = try otherScim.createGroup("Team", members: members)
            for _ in 0..<5 {
                let r = try otherScim.get("/Groups/\(small)")
                #expect(r.status == 200 && r.json?.member("members")?.arrayValue?.count == 5, "\(r.status)")
            }
            // The huge group without its members is cheap, and never refused.
            let light = try bigScim.get("/Groups/\(gid)?excludedAttributes=members")
            #expect(light.status == 200 && light.json?.member("members") == nil && light.json?.member("displayName")?.stringValue == "Everyone")
            h.expectOthersServed()
        }
        let seen = statuses.withLock { $0 }
        #expect((seen[200] ?? 0) > 0, "the huge group is still served: \(seen)")
        #expect(Set(seen.keys).isSubset(of: [200, 429]), "\(seen)")
        #expect((seen[429] ?? 0) > 0, "six parallel readers of one directory pass its bound of two: \(seen)")
        #expect(retryAfter.withLock { $0 } == ["1"])

        // Deleting it while readers go on: refused at most while two reads run, then done; the
        // other tenant's data is untouched.
        try h.whileAttacking(threads: 3, { stop in
            while !stop() { _ = try? bigScim.get("/Groups/\(gid)") }
        }) {
            var deleted = false
            for _ in 0..<600 where !deleted {
                let r = try bigScim.delete("/Groups/\(gid)")
                #expect(r.status == 204 || r.status == 429, "\(r.status) \(r.text)")
                deleted = r.status == 204
                if !deleted { usleep(50_000) }
            }
            #expect(deleted)
            _ = try otherScim.createUser("after@example.com")
        }
        #expect(try bigScim.get("/Groups/\(gid)").status == 404)
        #expect(try otherScim.get("/Users").total == 6)
        h.expectOthersServed()
    }

    @Test func heldBodiesCannotPassTheMemoryBudget() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.maxBufferedBodyBytes = 8 * 1024 * 1024
        configuration.maxBufferedBodyBytesPerAddress = 8 * 1024 * 1024
        let h = try SafetyHub(configuration: configuration)
        let d = try h.directory(tenant: "hoarder")
        let other = try h.directory(tenant: "other")
        // 40 SCIM POSTs declaring 1,048,000 bytes, each sending 1,000,000 and then holding.
        let head = "POST \(d.scimPath)/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(d.scimToken)\r\n"
            + "Content-Type: application/scim+json\r\nContent-Length: 1048000\r\n\r\n"
        let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 1_000_000)
        var held: [RawClient] = []
        var refused: [RawResponse] = []
        for _ in 0..<40 {
            let c = try RawClient(port: h.port)
            c.send(head)
            c.send(chunk)
            held.append(c)
        }
        // The refusals come from the heads alone; what is still waiting after they came is held.
        _ = poll(until: {
            held.removeAll { c in
                guard let r = c.readResponse(timeout: .milliseconds(20)) else { return false }
                refused.append(r)
                return true
            }
            return refused.count >= 32
        }, deadline: .seconds(20))
        #expect(held.count == 8, "8 bodies of 1,048,000 bytes fit in 8 MiB (\(held.count) held)")
        #expect(refused.count == 32 && refused.allSatisfy { $0.status == 503 && $0.headers["retry-after"] == "5" },
                "\(refused.map(\.status))")
        #expect(h.hub.server.bufferedBodyBytes <= 8 * 1024 * 1024)
        // Everyone else is served meanwhile: small bodies are not counted.
        _ = try h.scim(other).createUser("still@example.com")
        h.expectOthersServed()
        // Given up, the held bodies free the budget: a large body is admitted again.
        held.removeAll()
        #expect(poll(until: { h.hub.server.bufferedBodyBytes == 0 }, deadline: .seconds(10)))
        let again = try RawClient(port: h.port)
        again.send(head.replacingOccurrences(of: "1048000", with: "200000"))
        again.send([UInt8](repeating: UInt8(ascii: " "), count: 200_000))
        let answer = try #require(again.readResponse(timeout: .seconds(10)))
        #expect(answer.status == 400, "admitted and read (a body of spaces is not JSON): \(answer.status) \(answer.body)")
        #expect(try h.scim(other).get("/Users").total == 1 && (try h.scim(d).get("/Users").total) == 0, "nothing was made or lost")
    }

    /// A TCP connection from a chosen loopback address (127.0.0.2, …), with an optional small receive buffer.
    static func connect(from source: String, port: UInt16, receiveBuffer: Int32? = nil) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &local) { l in
            withUnsafePointer(to: &remote) { r in
                l.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } == 0
                    && r.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } == 0
            }
        }
        if !ok { close(fd); return nil }
        return fd
    }

    /// Whether the server has closed `fd` (anything it sent is read and dropped).
    static func isClosed(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, Int32(MSG_DONTWAIT)) }
            if n > 0 { continue }
            return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
        }
    }

    /// `GET /healthz` from `source`, answered 200.
    static func healthz(from source: String, port: UInt16) -> Bool {
        guard let fd = connect(from: source, port: port) else { return false }
        defer { close(fd) }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
        return n > 0 && String(decoding: buffer[0..<n], as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }

    /// Opens and holds up to `count` idle connections from `source`, opening again what the server cuts.
    static func hold(_ count: Int, from source: String, port: UInt16, until stop: () -> Bool) {
        var held: [Int32] = []
        while !stop() {
            held.removeAll { fd in
                guard isClosed(fd) else { return false }
                close(fd)
                return true
            }
            if held.count < count, let fd = connect(from: source, port: port) { held.append(fd) } else { usleep(5_000) }
        }
        held.forEach { close($0) }
    }

    @Test func twoAddressesCannotTakeEverySlot() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.maxConnections = 256
        configuration.fairShareConnections = 64
        let h = try SafetyHub(configuration: configuration)
        let sources = ["127.0.0.2", "127.0.0.3"]
        let index = Locked(0)
        h.whileAttacking(threads: 2, { stop in
            let source = index.withLock { i in defer { i += 1 }; return sources[i] }
            Self.hold(256, from: source, port: h.port, until: stop)
        }) {
            // Both addresses are refused once 256 − 32 slots are taken (each holds its fair share of 64 and more).
            #expect(poll(until: { h.hub.server.connectionCount >= 200 }, deadline: .seconds(30)), "\(h.hub.server.connectionCount)")
            for source in ["127.0.0.9", "127.0.0.10", "127.0.0.11"] {
                #expect(Self.healthz(from: source, port: h.port), "a new address is served (\(source))")
            }
            h.expectOthersServed()
            #expect(h.hub.server.connectionCount <= 256)
        }
        // The reserve kept the room; when the machine is slow and the reserve fills too, only the
        // attackers' idle connections are closed to make room, never another client's.
        let cut = h.log.withLock { $0.filter { $0.contains("closed to make room") } }
        #expect(cut.allSatisfy { $0.contains("127.0.0.2:") || $0.contains("127.0.0.3:") }, "\(cut.prefix(3))")
    }

    @Test func aFullServerClosesAnIdleConnectionForANewClient() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.maxConnections = 64
        configuration.fairShareConnections = 1000
        let h = try SafetyHub(configuration: configuration)
        h.whileAttacking(threads: 1, { stop in
            Self.hold(64, from: "127.0.0.2", port: h.port, until: stop)
        }) {
            // The attacker keeps (re)opening: the server stays full, closing his idle ones as new ones come.
            #expect(poll(until: { h.hub.server.connectionCount >= 60 }, deadline: .seconds(30)), "the attacker filled the slots")
            #expect(Self.healthz(from: "127.0.0.9", port: h.port), "an idle connection made room")
            h.expectOthersServed()
        }
        #expect(h.log.withLock { $0.contains { $0.contains("idle connection closed to make room") } })
    }

    @Test func aPipelineThatIsNeverReadIsCut() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.stalledSendTimeout = .seconds(1)
        let h = try SafetyHub(configuration: configuration)
        let fd = try #require(Self.connect(from: "127.0.0.4", port: h.port, receiveBuffer: 4096))
        defer { close(fd) }
        let sent = DispatchSemaphore(value: 0)
        Thread {
            // 20,000 pipelined requests, never reading an answer; the send blocks once the server stops reading.
            let request = Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            let all = Array((0..<20_000).map { _ in request }.joined())
            var offset = 0
            while offset < all.count {
                let n = all[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                offset += n
            }
            sent.signal()
        }.start()
        h.expectOthersServed()
        #expect(poll(until: { h.log.withLock { $0.contains { $0.contains("answers not read") } } }, deadline: .seconds(60)),
                "the connection was cut")
        #expect(sent.wait(timeout: .now() + 30) == .success, "the cut ended the sender's blocked send")
        h.expectOthersServed()
    }
}
