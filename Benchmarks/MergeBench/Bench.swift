import Fixtures
import JSON
import Foundation
import Replica
import PeerSync
import SetupLinks
import Storage

/// A failed check: the benchmark refuses to report figures for work it did not do.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw BenchFailure(description: "check failed: " + message()) }
}

/// Seconds taken by `body`.
func time(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func label(_ n: Int) -> String {
    n >= 1_000_000 && n % 1_000_000 == 0 ? "\(n / 1_000_000)m" : n >= 1000 && n % 1000 == 0 ? "\(n / 1000)k" : "\(n)"
}

final class Bench {
    let options: Options
    var results: [(String, Double, String)] = []
    /// The floor of figure 3 per size, for figure 6's ratio in the same run.
    var floorRPS: [Int: Double] = [:]
    /// The replica-layout floor of figure 3 per size, likewise.
    var replicaFloorRPS: [Int: Double] = [:]
    /// Id plus canonical encoding, summed over the last persisted replica's records.
    var canonicalBytes = 0
    let dir = NSTemporaryDirectory() + "merge-bench-" + UUID().uuidString

    init(options: Options) { self.options = options }

    func report(_ name: String, _ value: Double, _ unit: String) {
        results.append((name, value, unit))
        if !options.json {
            let v = value >= 100 ? String(format: "%.0f", value) : String(format: "%.2f", value)
            print("\(name): \(v) \(unit)")
            fflush(nil)
        }
    }

    func runs(for n: Int) -> Int { n >= 1_000_000 ? min(options.runs, 3) : options.runs }

    func path(_ name: String) -> String { dir + "/" + name + "-" + UUID().uuidString + ".sqlite" }

    func run() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for n in options.sizes where !options.figures.isDisjoint(with: [1, 2, 3, 4]) {
            let records = Workload.records(n)
            if options.figures.contains(1) { try inMemory(records) }
            if options.figures.contains(2) { try conflicts(records) }
            if options.figures.contains(3) || options.figures.contains(4) { try persisted(records) }
        }
        if options.figures.contains(5) { try delta() }
        if options.figures.contains(6) || options.figures.contains(7) { try syncFigures() }
        if options.figures.contains(8) { try pageBreakdown() }
        if options.figures.contains(9) { try codecCosts() }
        if options.figures.contains(10) { try largeChanges() }
        if options.figures.contains(11) { try ruleCosts() }
        if options.figures.contains(12) { try cloneVersusSync() }
        if options.json { print(headlineJSON()) }
    }

    /// The JSON object: every figure under its sized name, plus the headline names
    /// the issue asks for (at N = 100k, 10k / 1M where the name says so), taken
    /// from the nearest size that ran when those did not (as with --quick).
    func headlineJSON() -> String {
        var values: [String: Double] = [:]
        for (name, value, _) in results { values[name] = value }
        func sized(_ base: String, prefer: String, fallbackLargest: Bool = true) -> Double? {
            if let v = values["\(base)_\(prefer)"] { return v }
            let candidates = results.filter { $0.0.hasPrefix(base + "_") }.map(\.1)
            return fallbackLargest ? candidates.last : candidates.first
        }
        var out: [(String, Double)] = []
        for base in ["inmemory_merge_rps", "conflict_merge_rps", "persisted_merge_rps", "sqlite_floor_rps",
                     "persisted_over_floor", "sqlite_replica_floor_rps", "persisted_over_replica_floor",
                     "redelivery_rps", "sync_rps", "sync_bytes_per_record"] {
            if let v = sized(base, prefer: "100k") { out.append((base, v)) }
        }
        let deltas = results.filter { $0.0.hasPrefix("delta_") }.map(\.1)
        if let v = values["delta_10k_ms"] ?? deltas.first { out.append(("delta_10k_ms", v)) }
        if let v = values["delta_1m_ms"] ?? deltas.last { out.append(("delta_1m_ms", v)) }
        let peaks = results.filter { $0.0.hasPrefix("sync_client_peak_rss_mib_") || $0.0.hasPrefix("sync_server_peak_rss_mib_") }
        let peak1m = peaks.filter { $0.0.hasSuffix("_1m") }.map(\.1).max() ?? peaks.map(\.1).max()
        if let v = peak1m { out.append(("sync_peak_rss_mib_1m", v)) }
        if let v = sized("noop_sync_ms", prefer: "1m") { out.append(("noop_sync_ms", v)) }
        if let v = sized("noop_sync_bytes", prefer: "1m") { out.append(("noop_sync_bytes", v)) }
        for (name, value, _) in results { out.append((name, value)) }
        var body = out.map { "\"\($0.0)\":\(($0.1 * 1000).rounded() / 1000)" }
        body.append("\"quick\":\(options.quick)")
        body.append("\"sizes\":[\(options.sizes.map(String.init).joined(separator: ","))]")
        return "{" + body.joined(separator: ",") + "}"
    }

    // 1. In-memory merge of N remote records into an empty replica.
    func inMemory(_ records: [Record]) throws {
        var times: [Double] = []
        for _ in 0..<runs(for: records.count) {
            var r = MemoryReplica()
            times.append(try time { try r.merge(records) })
            try check(r.records.count == records.count, "in-memory replica holds \(r.records.count) of \(records.count)")
        }
        report("inmemory_merge_rps_\(label(records.count))", Double(records.count) / median(times), "records/s")
    }

    // 2. Two replicas share N records; each overwrites the same 10% concurrently; merge one into the other.
    func conflicts(_ records: [Record]) throws {
        let n = records.count
        let mine = Workload.overwrite(records, by: Workload.origin, base: UInt64(n), salt: 1)
        let theirs = Workload.overwrite(records, by: Workload.rival, base: 0, salt: 2)
        var times: [Double] = []
        for _ in 0..<runs(for: n) {
            var r = MemoryReplica()
            try r.merge(mine)
            var summary = MergeSummary()
            times.append(try time { summary = try r.merge(theirs) })
            try check(summary.changed == (n + 9) / 10, "conflict merge changed \(summary.changed), expected \((n + 9) / 10)")
            try check(r.records[records[0].id]?.conflictCount == 1, "the overwritten token holds a conflict")
        }
        report("conflict_merge_rps_\(label(n))", Double(n) / median(times), "records/s")
    }

    // 3. Persisted merge into an SQLite replica vs the plain-insert floors; 4. re-delivery.
    //
    // The three are interleaved (their order rotates from run to run), each run gives
    // one ratio to each floor, and the ratios' median and spread are reported: the
    // disk's speed drifts over minutes, which separate series would mistake for a
    // difference between them.
    func persisted(_ records: [Record]) throws {
        let n = records.count
        // Both sides get the same pre-encoded records: the merge is timed from canonical bytes, as a sync delivers them.
        let encoded = records.map(EncodedRecord.init)
        let page = ChangePage(records: encoded, coverage: VectorClock([(Workload.origin, UInt64(n))]), more: false, base: VectorClock())
        let rows = try SQLiteFloor.rows(of: encoded, indexes: SetupLinkService.indexes)
        let keyCount = rows.reduce(0) { $0 + $1.keys.count }
        var merge: [Double] = [], floor: [Double] = [], replicaFloor: [Double] = [], again: [Double] = []
        var ratios: [Double] = [], replicaRatios: [Double] = []
        for run in 0..<max(runs(for: n), n >= 1_000_000 ? 3 : 7) {
            var m = 0.0, f = 0.0, rf = 0.0
            func floorRun() throws {
                let db = try SQLiteFloor(path: path("floor"))
                f = try time { try db.insert(rows) }
                try check(try db.count() == n, "floor table holds all rows")
            }
            func replicaFloorRun() throws {
                let db = try SQLiteFloor(path: path("floor"), layout: .replica)
                rf = try time { try db.insert(rows) }
                try check(try db.count() == n && db.keyCount() == keyCount, "replica floor holds all rows and keys")
            }
            func mergeRun() throws {
                let store = try SetupLinkService.openStore(path: path("merge"))
                var s = MergeSummary()
                m = try time { s = try store.apply(page) }
                try check(s.inserted == n, "persisted merge inserted \(s.inserted) of \(n)")
                var s2 = MergeSummary()
                again.append(try time { s2 = try store.apply(page) })
                try check(s2.changed == 0, "re-delivery changed \(s2.changed) records")
                let counts = try store.counts()
                try check(counts.links + counts.directories == n, "replica holds \(counts.links + counts.directories) of \(n)")
                store.close()
            }
            let order: [() throws -> Void] = [floorRun, replicaFloorRun, mergeRun]
            for k in 0..<3 { try order[(run + k) % 3]() }
            merge.append(m)
            floor.append(f)
            replicaFloor.append(rf)
            ratios.append(f / m)
            replicaRatios.append(rf / m)
        }
        let m = Double(n) / median(merge), fl = Double(n) / median(floor), r = Double(n) / median(again)
        let rfl = Double(n) / median(replicaFloor)
        report("persisted_merge_rps_\(label(n))", m, "records/s")
        report("sqlite_floor_rps_\(label(n))", fl, "records/s")
        report("persisted_over_floor_\(label(n))", median(ratios), "ratio")
        report("persisted_over_floor_min_\(label(n))", ratios.min()!, "ratio")
        report("persisted_over_floor_max_\(label(n))", ratios.max()!, "ratio")
        report("sqlite_replica_floor_rps_\(label(n))", rfl, "records/s")
        report("index_keys_per_record_\(label(n))", Double(keyCount) / Double(n), "keys")
        report("persisted_over_replica_floor_\(label(n))", median(replicaRatios), "ratio")
        report("persisted_over_replica_floor_min_\(label(n))", replicaRatios.min()!, "ratio")
        report("persisted_over_replica_floor_max_\(label(n))", replicaRatios.max()!, "ratio")
        report("redelivery_rps_\(label(n))", r, "records/s")
        report("redelivery_over_persisted_\(label(n))", r / m, "ratio")
        floorRPS[n] = fl
        replicaFloorRPS[n] = rfl
    }

    /// A persisted replica of `n` generated records, written in pages as a sync would.
    ///
    /// `MERGE_BENCH_KEEP=DIR`: the replica is kept in DIR and used again by a later run that asks
    /// for the same size and seed (a 10M one takes minutes to build); a kept one is not timed here.
    func persistedReplica(_ n: Int, seed: UInt64) throws -> String {
        var p = path("replica")
        var reuse = false, marker: String?
        if let keep = ProcessInfo.processInfo.environment["MERGE_BENCH_KEEP"] {
            try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            p = keep + "/replica-\(n)-seed\(seed).sqlite"
            let done = p + ".complete"
            if FileManager.default.fileExists(atPath: done) { reuse = true }
            if !reuse { for f in [p, p + "-wal", p + "-shm", done] { unlink(f) } }
            marker = done
        }
        if reuse {
            canonicalBytes = 0
            var start = 0
            while start < n {
                let end = min(n, start + 50_000)
                for r in Workload.records(end - start, seed: seed, offset: start) { canonicalBytes += r.id.utf8.count + r.encoded.count }
                start = end
            }
            return p
        }
        let store = try SetupLinkService.openStore(path: p)
        var start = 0
        canonicalBytes = 0
        while start < n {
            let end = min(n, start + 50_000)
            let records = Workload.records(end - start, seed: seed, offset: start)
            for r in records { canonicalBytes += r.id.utf8.count + r.encoded.count }
            try store.apply(ChangePage(records: records, coverage: VectorClock([(Workload.origin, UInt64(end))]),
                                       more: false, base: VectorClock([(Workload.origin, UInt64(start))])))
            start = end
        }
        store.close()
        if let marker { _ = FileManager.default.createFile(atPath: marker, contents: nil) }
        return p
    }

    func json(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    // 6. End-to-end sync over loopback of N records into an empty replica; 7. a no-op sync of 1M.
    func syncFigures() throws {
        let token = "bench-token"
        var sizes = options.quick ? [2_000] : options.sizes.contains(100_000) ? [100_000] : [options.sizes[0]]
        // Peak memory is judged at 1M: the default run adds it.
        if !options.quick && options.figures.contains(6) && options.sizes.count > 1 { sizes.append(1_000_000) }
        if !options.figures.contains(6) { sizes = options.quick ? [2_000] : [1_000_000] }
        for n in Array(Set(sizes)).sorted() {
            let serverDB = try persistedReplica(n, seed: 9)
            let server = try Child.spawn(["--role", "server", "--db", serverDB, "--token", token])
            let portLine = server.readLine()
            guard portLine.hasPrefix("port ") else { throw BenchFailure(description: "server did not start: \(portLine)") }
            let url = "http://127.0.0.1:\(portLine.dropFirst(5))"
            defer { kill(server.pid, SIGTERM) }
            let clientDB = path("client")
            var seconds: [Double] = []
            var last: [String: Any] = [:]
            var clientPeak = 0.0
            var clientCPU: [Double] = []
            var clientWritten: [Double] = []
            for run in 0..<(n >= 1_000_000 ? 1 : runs(for: n)) {
                let db = run == 0 ? clientDB : path("client")
                let client = try Child.spawn(["--role", "client", "--db", db, "--url", url, "--token", token,
                                              "--page-limit", ProcessInfo.processInfo.environment["MERGE_BENCH_PAGE"] ?? "1000",
                                              "--encoding", ProcessInfo.processInfo.environment["MERGE_BENCH_ENCODING"] ?? "binary"])
                last = json(client.readLine())
                let (status, _) = client.wait()
                let peak = last["peak_mib"] as? Double ?? -1
                try check(status == 0, "sync client failed")
                try check(last["records"] as? Int == n, "the client holds \(last["records"] ?? "?") of \(n) records")
                seconds.append(last["seconds"] as? Double ?? 0)
                clientCPU.append(last["cpu"] as? Double ?? 0)
                clientWritten.append(last["written"] as? Double ?? 0)
                clientPeak = max(clientPeak, peak)
            }
            let serverDigest = try SetupLinkService.openStore(path: serverDB).digest()
            try check(last["digest"] as? String == serverDigest, "the synced replica's digest differs from the server's")
            if options.figures.contains(6) {
                let rps = Double(n) / median(seconds)
                report("sync_rps_\(label(n))", rps, "records/s")
                if let fl = floorRPS[n] { report("sync_over_floor_\(label(n))", rps / fl, "ratio") }
                if let fl = replicaFloorRPS[n] { report("sync_over_replica_floor_\(label(n))", rps / fl, "ratio") }
                if let at100k = results.first(where: { $0.0 == "sync_rps_100k" })?.1, n > 100_000 {
                    report("sync_over_100k_\(label(n))", rps / at100k, "ratio")
                }
                let perRecord = Double(last["bytes"] as? Int ?? 0) / Double(n)
                report("sync_bytes_per_record_\(label(n))", perRecord, "bytes")
                report("canonical_bytes_per_record_\(label(n))", Double(canonicalBytes) / Double(n), "bytes")
                report("sync_bytes_over_canonical_\(label(n))", perRecord / (Double(canonicalBytes) / Double(n)), "ratio")
                report("sync_client_peak_rss_mib_\(label(n))", clientPeak, "MiB")
                // What the client's file writes cost: WAL frames and checkpoints, per record synced.
                report("sync_client_written_bytes_per_record_\(label(n))", median(clientWritten) / Double(n), "bytes")
            }
            if options.figures.contains(7) && (n >= 1_000_000 || options.quick) {
                // A no-op sync between two replicas that hold the same records.
                var times: [Double] = []
                var bytes = 0
                for _ in 0..<5 {
                    let client = try Child.spawn(["--role", "client", "--db", clientDB, "--url", url, "--token", token])
                    let r = json(client.readLine())
                    _ = client.wait()
                    try check(r["pulled"] as? Int == 0 && r["pushed"] as? Int == 0, "the no-op sync moved records")
                    times.append(r["seconds"] as? Double ?? 0)
                    bytes = r["bytes"] as? Int ?? 0
                }
                report("noop_sync_ms_\(label(n))", median(times) * 1000, "ms")
                report("noop_sync_bytes_\(label(n))", Double(bytes), "bytes")
            }
            kill(server.pid, SIGTERM)
            let finalLine = server.readLine().split(separator: " ")
            let serverPeak = finalLine.count >= 2 ? Double(finalLine[1]) ?? -1 : -1
            let serverCPU = finalLine.count >= 4 ? Double(finalLine[3]) ?? -1 : -1
            _ = server.wait()
            if options.figures.contains(6) {
                report("sync_server_peak_rss_mib_\(label(n))", serverPeak, "MiB")
                // Where the time goes: CPU per record synced on each side (the server's includes every run).
                report("sync_client_cpu_us_per_record_\(label(n))", median(clientCPU) / Double(n) * 1e6, "µs")
                report("sync_server_cpu_us_per_record_\(label(n))", serverCPU / Double(n * seconds.count) * 1e6, "µs")
            }
        }
    }

    // 12 (not in the default run): a new replica by `setuplink clone` (the hub's snapshot, then a
    // catch-up sync) against the same replica by a sync into an empty file, from one server,
    // interleaved, at each size of --records. Needs the release `setuplink` (--setuplink PATH,
    // else beside this binary).
    func cloneVersusSync() throws {
        var firstNewReplicaRate: Double?
        let token = "bench-token"
        let exe = CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let setuplink = options.setuplink ?? ((exe as NSString).deletingLastPathComponent + "/setuplink")
        try check(FileManager.default.isExecutableFile(atPath: setuplink), "no setuplink binary at \(setuplink) (give --setuplink PATH)")
        for n in options.sizes {
            let serverDB = try persistedReplica(n, seed: 9)
            let server = try Child.spawn(["--role", "server", "--db", serverDB, "--token", token])
            let portLine = server.readLine()
            guard portLine.hasPrefix("port ") else { throw BenchFailure(description: "server did not start: \(portLine)") }
            let url = "http://127.0.0.1:\(portLine.dropFirst(5))"
            defer { kill(server.pid, SIGTERM) }
            var syncSeconds: [Double] = [], cloneSeconds: [Double] = []
            var syncPeak = 0.0, clonePeak = 0.0, syncBytes = 0, cloneBytes = 0, snapshotBytes = 0
            var phases: [Double] = []
            // MERGE_BENCH_CLONE_ONLY=1: the clone alone at 10M and above (where the sync takes
            // minutes and is figure 6's).
            let cloneOnly = ProcessInfo.processInfo.environment["MERGE_BENCH_CLONE_ONLY"] != nil && n >= 10_000_000
            for _ in 0..<(n >= 1_000_000 ? 1 : min(runs(for: n), 3)) where !cloneOnly || syncSeconds.isEmpty {
                if cloneOnly { syncSeconds.append(.nan) } else {
                // A sync into an empty file (figure 6's client).
                // Peak RSS through /usr/bin/time: a child spawned from this (large) process would count its memory too.
                let rssFile = dir + "/rss-" + UUID().uuidString
                let client = try Child.spawn(["/usr/bin/time", "-f", "%M", "-o", rssFile, exe, "--role", "client", "--db", path("sync"),
                                              "--url", url, "--token", token], executable: "/usr/bin/time")
                let r = json(client.readLine())
                let (status, _) = client.wait()
                let peak = peakKiB(rssFile) / 1024
                try check(status == 0 && r["records"] as? Int == n, "the sync client failed or holds \(r["records"] ?? "?") of \(n)")
                syncSeconds.append(r["seconds"] as? Double ?? 0)
                syncPeak = max(syncPeak, peak)
                syncBytes = r["bytes"] as? Int ?? 0
                }
                // The same by clone, timed from outside: start, download, checks, catch-up sync, rename.
                let db = path("clone")
                let started = DispatchTime.now().uptimeNanoseconds
                let crss = dir + "/rss-" + UUID().uuidString
                let c = try Child.spawn(["/usr/bin/time", "-f", "%M", "-o", crss, setuplink, "--db", db, "--json", "clone", url, "--name", "hub"],
                                        executable: "/usr/bin/time", environment: ["SETUPLINK_TOKEN=\(token)"])
                let line = json(c.readLine())
                let (cstatus, _) = c.wait()
                let cpeak = peakKiB(crss) / 1024
                cloneSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
                try check(cstatus == 0, "setuplink clone failed")
                clonePeak = max(clonePeak, cpeak)
                snapshotBytes = line["snapshot_bytes"] as? Int ?? 0
                phases = [line["download_seconds"] as? Double ?? -1, line["check_seconds"] as? Double ?? -1, line["sync_seconds"] as? Double ?? -1]
                cloneBytes = line["bytes_received"] as? Int ?? 0
                let cloned = try SetupLinkService.openStore(path: db)
                let counts = try cloned.counts()
                // The clone's digest also hashes its own member record: compare the records instead.
                try check(counts.links + counts.directories == n, "the clone holds \(counts.links + counts.directories) of \(n) records")
                cloned.close()
            }
            report("clone_seconds_\(label(n))", median(cloneSeconds), "s")
            // A new replica's rate by the faster path at this size, and over the first size's.
            let newReplicaRate = Double(n) / [median(cloneSeconds), median(syncSeconds)].filter { !$0.isNaN }.min()!
            if firstNewReplicaRate == nil { firstNewReplicaRate = newReplicaRate }
            report("new_replica_records_per_s_\(label(n))", newReplicaRate, "records/s (clone or sync, the faster)")
            report("new_replica_rate_over_\(label(options.sizes[0]))_\(label(n))", newReplicaRate / firstNewReplicaRate!, "ratio")
            report("clone_sync_seconds_\(label(n))", median(syncSeconds), "s")
            report("clone_over_sync_speed_\(label(n))", median(syncSeconds) / median(cloneSeconds), "ratio")
            // The last clone's phases: download (the hub makes the copy, then sends it), check and new id, catch-up sync.
            report("clone_download_seconds_\(label(n))", phases[0], "s")
            report("clone_check_seconds_\(label(n))", phases[1], "s")
            report("clone_catch_up_seconds_\(label(n))", phases[2], "s")
            report("clone_snapshot_bytes_per_record_\(label(n))", Double(snapshotBytes) / Double(n), "bytes")
            report("clone_bytes_over_canonical_\(label(n))", Double(cloneBytes) / Double(canonicalBytes), "ratio")
            report("clone_sync_bytes_over_canonical_\(label(n))", Double(syncBytes) / Double(canonicalBytes), "ratio")
            report("clone_client_peak_rss_mib_\(label(n))", clonePeak, "MiB")
            report("clone_sync_client_peak_rss_mib_\(label(n))", syncPeak, "MiB")
            kill(server.pid, SIGTERM)
            let finalLine = server.readLine().split(separator: " ")
            report("clone_server_peak_rss_mib_\(label(n))", finalLine.count >= 2 ? Double(finalLine[1]) ?? -1 : -1, "MiB")
            _ = server.wait()
        }
    }

    /// The peak RSS in KiB `/usr/bin/time -f %M -o FILE` wrote.
    func peakKiB(_ file: String) -> Double {
        Double((try? String(contentsOfFile: file, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? "") ?? -1
    }

    // 8 (diagnostic, not in the default run): where a pull page's time goes on each side.
    func pageBreakdown() throws {
        let n = options.sizes[0]
        let store = try SetupLinkService.openStore(path: try persistedReplica(n, seed: 11))
        var clock = VectorClock()
        var t = (changes: 0.0, write: 0.0, decode: 0.0, apply: 0.0, pages: 0)
        let client = try SetupLinkService.openStore(path: path("breakdown-client"))
        let encoding = PageEncoding(rawValue: ProcessInfo.processInfo.environment["MERGE_BENCH_ENCODING"] ?? "binary") ?? .binary
        while true {
            var page: ChangePage?
            t.changes += try time { page = try store.changes(since: clock, limit: Int(ProcessInfo.processInfo.environment["MERGE_BENCH_PAGE"] ?? "") ?? 1000) }
            let message = PageMessage(sender: store.replicaID, clock: try store.clock(), purgeFloor: nil, page: page!)
            var bytes: [UInt8] = []
            t.write += try time { bytes = encoding == .binary ? BinaryPage.encode(message) : try WireFormat.encode(message) }
            var decoded: PageMessage?
            t.decode += try time { decoded = encoding == .binary ? try BinaryPage.decode(bytes) : try WireFormat.decodeMessage(bytes) }
            t.apply += try time { try client.apply([decoded!.page], from: PeerSender(replica: decoded!.sender, clock: decoded!.clock)) }
            clock = decoded!.page.advance(clock)
            t.pages += 1
            if !page!.more { break }
        }
        let per = { (x: Double) in x / Double(n) * 1e6 }
        report("page_changes_us_per_record", per(t.changes), "µs")
        report("page_write_us_per_record", per(t.write), "µs")
        report("page_decode_us_per_record", per(t.decode), "µs")
        report("page_apply_us_per_record", per(t.apply), "µs")
    }

    // 9 (diagnostic): the record codec's costs per record.
    func codecCosts() throws {
        let n = options.sizes[0]
        let encoded = Workload.records(n).map(EncodedRecord.init)
        let wanted = ["tenant", "product", "name", "token"].map { Array($0.utf8) }
        var sink = 0
        let facts = try time { for r in encoded { sink &+= try r.facts(winnersOf: wanted).dots.count } }
        let plain = try time { for r in encoded { sink &+= try r.facts().dots.count } }
        let decode = try time { for r in encoded { sink &+= try r.decoded().fields.count } }
        let keys = SQLiteFloor.keyTime(encoded.map(\.id))
        report("codec_facts_with_winners_ns_per_record", facts / Double(n) * 1e9, "ns")
        report("codec_facts_ns_per_record", plain / Double(n) * 1e9, "ns")
        report("codec_decode_ns_per_record", decode / Double(n) * 1e9, "ns")
        report("codec_id_key_ns_per_record", keys / Double(n) * 1e9, "ns")
        if sink == 42 { print("") }
    }

    // 5. Changes a peer lacks when it misses 1,000 records, for N = 10k and 1M.
    func delta() throws {
        let sizes = options.quick ? [2_000] : [10_000, 1_000_000]
        for n in sizes {
            let store = try SetupLinkService.openStore(path: try persistedReplica(n, seed: 7))
            let peer = VectorClock([(Workload.origin, UInt64(n - 1000))])
            var times: [Double] = []
            for _ in 0..<max(5, options.runs) {
                var page: ChangePage?
                times.append(try time { page = try store.changes(since: peer, limit: 5000) })
                try check(page?.records.count == 1000 && page?.more == false, "delta returned \(page?.records.count ?? -1) records")
            }
            report("delta_\(label(n))_ms", median(times) * 1000, "ms")
            store.close()
        }
    }
}
