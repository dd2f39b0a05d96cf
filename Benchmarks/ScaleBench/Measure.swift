import BenchSupport
import Foundation
import Glibc
import JSON
import Synchronization

/// Seconds since an arbitrary point, monotonic.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// The `q` quantile (0…1) of `values`, nearest rank.
func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
}

/// The figures of one size, in order.
final class Figures: Sendable {
    private let list = Mutex<[(String, Double, String)]>([])
    func add(_ name: String, _ value: Double, _ unit: String) {
        list.withLock { $0.append((name, value, unit)) }
        note(String(format: "%@: %.3f %@", name, value, unit))
    }
    var all: [(String, Double, String)] { list.withLock { $0 } }
}

/// The release `setuplink` run on one built replica: every row of the scale table.
struct Measurement {
    let binary: String
    let db: String
    let folder: String
    let tenants: [Tenant]
    let figures = Figures()
    var rng = SystemRandomNumberGenerator()
    let peerToken = "scale-bench-peer-token"

    /// A random tenant.
    mutating func anyTenant() -> Tenant { tenants[Int.random(in: 0..<tenants.count, using: &rng)] }

    /// Runs `setuplink` with `arguments`; returns its stdout, stderr, exit status and wall seconds.
    func run(_ arguments: [String], timed: Bool = false) throws -> (out: String, err: String, status: Int32, seconds: Double) {
        let p = Process()
        if timed {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/time")
            p.arguments = ["-f", "peak_kib=%M", binary] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["SETUPLINK_TOKEN"] = peerToken
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let t0 = now()
        try p.run()
        // Both pipes drained at once: a full stderr pipe would stall the child.
        let errData = Mutex(Data())
        let reader = Thread { let d = err.fileHandleForReading.readDataToEndOfFile(); errData.withLock { $0 = d } }
        reader.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let seconds = now() - t0
        while reader.isExecuting || !reader.isFinished { usleep(1_000) }
        return (String(decoding: o, as: UTF8.self), String(decoding: errData.withLock { $0 }, as: UTF8.self), p.terminationStatus, seconds)
    }

    /// The peak resident set `/usr/bin/time` printed, MiB.
    func peakMiB(_ stderr: String) -> Double {
        guard let line = stderr.split(separator: "\n").last(where: { $0.hasPrefix("peak_kib=") }),
              let kib = Double(line.dropFirst("peak_kib=".count)) else { return 0 }
        return kib / 1024
    }

    /// A member of the last JSON line of `output`.
    func member(_ output: String, _ name: String) -> JSONValue? {
        guard let line = output.split(separator: "\n").last,
              let object = try? JSONParser.parse(Array(line.utf8)).objectValue else { return nil }
        return object.first { $0.0 == name }?.1
    }

    func int(_ v: JSONValue?) -> Int {
        switch v {
        case .int(let i)?: Int(i)
        case .double(let d)?: Int(d)
        default: -1
        }
    }

    func double(_ v: JSONValue?) -> Double {
        switch v {
        case .int(let i)?: Double(i)
        case .double(let d)?: d
        default: -1
        }
    }

    /// Starts `serve` on the replica; returns it, its port, and the seconds until it answered `/healthz`.
    func serve() throws -> (Process, UInt16, Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--db", db, "--json", "--external-url", "http://127.0.0.1", "serve", "--port", "0"]
        var env = ProcessInfo.processInfo.environment
        env["SETUPLINK_TOKEN"] = peerToken
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let t0 = now()
        try p.run()
        let port = try servePort(out)
        let client = KeepAliveClient(port: UInt16(port))
        while true {
            if let (status, _) = try? client.send("GET", "/healthz"), status == 200 { break }
            guard now() - t0 < 600 else { throw BenchError("serve did not answer /healthz in 10 minutes") }
            usleep(1_000)
        }
        return (p, UInt16(port), now() - t0)
    }

    func stop(_ p: Process) {
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }

    /// Every row, in the order a user meets them; the server is stopped at the end.
    mutating func all(records: Int) throws {
        // The first open (untimed in the rows below): a replica of an older schema is migrated
        // now, once, as a user's first command after an upgrade would.
        let first = try run(["--db", db, "--json", "status"])
        guard first.status == 0 else { throw BenchError("status said: \(first.out) \(first.err)") }
        figures.add("first_open_s", first.seconds, "s (status once: includes migrating an older file)")

        // Open the replica and start serve (three starts; the last one stays up).
        var starts: [Double] = []
        var server: (Process, UInt16, Double)!
        for k in 0..<3 {
            server = try serve()
            starts.append(server.2)
            if k < 2 { stop(server.0) }
        }
        defer { stop(server.0) }
        let (process, port) = (server.0, server.1)
        figures.add("serve_start_ms", quantile(starts, 0.5) * 1000, "ms (median of 3: process start to /healthz 200)")

        // `status`, as a user types it while the hub serves (process start included).
        var statusTimes: [Double] = []
        for _ in 0..<5 {
            let r = try run(["--db", db, "--json", "status"])
            guard r.status == 0, int(member(r.out, "users")) >= tenants.count * ReplicaBuilder.usersPerTenant else {
                throw BenchError("status said: \(r.out) \(r.err)")
            }
            statusTimes.append(r.seconds)
        }
        figures.add("status_ms", quantile(statusTimes, 0.5) * 1000, "ms (median of 5, process start included)")

        // `link list --tenant T`: until its row is printed.
        var firstRow: [Double] = []
        for _ in 0..<5 {
            let t = anyTenant()
            firstRow.append(try untilLine(["--db", db, "link", "list", "--tenant", t.name], containing: t.name))
        }
        figures.add("link_list_tenant_first_row_ms", quantile(firstRow, 0.5) * 1000, "ms (median of 5, process start included)")

        // One `/setup/<token>` page, over a kept-alive connection.
        let client = KeepAliveClient(port: port)
        var pages: [Double] = []
        for _ in 0..<200 {
            let t = anyTenant()
            let t0 = now()
            let (status, body) = try client.send("GET", "/setup/" + t.linkToken)
            pages.append(now() - t0)
            guard status == 200, String(decoding: body, as: UTF8.self).contains(t.directory) else {
                throw BenchError("setup page of \(t.name): \(status)")
            }
        }
        figures.add("setup_page_p50_ms", quantile(pages, 0.5) * 1000, "ms")
        figures.add("setup_page_p99_ms", quantile(pages, 0.99) * 1000, "ms (200 pages of random tenants)")

        // SCIM `userName eq` of existing users of random directories.
        var lookups: [Double] = []
        for _ in 0..<2_000 {
            let t = anyTenant()
            let u = Int.random(in: 0..<ReplicaBuilder.usersPerTenant, using: &rng)
            let name = ReplicaBuilder.userName(u, tenant: Int(t.name.dropFirst("tenant-".count))!)
            let filter = "userName%20eq%20%22" + name.replacingOccurrences(of: "@", with: "%40") + "%22"
            let t0 = now()
            let (status, body) = try client.send("GET", t.scimPath + "/Users?filter=" + filter, headers: [("Authorization", "Bearer " + t.scimToken)])
            lookups.append(now() - t0)
            guard status == 200, String(decoding: body, as: UTF8.self).contains("\"totalResults\":1") else {
                throw BenchError("userName eq \(name): \(status) \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
        }
        figures.add("scim_username_eq_p50_ms", quantile(lookups, 0.5) * 1000, "ms")
        figures.add("scim_username_eq_p99_ms", quantile(lookups, 0.99) * 1000, "ms (2,000 lookups in random directories)")

        // A second replica, cloned from the hub: what the syncs below run against.
        let peerDB = folder + "/peer-\(records).sqlite"
        let tokenFile = folder + "/peer.token"
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data((peerToken + "\n").utf8), attributes: [.posixPermissions: 0o600])
        defer {
            for suffix in ["", "-wal", "-shm", ".partial"] { try? FileManager.default.removeItem(atPath: peerDB + suffix) }
        }
        let clone = try run(["--db", peerDB, "--json", "clone", "http://127.0.0.1:\(port)", "--token-file", tokenFile, "--name", "hub"], timed: true)
        guard clone.status == 0 else { throw BenchError("clone failed: \(clone.err)") }
        figures.add("clone_s", clone.seconds, "s (setuplink clone, process start to exit)")
        figures.add("clone_download_s", double(member(clone.out, "download_seconds")), "s (the hub's copy, then the transfer)")
        figures.add("clone_check_s", double(member(clone.out, "check_seconds")), "s (integrity check, new id, the state summary computed again)")
        figures.add("clone_catch_up_s", double(member(clone.out, "sync_seconds")), "s (open, the catch-up sync)")
        figures.add("clone_records_per_s", Double(records) / clone.seconds, "records/s")
        figures.add("clone_client_peak_rss_mib", peakMiB(clone.err), "MiB")

        // A sync with nothing to do, five times.
        var noop: [Double] = [], noopWall: [Double] = [], noopBytes: [Double] = []
        for _ in 0..<5 {
            let r = try run(["--db", peerDB, "--json", "sync", "hub"])
            guard r.status == 0, int(member(r.out, "pulled")) == 0, int(member(r.out, "pushed")) == 0 else {
                throw BenchError("no-op sync said: \(r.out) \(r.err)")
            }
            noop.append(double(member(r.out, "seconds")))
            noopWall.append(r.seconds)
            noopBytes.append(Double(int(member(r.out, "bytes_sent")) + int(member(r.out, "bytes_received"))))
        }
        figures.add("noop_sync_ms", quantile(noop, 0.5) * 1000, "ms (median of 5, the sync itself)")
        figures.add("noop_sync_command_ms", quantile(noopWall, 0.5) * 1000, "ms (the whole command: process start, open, sync)")
        figures.add("noop_sync_bytes", quantile(noopBytes, 0.5), "B")

        // 1,000 SCIM creates by 8 clients at once, then the sync that brings them to the clone.
        let latencies = Mutex<[Double]>([])
        let failures = Mutex<[String]>([])
        let perClient = 125, clients = 8
        let chosen = (0..<clients).map { _ in anyTenant() }
        let run0 = Int.random(in: 0..<1_000_000, using: &rng)
        let t0 = now()
        let threads = chosen.enumerated().map { (c, t) in
            Thread {
                let client = KeepAliveClient(port: port)
                let tn = Int(t.name.dropFirst("tenant-".count))!
                var mine: [Double] = []
                for i in 0..<perClient {
                    let body = ReplicaBuilder.userBody(c * perClient + i, tenant: tn, prefix: "new\(run0)")
                    let s = now()
                    do {
                        let (status, answer) = try client.send("POST", t.scimPath + "/Users",
                                                               headers: [("Authorization", "Bearer " + t.scimToken), ("Content-Type", "application/scim+json")],
                                                               body: body)
                        guard status == 201 else {
                            failures.withLock { $0.append("\(status) \(String(decoding: answer.prefix(200), as: UTF8.self))") }
                            return
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                        return
                    }
                    mine.append(now() - s)
                }
                latencies.withLock { $0 += mine }
            }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { usleep(2_000) }
        let createSeconds = now() - t0
        if let f = failures.withLock({ $0.first }) { throw BenchError("SCIM create failed: \(f)") }
        let all = latencies.withLock { $0 }
        figures.add("scim_create_8_p50_ms", quantile(all, 0.5) * 1000, "ms")
        figures.add("scim_create_8_p99_ms", quantile(all, 0.99) * 1000, "ms (1,000 creates, 8 clients)")
        figures.add("scim_create_8_per_s", Double(all.count) / createSeconds, "creates/s")

        let inc = try run(["--db", peerDB, "--json", "sync", "hub"], timed: true)
        guard inc.status == 0, int(member(inc.out, "pulled")) >= 2 * perClient * clients else {
            throw BenchError("incremental sync said: \(inc.out) \(inc.err)")
        }
        figures.add("incremental_sync_1000_ms", double(member(inc.out, "seconds")) * 1000, "ms (1,000 changes: a user and its event each)")
        figures.add("incremental_sync_1000_command_ms", inc.seconds * 1000, "ms (the whole command)")
        figures.add("incremental_sync_1000_bytes", Double(int(member(inc.out, "bytes_sent")) + int(member(inc.out, "bytes_received"))), "B")
        figures.add("sync_client_peak_rss_mib", peakMiB(inc.err), "MiB")
        figures.add("server_peak_rss_mib", Self.peakRSS(process.processIdentifier) / 1024, "MiB (the hub at the end: it made the clone's snapshot)")
    }

    /// Runs `setuplink arguments` and returns the seconds until a stdout line contains `text`.
    func untilLine(_ arguments: [String], containing text: String) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        let t0 = now()
        try p.run()
        var seen = Data()
        var found: Double?
        while true {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            seen.append(d)
            if found == nil, String(decoding: seen, as: UTF8.self).contains(text) { found = now() - t0 }
        }
        p.waitUntilExit()
        guard let found else { throw BenchError("\(arguments.joined(separator: " ")) printed no line with \(text): \(String(decoding: seen, as: UTF8.self))") }
        return found
    }

    /// The process's peak resident set (`VmHWM`), KiB.
    static func peakRSS(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
