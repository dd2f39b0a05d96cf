import Foundation
import JSON
import TestSupport
import Testing

/// Keeps `webhook-bench` building and honest: a quick run succeeds (it checks
/// that every create enqueued its event and every event was delivered) and
/// reports every figure. Timing is never asserted here.
@Suite struct WebhookBenchSmokeTests {
    @Test func quickBenchmarkRunsAndReportsEveryFigure() throws {
        let p = Process()
        p.executableURL = productsDirectory().appendingPathComponent("webhook-bench")
        p.arguments = ["--quick", "--json"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(errors)")
        let figures = json(text.split(separator: "\n").last.map(String.init) ?? "{}")
        for name in ["scim_creates_per_s", "scim_creates_outbox_per_s", "wal_frames_per_create", "wal_frames_per_create_outbox"] {
            #expect((figures[name]?.doubleValue ?? 0) > 0, "\(name)")
        }
        #expect(figures["enqueue_cost_us"]?.doubleValue != nil && figures["overhead_percent"]?.doubleValue != nil)
        // The outbox costs pages: an enqueue is one more row in the change's transaction.
        #expect((figures["wal_frames_per_create_outbox"]?.doubleValue ?? 0) > (figures["wal_frames_per_create"]?.doubleValue ?? 0))
        guard case .object(let rates)? = figures["delivered_per_s"] else { Issue.record("no delivery figures"); return }
        #expect(rates.count == 4 && rates.allSatisfy { ($0.1.doubleValue ?? 0) > 0 })
        #expect(figures["requests"]?["1 directory, batch 10"]?.int64Value == 30, "300 events in arrays of 10")
    }
}
