// webhook-bench: what webhooks cost and how fast they leave (issue 10).
// Run: swift run -c release webhook-bench [--creates N] [--events N] [--runs R] [--json] [--quick]
//
// Figures (medians of the runs):
//   scim_creates_per_s        SCIM user creates through ScimDirectory, one store.write each (with the
//                             directory read in the transaction, as the SCIM routes do), no outbox
//   scim_creates_outbox_per_s the same with the outbox sink in each write (the event built and enqueued)
//   enqueue_cost_us           the difference per write, in microseconds; overhead_percent its share
//   wal_frames_per_create     pages each create writes to the WAL at commit, without and with the
//                             outbox (deterministic: what the enqueue costs in I/O)
//   delivered_per_s[...]      events delivered from a full outbox to a local receiver that answers
//                             200 at once (libmicrohttpd, in this process), by case: directories
//                             (a directory's events go one request at a time, in order), batch size
// Each create run starts from two fresh replica files, one per variant, written in
// alternating chunks of 50 creates so a busy machine slows both alike.
import Foundation
import HTTP
import JSON
import Replica
import Scim
import SetupLinks
import Storage
import Synchronization
import Webhooks

struct Options {
    var creates = 3_000
    var events = 4_000
    var runs = 5
    var json = false
}

var options = Options()
var args = CommandLine.arguments.dropFirst()
func number(_ flag: String, _ value: String?, minimum: Int) -> Int {
    guard let v = value, let n = Int(v.replacingOccurrences(of: "_", with: "")), n >= minimum else {
        FileHandle.standardError.write(Data("error: \(flag) needs a number of at least \(minimum)\n".utf8))
        exit(2)
    }
    return n
}
while let a = args.popFirst() {
    switch a {
    case "--creates": options.creates = number(a, args.popFirst(), minimum: 10)
    case "--events": options.events = number(a, args.popFirst(), minimum: 10)
    case "--runs": options.runs = number(a, args.popFirst(), minimum: 1)
    case "--json": options.json = true
    case "--quick":
        options.creates = 200
        options.events = 300
        options.runs = 1
    case "-h", "--help":
        print("usage: webhook-bench [--creates N] [--events N] [--runs R] [--json] [--quick]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("error: unknown option \(a) (see: webhook-bench --help)\n".utf8))
        exit(2)
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

let folder = NSTemporaryDirectory() + "webhook-bench-" + UUID().uuidString
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: folder) }

// MARK: Enqueue cost

var plain: [Double] = [], withOutbox: [Double] = []
for run in 0..<options.runs {
    let r = try Workloads.scimCreates(options.creates, folder: folder + "/creates-\(run)")
    plain.append(r.plain)
    withOutbox.append(r.outbox)
}
let plainRate = median(plain), outboxRate = median(withOutbox)
let frames = try Workloads.walFrames(folder: folder)
let costMicroseconds = (1 / outboxRate - 1 / plainRate) * 1e6
let overhead = (1 - outboxRate / plainRate) * 100

// MARK: Delivery

let cases: [(directories: Int, batch: Int?)] = [(1, nil), (8, nil), (1, 10), (8, 100)]
let receiver = try BenchReceiver()
var delivered: [(name: String, rate: Double, requests: Int)] = []
for c in cases {
    var rates: [Double] = []
    var requests = 0
    for run in 0..<options.runs {
        let r = try Workloads.delivery(options.events, directories: c.directories, batch: c.batch, receiver: receiver,
                                       folder: folder + "/delivery-\(c.directories)-\(c.batch ?? 0)-\(run)")
        rates.append(r.perSecond)
        requests = r.requests
    }
    let name = "\(c.directories) director\(c.directories == 1 ? "y" : "ies"), " + (c.batch.map { "batch \($0)" } ?? "no batching")
    delivered.append((name, median(rates), requests))
}
receiver.stop()

if options.json {
    let rates: [(String, JSONValue)] = delivered.map { ($0.name, .double($0.rate.rounded())) }
    let requests: [(String, JSONValue)] = delivered.map { ($0.name, .int(Int64($0.requests))) }
    var o: [(String, JSONValue)] = [("creates", .int(Int64(options.creates))), ("events", .int(Int64(options.events))),
                                    ("runs", .int(Int64(options.runs)))]
    o.append(("scim_creates_per_s", .double(plainRate.rounded())))
    o.append(("scim_creates_outbox_per_s", .double(outboxRate.rounded())))
    o.append(("enqueue_cost_us", .double((costMicroseconds * 10).rounded() / 10)))
    o.append(("overhead_percent", .double((overhead * 10).rounded() / 10)))
    o.append(("wal_frames_per_create", .double((frames.plain * 100).rounded() / 100)))
    o.append(("wal_frames_per_create_outbox", .double((frames.outbox * 100).rounded() / 100)))
    o.append(("delivered_per_s", .object(rates)))
    o.append(("requests", .object(requests)))
    print(String(decoding: JSONWriter.write(.object(o)), as: UTF8.self))
} else {
    print("SCIM creates, one transaction each (\(options.creates) per run, median of \(options.runs)):")
    print(String(format: "  without outbox   %8.0f creates/s", plainRate))
    print(String(format: "  with outbox      %8.0f creates/s   (+%.1f µs per write, %.1f%% fewer)", outboxRate, costMicroseconds, overhead))
    print(String(format: "  WAL pages written per create: %.2f without, %.2f with the outbox", frames.plain, frames.outbox))
    print("Delivery of \(options.events) events from a full outbox to a local receiver answering 200 at once:")
    for d in delivered {
        print("  " + d.name.padding(toLength: 30, withPad: " ", startingAt: 0)
              + String(format: " %8.0f events/s  (%d requests)", d.rate, d.requests))
    }
}

/// Stops the benchmark with a message.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("webhook-bench: \(message)\n".utf8))
    exit(1)
}
