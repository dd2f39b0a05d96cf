// scim-bench: the SCIM service of a served replica under load (issue 9).
// Run: swift build -c release && .build/release/scim-bench [--users N] [--json]
//
// Starts the real `setuplink serve` (the release binary beside this one) as a
// separate process on a fresh replica, makes a setup link and a directory with
// one-shot commands, then, over keep-alive HTTP/1.1 connections on loopback:
//   creates_1_per_s     POST /Users, one client, --single users
//   creates_8_per_s     POST /Users, --clients clients at once, up to --users users
//   patches_8_per_s     PATCH /Users/<id> (replace title), --clients clients, --patches requests
//   username_eq_p50_ms, _p99_ms    GET /Users?filter=userName eq "…" at --users users, one client
//   externalid_eq_p50_ms, _p99_ms  GET /Users?filter=externalId eq "…"
//   page_first_ms, page_deep_ms    GET /Users?startIndex=1|N-99&count=100 (median of 20)
//   page_deep_after_write_ms       the last page right after a PATCH (nothing remembered: count + offset walk)
//   page_walk_p50_ms, _max_ms      every page of 100 in turn, as an identity provider's import reads them
//   server_peak_rss_mib            the server's VmHWM at the end
//   server_cpu_us_per_create       the server's CPU time per create (8 clients)
//   steal_percent_during_creates   CPU time the hypervisor gave to other machines during those creates
//   with --feed: an app long-polls the change feed during the C-client creates (feed_events_followed)
// The app API (AppAPIBench.swift; --no-api skips it), at --users users:
//   api_users_first_page_p50_ms, _p99_ms   GET /api/v1/dsync/users?directoryId=&pageLimit=100
//   api_users_token_walk_p50_ms, _p99_ms   every page of 100 in turn by pageToken
//   api_users_last_page_token_ms           the last page by pageToken (median of 20)
//   api_users_last_page_offset_ms          the last page by pageOffset=N-100 (median of 20)
//   feed_read_events_per_s                 the whole change feed from the start, 1,000 per request, one client
//   longpoll_wake_p50_ms, _p99_ms          a waiting /changes?wait=30 answered, after the 201 of the SCIM create that caused it
// Every create and patch must answer 201/200 and the directory must hold every user
// at the end (totalResults), or the bench fails instead of reporting.
//
// `--propagation [--rate 100] [--seconds 20]`: hub B follows hub A; creates on A at that rate;
// the time from each 201 to B answering 200 for the user (p50, p99, max), and both hubs' CPU.
// `--idle [--seconds 120]`: B follows A through a counting proxy, nothing is written; bytes a
// minute both ways, and the CPU of A, B and a hub without peers (the follow's share is B's minus it).
// SCIM_BENCH_FOLLOWER=1: the usual figures with a second hub following the served one and followed by it.
//
// `--url BASE [--token T]` runs the create and filter figures against another SCIM
// server (for scale: the PyPI reference `scim2-server`), without RSS or CPU figures.
import BenchSupport
import Foundation
import Glibc
import JSON

/// What to run.
struct Options: Sendable {
    var users = 100_000
    var single = 5_000
    var clients = 8
    var patches = 20_000
    var queries = 2_000
    var json = false
    var url: String?
    var token: String?
    /// An app follows the change feed (long polls) while the clients create.
    var feed = false
    /// Skip the app API figures.
    var noAPI = false
    /// `--propagation` or `--idle`: the figures of following peers instead (Follow.swift).
    var follow: String?
    var rate = 100
    var seconds: Int?

    static func parse(_ arguments: [String]) -> Options {
        var o = Options()
        var args = arguments[...]
        func number(_ flag: String) -> Int {
            guard let v = args.popFirst(), let n = Int(v.replacingOccurrences(of: "_", with: "")), n > 0 else {
                FileHandle.standardError.write(Data("error: \(flag) needs a positive number\n".utf8))
                exit(2)
            }
            return n
        }
        while let a = args.popFirst() {
            switch a {
            case "--users": o.users = number(a)
            case "--single": o.single = number(a)
            case "--clients": o.clients = number(a)
            case "--patches": o.patches = number(a)
            case "--queries": o.queries = number(a)
            case "--quick":
                o.users = 2_000; o.single = 500; o.patches = 1_000; o.queries = 200
            case "--json": o.json = true
            case "--feed": o.feed = true
            case "--no-api": o.noAPI = true
            case "--propagation": o.follow = "propagation"
            case "--idle": o.follow = "idle"
            case "--rate": o.rate = number(a)
            case "--seconds": o.seconds = number(a)
            case "--url": o.url = args.popFirst()
            case "--token": o.token = args.popFirst()
            case "-h", "--help":
                print("usage: scim-bench [--users N] [--single N] [--clients C] [--patches N] [--queries N] [--quick] [--json] [--feed] [--no-api] [--url BASE [--token T]]"
                      + " | scim-bench --propagation [--rate 100] [--seconds 20] [--json] | scim-bench --idle [--seconds 120] [--json]")
                exit(0)
            default:
                FileHandle.standardError.write(Data("error: unknown option \(a) (see: scim-bench --help)\n".utf8))
                exit(2)
            }
        }
        o.single = min(o.single, o.users)
        return o
    }
}

/// Where the SCIM service under test is.
struct Target: Sendable {
    var host: String
    var port: UInt16
    /// The directory's SCIM base path (`/api/scim/v2.0/<id>`).
    var base: String
    var token: String?
    /// The server's process id when the bench started it.
    var pid: Int32?
    /// The folder of the replica the bench made (removed at the end unless SCIM_BENCH_KEEP is set).
    var folder: String? = nil
    /// The directory's id and an app API key, when the bench made the replica.
    var directory: String? = nil
    var apiKey: String? = nil
}

/// Seconds since an arbitrary point, monotonic.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return s[min(s.count - 1, Int(Double(s.count) * p))]
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

/// The machine's CPU time so far as (all, stolen by the hypervisor), in clock ticks (/proc/stat).
func machineTicks() -> (total: Double, steal: Double) {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return (0, 0) }
    let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard v.count >= 8 else { return (0, 0) }
    return (v.prefix(8).reduce(0, +), v[7])
}

func write(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

/// The figures, measured in order.
final class Bench: Sendable {
    let options: Options
    let target: Target
    let headers: [(String, String)]
    let ids: IDs
    let figures = Figures()

    init(options: Options, target: Target) {
        self.options = options
        self.target = target
        var h: [(String, String)] = [("Content-Type", "application/scim+json")]
        if let token = target.token { h.append(("Authorization", "Bearer \(token)")) }
        headers = h
        ids = IDs(count: options.users)
    }

    func report(_ name: String, _ value: Double, _ unit: String) {
        figures.add(name, value, unit)
        if !options.json { write("\(name): \(value < 10 ? String(format: "%.3f", value) : String(format: "%.0f", value)) \(unit)") }
    }

    func note(_ s: String) { if !options.json { write(s) } }

    func userBody(_ i: Int) -> [UInt8] {
        Array(#"""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user\#(i)@bench.example.com","externalId":"ext-\#(i)",
         "name":{"givenName":"Given\#(i)","familyName":"Family\#(i)","formatted":"Given\#(i) Family\#(i)"},
         "displayName":"Given\#(i) Family\#(i)","emails":[{"primary":true,"type":"work","value":"user\#(i)@bench.example.com"}],
         "active":true,"locale":"en-US"}
        """#.utf8)
    }

    /// `count` requests spread over `clients` threads, each on its own keep-alive
    /// connection; `request(client, i)` makes request i and says whether it succeeded.
    /// Returns the wall time; any failure ends the bench.
    func concurrently(_ count: Int, clients: Int, _ request: @escaping @Sendable (KeepAliveClient, Int) throws -> Bool) -> Double {
        let failures = Atomic(0)
        let next = Atomic(0)
        let group = DispatchGroup()
        let start = now()
        let target = self.target
        for _ in 0..<clients {
            group.enter()
            Thread {
                let client = KeepAliveClient(host: target.host, port: target.port)
                while true {
                    let i = next.add(1)
                    guard i < count else { break }
                    do { if try !request(client, i) { _ = failures.add(1) } } catch {
                        FileHandle.standardError.write(Data("request \(i): \(error)\n".utf8))
                        _ = failures.add(1)
                    }
                }
                group.leave()
            }.start()
        }
        group.wait()
        let elapsed = now() - start
        if failures.value > 0 {
            FileHandle.standardError.write(Data("error: \(failures.value) of \(count) requests failed\n".utf8))
            exit(1)
        }
        return elapsed
    }

    func create(_ c: KeepAliveClient, _ i: Int) throws -> Bool {
        let (status, body) = try c.send("POST", target.base + "/Users", headers: headers, body: userBody(i))
        guard status == 201 else {
            FileHandle.standardError.write(Data("POST user \(i): \(status) \(String(decoding: body.prefix(300), as: UTF8.self))\n".utf8))
            return false
        }
        // The id without parsing the whole answer: the client's CPU is the server's machine's too.
        guard let id = Self.idField(body) else { return false }
        ids.set(i, id)
        return true
    }

    /// This process's user and system CPU seconds (the clients' cost).
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// The value of the first `"id": "…"` in a resource (ids have no escapes).
    static func idField(_ body: [UInt8]) -> String? {
        let key = Array(#""id""#.utf8)
        guard body.count > key.count else { return nil }
        for i in 0...(body.count - key.count) where body[i] == key[0] && body[i..<(i + key.count)].elementsEqual(key) {
            var j = i + key.count
            while j < body.count, body[j] == UInt8(ascii: " ") || body[j] == UInt8(ascii: ":") { j += 1 }
            guard j < body.count, body[j] == UInt8(ascii: "\"") else { continue }
            guard let end = body[(j + 1)...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return String(decoding: body[(j + 1)..<end], as: UTF8.self)
        }
        return nil
    }

    static func member(_ body: [UInt8], _ name: String) -> JSONValue? {
        (try? JSONParser.parse(body))?.objectValue?.first { $0.0 == name }?.1
    }

    func run() throws {
        let base = target.base
        note("scim-bench: \(options.users) users, \(options.clients) clients, \(options.url ?? "a served replica"); load average \(loadAverage())")
        let cpu0 = target.pid.map(ServedReplica.cpuSeconds)

        // 1. Creates, one client.
        let t1 = concurrently(options.single, clients: 1) { c, i in try self.create(c, i) }
        report("creates_1_per_s", Double(options.single) / t1, "creates/s")

        // 2. Creates, C clients, up to N users.
        let cpu1 = target.pid.map(ServedReplica.cpuSeconds)
        let client1 = Self.ownCPUSeconds()
        let rest = options.users - options.single
        if rest > 0 {
            let single = options.single
            let follower = options.feed ? try FeedFollower.start(self) : nil
            let ticks0 = machineTicks()
            let t8 = concurrently(rest, clients: options.clients) { c, i in try self.create(c, single + i) }
            let ticks1 = machineTicks()
            report("creates_\(options.clients)_per_s", Double(rest) / t8, "creates/s")
            if let follower { report("feed_events_followed", Double(try follower.stop()), "events") }
            // A virtual machine's neighbours take CPU from it: the same build varies with this.
            if ticks1.total > ticks0.total {
                report("steal_percent_during_creates", (ticks1.steal - ticks0.steal) / (ticks1.total - ticks0.total) * 100, "%")
            }
            report("client_cpu_us_per_create", (Self.ownCPUSeconds() - client1) / Double(rest) * 1e6, "µs")
            if let pid = target.pid, let cpu1 {
                report("server_cpu_us_per_create", (ServedReplica.cpuSeconds(pid) - cpu1) / Double(rest) * 1e6, "µs")
            }
        }

        // Every user is there, or nothing is reported.
        let probe = KeepAliveClient(host: target.host, port: target.port)
        let (countStatus, countBody) = try probe.send("GET", base + "/Users?count=0", headers: headers)
        guard countStatus == 200, Self.member(countBody, "totalResults") == .int(Int64(options.users)) else {
            throw BenchError("the directory holds \(String(describing: Self.member(countBody, "totalResults"))) users, not \(options.users)")
        }

        // 3. Filters at N users, one client.
        func latencies(_ path: (Int) -> String) throws -> [Double] {
            var out: [Double] = []
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<options.queries {
                let k = Int.random(in: 0..<options.users, using: &rng)
                let t = now()
                let (status, body) = try probe.send("GET", path(k), headers: headers)
                out.append((now() - t) * 1000)
                guard status == 200, Self.member(body, "totalResults") == .int(1) else {
                    throw BenchError("filter for user \(k): \(status) \(String(decoding: body.prefix(200), as: UTF8.self))")
                }
            }
            return out
        }
        func query(_ filter: String) -> String {
            base + "/Users?filter=" + filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        }
        let byName = try latencies { query(#"userName eq "user\#($0)@bench.example.com""#) }
        report("username_eq_p50_ms", percentile(byName, 0.5), "ms")
        report("username_eq_p99_ms", percentile(byName, 0.99), "ms")
        let byExternal = try latencies { query(#"externalId eq "ext-\#($0)""#) }
        report("externalid_eq_p50_ms", percentile(byExternal, 0.5), "ms")
        report("externalid_eq_p99_ms", percentile(byExternal, 0.99), "ms")

        // 4. Pages of 100: the first and the last of N (the count remembered after the first
        // request), the last right after a write (nothing remembered), and every page in turn.
        func page(_ start: Int) throws -> Double {
            let t = now()
            let (status, body) = try probe.send("GET", base + "/Users?startIndex=\(start)&count=100", headers: headers)
            let ms = (now() - t) * 1000
            guard status == 200, Self.member(body, "itemsPerPage") == .int(Int64(min(100, options.users - start + 1))) else {
                throw BenchError("page at \(start): \(status)")
            }
            return ms
        }
        let deep = max(1, options.users - 99)
        report("page_first_ms", percentile(try (0..<20).map { _ in try page(1) }, 0.5), "ms")
        report("page_deep_ms", percentile(try (0..<20).map { _ in try page(deep) }, 0.5), "ms")
        var afterWrite: [Double] = []
        for i in 0..<10 {
            guard let id = ids.get(i) else { throw BenchError("no id for user \(i)") }
            let patch = Array(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"nickName","value":"n\#(i)"}]}"#.utf8)
            _ = try probe.send("PATCH", base + "/Users/\(id)", headers: headers, body: patch)
            afterWrite.append(try page(deep))
        }
        report("page_deep_after_write_ms", percentile(afterWrite, 0.5), "ms")
        var walk: [Double] = []
        for start in stride(from: 1, through: options.users, by: 100) { walk.append(try page(start)) }
        report("page_walk_p50_ms", percentile(walk, 0.5), "ms")
        report("page_walk_max_ms", walk.max() ?? 0, "ms")

        // 5. Patches, C clients.
        let users = options.users
        let t = concurrently(options.patches, clients: options.clients) { c, i in
            guard let id = self.ids.get((i * 7_919) % users) else { return false }
            let body = Array(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"T\#(i)"}]}"#.utf8)
            let (status, answer) = try c.send("PATCH", base + "/Users/\(id)", headers: self.headers, body: body)
            if status != 200 && status != 204 { FileHandle.standardError.write(Data("PATCH: \(status) \(String(decoding: answer.prefix(200), as: UTF8.self))\n".utf8)) }
            // 204 is a PATCH answered without the resource (the reference server does that).
            return status == 200 || status == 204
        }
        report("patches_\(options.clients)_per_s", Double(options.patches) / t, "patches/s")

        // 6. The app API: pages of users, the change feed, long-poll wake-ups.
        if target.apiKey != nil && !options.noAPI { try appAPI() }

        if let pid = target.pid {
            report("server_peak_rss_mib", ServedReplica.peakRSS(pid) / 1024, "MiB")
            if let cpu0 { report("server_cpu_s_total", ServedReplica.cpuSeconds(pid) - cpu0, "s") }
        }
        note("load average at the end: \(loadAverage())")
        if options.json {
            var o: [(String, JSONValue)] = figures.all.map { ($0.0, .double($0.1)) }
            o.append(("users", .int(Int64(options.users))))
            o.append(("clients", .int(Int64(options.clients))))
            write(String(decoding: JSONWriter.write(.object(o)), as: UTF8.self))
        }
    }
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
if let follow = options.follow {
    do {
        if follow == "propagation" {
            try FollowBench.propagation(rate: options.rate, seconds: options.seconds ?? 20, json: options.json)
        } else {
            try FollowBench.idle(seconds: options.seconds ?? 120, json: options.json)
        }
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}
var server: Process?
let target: Target
do {
    if let url = options.url {
        guard let u = URL(string: url), let host = u.host, let port = u.port else {
            FileHandle.standardError.write(Data("error: --url needs http://HOST:PORT/path\n".utf8))
            exit(2)
        }
        var base = u.path
        while base.hasSuffix("/") { base.removeLast() }
        target = Target(host: host, port: UInt16(port), base: base, token: options.token, pid: nil)
    } else {
        let (s, t) = try ServedReplica.start()
        server = s
        target = t
    }
    try Bench(options: options, target: target).run()
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    if let server, server.isRunning { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() }
    ServedReplica.stopFollower()
    exit(1)
}
if let server, server.isRunning { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() }
ServedReplica.stopFollower()
if let folder = target.folder, ProcessInfo.processInfo.environment["SCIM_BENCH_KEEP"] == nil {
    try? FileManager.default.removeItem(atPath: folder)
}
