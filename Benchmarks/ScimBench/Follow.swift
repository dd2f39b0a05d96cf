import BenchSupport
import Foundation
import Glibc
import JSON
import Synchronization

/// The figures of following peers (issue 25): `scim-bench --propagation` and `--idle`.
/// (`SCIM_BENCH_FOLLOWER=1` runs the usual figures with a second hub following the first
/// and followed by it.)
enum FollowBench {
    /// Hub A (a fresh replica with a directory) and hub B following A, each `setuplink serve`.
    struct Pair {
        var a: Process
        var target: Target
        var b: Process
        var bPort: Int
        var bDB: String
        /// A third hub, served without peers, for the idle baseline.
        var baseline: Process?

        func stop() {
            for p in [a, b] + (baseline.map { [$0] } ?? []) where p.isRunning {
                kill(p.processIdentifier, SIGTERM)
                p.waitUntilExit()
            }
        }
    }

    /// Starts A, B (following A at `viaPort`'s address when given, else A's), waits until B holds A's directory.
    static func start(proxy: ((Int) throws -> Int)? = nil, baseline: Bool = false) throws -> Pair {
        let (a, target) = try ServedReplica.start()
        let folder = target.folder!
        let bDB = folder + "/follower.sqlite"
        let tokenFile = folder + "/peer.token"
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data("bench-peer-token\n".utf8), attributes: [.posixPermissions: 0o600])
        let (b, bPort) = try ServedReplica.serve(db: bDB, stderr: FileHandle.nullDevice)
        var base: Process?
        if baseline { base = try ServedReplica.serve(db: folder + "/baseline.sqlite", stderr: FileHandle.nullDevice).0 }
        let port = try proxy?(Int(target.port)) ?? Int(target.port)
        _ = try ServedReplica.run(["--db", bDB, "peer", "add", "a", "http://127.0.0.1:\(port)", "--token-file", tokenFile, "--follow"])
        let pair = Pair(a: a, target: target, b: b, bPort: bPort, bDB: bDB, baseline: base)
        for _ in 0..<300 {
            if try ServedReplica.run(["--db", bDB, "--json", "status"]).contains("\"directories\":1") { return pair }
            usleep(100_000)
        }
        pair.stop()
        throw BenchError("the follower never received the directory")
    }

    static func userBody(_ n: Int) -> [UInt8] {
        Array("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"prop\(n)@bench.example.com",\
            "name":{"givenName":"Prop","familyName":"User \(n)"},"emails":[{"value":"prop\(n)@bench.example.com","type":"work","primary":true}],\
            "externalId":"ext-prop-\(n)","active":true}
            """.utf8)
    }

    /// Creates on A at `rate` per second for `seconds`; for each, the time from its 201 to
    /// the moment B answers 200 for the new user's id.
    static func propagation(rate: Int, seconds: Int, json: Bool) throws {
        let pair = try start()
        defer { pair.stop() }
        let target = pair.target
        let headers = [("Authorization", "Bearer \(target.token ?? "")"), ("Content-Type", "application/scim+json")]
        let total = rate * seconds
        let pending = Mutex<[(id: String, acked: Double)]>([])
        let latencies = Mutex<[Double]>([])
        let sent = Atomic(0)
        let failure = Mutex<String?>(nil)
        let writer = Thread {
            let client = KeepAliveClient(port: target.port)
            let t0 = now()
            for n in 0..<total {
                let due = t0 + Double(n) / Double(rate)
                let wait = due - now()
                if wait > 0 { usleep(UInt32(wait * 1e6)) }
                do {
                    let (status, body) = try client.send("POST", target.base + "/Users", headers: headers, body: userBody(n))
                    let acked = now()
                    guard status == 201, let v = try? JSONParser.parse(body), case .string(let id)? = v["id"] else {
                        failure.withLock { $0 = "create \(n) answered \(status)" }
                        return
                    }
                    pending.withLock { $0.append((id, acked)) }
                    _ = sent.add(1)
                } catch {
                    failure.withLock { $0 = "create \(n): \(error)" }
                    return
                }
            }
        }
        let checker = Thread {
            let client = KeepAliveClient(port: UInt16(pair.bPort))
            var lastArrival = now()
            while latencies.withLock({ $0.count }) < total && failure.withLock({ $0 }) == nil {
                guard let next = pending.withLock({ $0.first }) else {
                    usleep(1000)
                    continue
                }
                if let (status, _) = try? client.send("GET", target.base + "/Users/" + next.id, headers: headers), status == 200 {
                    let t = now()
                    latencies.withLock { $0.append(t - next.acked) }
                    pending.withLock { _ = $0.removeFirst() }
                    lastArrival = t
                } else {
                    if now() - lastArrival > 30 {
                        failure.withLock { $0 = "user \(next.id) never reached the follower" }
                        return
                    }
                    usleep(2000)
                }
            }
        }
        let cpuA0 = ServedReplica.cpuSeconds(pair.a.processIdentifier), cpuB0 = ServedReplica.cpuSeconds(pair.b.processIdentifier)
        let start = now()
        writer.start()
        checker.start()
        while !(writer.isFinished && checker.isFinished) { usleep(50_000) }
        let elapsed = now() - start
        if let f = failure.withLock({ $0 }) { throw BenchError(f) }
        let xs = latencies.withLock { $0 }
        guard xs.count == total else { throw BenchError("only \(xs.count) of \(total) creates reached the follower") }
        let figures: [(String, Double, String)] = [
            ("propagation_creates", Double(total), ""),
            ("propagation_rate_per_s", Double(total) / elapsed, "/s"),
            ("propagation_p50_ms", percentile(xs, 0.5) * 1000, "ms"),
            ("propagation_p99_ms", percentile(xs, 0.99) * 1000, "ms"),
            ("propagation_max_ms", (xs.max() ?? 0) * 1000, "ms"),
            ("followed_cpu_percent", (ServedReplica.cpuSeconds(pair.a.processIdentifier) - cpuA0) / elapsed * 100, "%"),
            ("follower_cpu_percent", (ServedReplica.cpuSeconds(pair.b.processIdentifier) - cpuB0) / elapsed * 100, "%"),
        ]
        report(figures, json: json)
    }

    /// B follows A through a counting proxy; nothing is written for `seconds`.
    static func idle(seconds: Int, json: Bool) throws {
        let proxy = CountingProxy()
        let pair = try start(proxy: { try proxy.start(upstream: $0) }, baseline: true)
        defer { pair.stop(); proxy.stop() }
        // Let the first sync and its acknowledgements settle.
        usleep(5_000_000)
        proxy.reset()
        let pids = [pair.a.processIdentifier, pair.b.processIdentifier, pair.baseline!.processIdentifier]
        let cpu0 = pids.map(ServedReplica.cpuSeconds)
        let start = now()
        usleep(UInt32(seconds) * 1_000_000)
        let elapsed = now() - start
        let cpu = zip(pids.map(ServedReplica.cpuSeconds), cpu0).map { ($0 - $1) / elapsed * 100 }
        let counts = proxy.counts
        let figures: [(String, Double, String)] = [
            ("idle_seconds", elapsed, "s"),
            ("idle_bytes_per_min", Double(counts.up + counts.down) / elapsed * 60, "B"),
            ("idle_bytes_up_per_min", Double(counts.up) / elapsed * 60, "B"),
            ("idle_bytes_down_per_min", Double(counts.down) / elapsed * 60, "B"),
            ("idle_connections_per_min", Double(counts.connections) / elapsed * 60, ""),
            ("idle_followed_cpu_percent", cpu[0], "%"),
            ("idle_follower_cpu_percent", cpu[1], "%"),
            ("idle_unfollowing_hub_cpu_percent", cpu[2], "%"),
            ("idle_follow_cpu_percent", cpu[1] - cpu[2], "%"),
        ]
        report(figures, json: json)
    }

    static func report(_ figures: [(String, Double, String)], json: Bool) {
        if json {
            write(String(decoding: JSONWriter.write(.object(figures.map { ($0.0, .double(($0.1 * 1000).rounded() / 1000)) })), as: UTF8.self))
        } else {
            for (name, value, unit) in figures { write("\(name): \(String(format: "%.2f", value)) \(unit)") }
        }
    }
}

/// A TCP proxy on loopback that counts the bytes it forwards each way (the HTTP bytes
/// on the wire, without TCP/IP framing).
final class CountingProxy: @unchecked Sendable {
    // @unchecked Sendable: the counters are atomics; `listener` is set once before threads start.
    private let up = Atomic(0), down = Atomic(0), accepted = Atomic(0)
    private let base = Mutex<(Int, Int, Int)>((0, 0, 0))
    private var listener: Int32 = -1

    var counts: (up: Int, down: Int, connections: Int) {
        let b = base.withLock { $0 }
        return (up.value - b.0, down.value - b.1, accepted.value - b.2)
    }

    func reset() { base.withLock { $0 = (up.value, down.value, accepted.value) } }

    /// Listens on a free port forwarding to `upstream`; returns the port.
    func start(upstream: Int) throws -> Int {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) } }
        guard bound == 0, listen(listener, 16) == 0 else { throw BenchError("proxy: cannot listen") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let fd = listener
        Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                _ = accepted.add(1)
                let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var to = sockaddr_in()
                to.sin_family = sa_family_t(AF_INET)
                to.sin_port = UInt16(upstream).bigEndian
                to.sin_addr.s_addr = inet_addr("127.0.0.1")
                let rc = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                if rc != 0 { close(client); close(server); continue }
                for (from, into, counter) in [(client, server, up), (server, client, down)] {
                    Thread {
                        var buffer = [UInt8](repeating: 0, count: 65536)
                        while true {
                            let n = read(from, &buffer, buffer.count)
                            if n <= 0 { break }
                            _ = counter.add(n)
                            var off = 0
                            while off < n {
                                let w = buffer[off..<n].withUnsafeBytes { Glibc.write(into, $0.baseAddress, n - off) }
                                if w <= 0 { break }
                                off += w
                            }
                        }
                        shutdown(into, Int32(SHUT_WR))
                        shutdown(from, Int32(SHUT_RD))
                    }.start()
                }
            }
        }.start()
        return port
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}
