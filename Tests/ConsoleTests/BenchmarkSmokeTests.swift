import Foundation
import Testing

/// Keeps the merge benchmark building and honest: a quick run must succeed (it
/// checks that every merged and synced replica really holds the records) and
/// report every figure by name. Timing is never asserted here.
@Suite struct BenchmarkSmokeTests {
    @Test func quickBenchmarkRunsAndReportsEveryFigure() throws {
        let r = try runTool(["--quick", "--json"], product: "merge-bench")
        #expect(r.status == 0, "\(r.stderr)")
        let figures = json(r.lines.last ?? "")
        for name in ["inmemory_merge_rps", "conflict_merge_rps", "persisted_merge_rps", "sqlite_floor_rps",
                     "persisted_over_floor", "sqlite_replica_floor_rps", "persisted_over_replica_floor", "redelivery_rps", "delta_10k_ms", "delta_1m_ms", "sync_rps",
                     "sync_bytes_per_record", "sync_peak_rss_mib_1m", "noop_sync_ms", "noop_sync_bytes"] {
            let value = figures[name] as? Double ?? (figures[name] as? Int).map(Double.init)
            #expect(value != nil, "missing \(name)")
            #expect((value ?? 0) > 0, "\(name) is not positive")
        }
        #expect(figures["quick"] as? Bool == true)
    }

    @Test func badBenchmarkOptionsAreRefused() throws {
        let r = try runTool(["--records", "ten"], product: "merge-bench")
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("error: "))
    }
}
