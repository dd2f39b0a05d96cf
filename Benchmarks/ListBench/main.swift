// list-bench: how fast the REPL's lists answer on a large replica (issue 12.8).
// Run: swift run -c release list-bench [--links N] [--runs R] [--json] [--db PATH]
//
// Builds a replica of N setup links (tenants t0…t(N-1), each with one product out of
// ten) and one directory per 10 links, then times, through the console session the
// REPL uses (output discarded):
//   filtered_list_ms     `link list --tenant tK`: from the command to its last line
//   product_first_ms     `link list --product p3`: to the first line (one in ten links match)
//   first_row_ms         `link list`: to the header and the first rows
//   full_list_ms         `link list`: to the last of N rows
//   prefix_show_ms       `link show <8 hex digits>`: an abbreviated id resolved and shown
//   directory_filter_ms  `directory list --tenant tK`
// Every figure is the median of the runs; each run asks for a different tenant.
import Console
import Foundation
import Replica
import SetupLinks
import Storage

struct Options {
    var links = 100_000
    var runs = 15
    var json = false
    var db: String?
}

var options = Options()
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--links":
        guard let v = args.popFirst(), let n = Int(v.replacingOccurrences(of: "_", with: "")), n >= 100 else {
            FileHandle.standardError.write(Data("error: --links needs a number of at least 100\n".utf8))
            exit(2)
        }
        options.links = n
    case "--runs":
        guard let v = args.popFirst(), let n = Int(v), n > 0 else {
            FileHandle.standardError.write(Data("error: --runs needs a positive number\n".utf8))
            exit(2)
        }
        options.runs = n
    case "--json": options.json = true
    case "--db":
        guard let v = args.popFirst() else { exit(2) }
        options.db = v
    case "-h", "--help":
        print("usage: list-bench [--links N] [--runs R] [--json] [--db PATH (kept, reused when it holds N links)]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("error: unknown option \(a) (see: list-bench --help)\n".utf8))
        exit(2)
    }
}

/// Seconds since an arbitrary point, monotonic.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Records what a session prints: when the first and last lines came, and how many.
final class Timing: @unchecked Sendable {
    // @unchecked Sendable: written by the one thread that runs the session.
    var start = 0.0
    var first: Double?
    var last = 0.0
    var lines = 0
    /// Stop a list after its first page, as a person pressing q at `-- more --` does.
    var stopAfterFirst = false
    func reset() { start = now(); first = nil; last = 0; lines = 0 }
    func out(_ s: String) {
        let t = now()
        if first == nil { first = t }
        last = t
        lines += s.utf8.reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
}

func build(_ service: SetupLinkService, links: Int) throws {
    let batch = 5_000
    let till = "2031-01-01T00:00:00Z"
    var made = 0
    while made < links {
        let upTo = min(links, made + batch)
        try service.store.write { tx in
            for i in made..<upTo {
                let tenant = "t\(i)", product = "p\(i % 10)"
                let id = SetupLinkService.linkID(tenant: tenant, product: product)
                try tx.write(id: id, kind: .link, [
                    "tenant": tenant, "product": product, "webhook_url": "https://hooks.example.com/dsync/\(i)",
                    "webhook_secret": "secret-\(i)", "token": Secrets.linkToken(), "valid_till": till,
                    "expiry_days": "3", "service": "dsync", "name": "",
                ], revive: true)
                if i % 10 == 0 {
                    let d = Secrets.uuid()
                    try tx.write(id: d, kind: .directory, [
                        "name": "scim-\(tenant)-\(product)", "tenant": tenant, "product": product,
                        "webhook_url": "https://hooks.example.com/dsync/\(i)", "webhook_secret": "secret-\(i)",
                        "type": "okta-scim-v2", "scim_path": "/api/scim/v2.0/\(d)", "scim_token": Secrets.scimToken(),
                        "deactivated": "false", "link_id": id,
                    ], revive: true)
                }
            }
        }
        made = upTo
    }
}

do {
    let path = options.db ?? (NSTemporaryDirectory() + "list-bench-\(UUID().uuidString)/replica.sqlite")
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let store = try SetupLinkService.openStore(path: path)
    let service = try SetupLinkService(store: store)
    let have = try store.counts().links
    if have != options.links {
        guard have == 0 else {
            FileHandle.standardError.write(Data("error: \(path) holds \(have) links, not \(options.links)\n".utf8))
            exit(1)
        }
        let t0 = now()
        try build(service, links: options.links)
        FileHandle.standardError.write(Data(String(format: "built %d links in %.1f s\n", options.links, now() - t0).utf8))
    }
    let timing = Timing()
    let session = ConsoleSession(service: service, json: false, io: ConsoleIO(
        out: { timing.out($0) }, confirm: nil, interrupted: { timing.stopAfterFirst && timing.first != nil }))
    var figures: [(String, Double)] = []
    func measure(_ name: String, toFirst: Bool, expectLines: ((Int) -> Bool)? = nil, _ line: (Int) -> String) throws {
        timing.stopAfterFirst = toFirst
        defer { timing.stopAfterFirst = false }
        var samples: [Double] = []
        for run in 0..<options.runs {
            let command = line(run)
            timing.reset()
            guard session.run(line: command) == .ok else { throw ConsoleError.failed("\(command) failed") }
            if let expectLines, !expectLines(timing.lines) {
                throw ConsoleError.failed("\(command) printed \(timing.lines) lines")
            }
            let end = toFirst ? (timing.first ?? timing.last) : timing.last
            samples.append((end - timing.start) * 1000)
        }
        figures.append((name, median(samples)))
    }
    let n = options.links
    // Tenants spread over the whole key range (tK sorts by its digits, not its number).
    func tenant(_ run: Int) -> String { "t\((run * 7_919 + n / 2) % n)" }
    try measure("filtered_list_ms", toFirst: false, expectLines: { $0 == 2 }) { "link list --tenant \(tenant($0))" }
    try measure("product_first_ms", toFirst: true) { "link list --product p\($0 % 10)" }
    try measure("first_row_ms", toFirst: true) { _ in "link list" }
    var full = options
    full.runs = min(options.runs, 3)
    var fullSamples: [Double] = []
    for _ in 0..<full.runs {
        timing.reset()
        _ = session.run(line: "link list")
        guard timing.lines == n + 1 else { throw ConsoleError.failed("link list printed \(timing.lines) lines, not \(n + 1)") }
        fullSamples.append((timing.last - timing.start) * 1000)
    }
    figures.append(("full_list_ms", median(fullSamples)))
    try measure("prefix_show_ms", toFirst: false) { run in
        "link show " + SetupLinkService.linkID(tenant: tenant(run), product: "p\(((run * 7_919 + n / 2) % n) % 10)").prefix(8)
    }
    try measure("directory_filter_ms", toFirst: false) { run in "directory list --tenant t\((run * 10 * 7_919) % n / 10 * 10)" }
    store.close()
    if options.db == nil { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    if options.json {
        let body = figures.map { "\"\($0.0)\":\(String(format: "%.2f", $0.1))" }.joined(separator: ",")
        print("{\"links\":\(n),\"runs\":\(options.runs),\(body)}")
    } else {
        print("list-bench: \(n) links, \(n / 10) directories, median of \(options.runs) runs (full list: \(full.runs))")
        for (name, value) in figures {
            print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "%9.2f ms", value))
        }
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
