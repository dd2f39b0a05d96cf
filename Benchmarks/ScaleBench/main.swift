// scale-bench: what a hub and a replica cost as the replica grows (issue 28's scale table).
// Run: swift build -c release --product setuplink && swift build -c release --product scale-bench &&
//      .build/release/scale-bench [--records 100000,1000000,10000000] [--dir DIR] [--keep] [--json]
//
// For each size N it builds, in this process, a hub replica of about N records the way a hub
// makes them (ReplicaBuilder: setup links, directories opened through them, users and groups
// written by Scim's flows with their event records), then measures the release `setuplink`
// beside the bench on it, as a user meets it: starting `serve`, `status`, `link list --tenant`,
// a `/setup/<token>` page, SCIM `userName eq`, a clone, a no-op sync, 1,000 SCIM creates by 8
// clients and the sync that brings them to the clone. Every answer is checked (a lookup must
// find its user, a create must answer 201, a sync must pull what was made), or the bench fails.
//
// `--dir DIR` keeps the built replicas there (`replica-N.sqlite` and `replica-N.tenants`);
// with `--keep` they are left for a later run, which measures them again without building.
import BenchSupport
import Foundation
import Glibc

var sizes = [100_000, 1_000_000, 10_000_000]
var dir: String?
var keep = false
var json = false
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--records":
        let parsed = (args.popFirst() ?? "").split(separator: ",").map { Int($0.replacingOccurrences(of: "_", with: "")) }
        guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) >= 2_422 }) else {
            FileHandle.standardError.write(Data("error: --records needs numbers of at least 2422 (one tenant): N or N,M,…\n".utf8))
            exit(2)
        }
        sizes = parsed.map { $0! }
    case "--dir":
        guard let v = args.popFirst() else {
            FileHandle.standardError.write(Data("error: --dir needs a folder\n".utf8))
            exit(2)
        }
        dir = v
    case "--keep": keep = true
    case "--json": json = true
    case "-h", "--help":
        print("usage: scale-bench [--records N[,M…]] [--dir DIR] [--keep] [--json]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("error: unknown option \(a) (see: scale-bench --help)\n".utf8))
        exit(2)
    }
}
if keep && dir == nil {
    FileHandle.standardError.write(Data("error: --keep needs --dir DIR (where the replicas stay)\n".utf8))
    exit(2)
}

let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("setuplink").path
guard FileManager.default.isExecutableFile(atPath: binary) else {
    FileHandle.standardError.write(Data("error: no setuplink at \(binary): build it first (swift build -c release --product setuplink)\n".utf8))
    exit(1)
}
let folder = dir ?? (NSTemporaryDirectory() + "scale-bench-" + UUID().uuidString)
do {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var results: [(Int, [(String, Double, String)])] = []
    for n in sizes {
        let db = folder + "/replica-\(n).sqlite", tenantsFile = folder + "/replica-\(n).tenants"
        let tenants: [Tenant]
        if FileManager.default.fileExists(atPath: db), FileManager.default.fileExists(atPath: tenantsFile) {
            tenants = try ReplicaBuilder.load(from: tenantsFile)
            note("measuring the replica of \(n) records kept in \(db)")
        } else {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
            let t0 = now()
            tenants = try ReplicaBuilder.build(path: db, records: n)
            try ReplicaBuilder.save(tenants, to: tenantsFile)
            note("built \(db) in \(Int(now() - t0)) s")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: db)[.size] as? Int) ?? 0
        var m = Measurement(binary: binary, db: db, folder: folder, tenants: tenants)
        m.figures.add("records", Double(tenants.count * ReplicaBuilder.recordsPerTenant), "records (\(tenants.count) tenants)")
        m.figures.add("file_mib", Double(size) / 1_048_576, "MiB")
        try m.all(records: tenants.count * ReplicaBuilder.recordsPerTenant)
        results.append((n, m.figures.all))
        if !keep {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
            try? FileManager.default.removeItem(atPath: tenantsFile)
        }
    }
    if !keep && dir == nil { try? FileManager.default.removeItem(atPath: folder) }
    // One table: a row per figure, a column per size.
    let names = results.first?.1.map(\.0) ?? []
    if json {
        var parts: [String] = []
        for (n, figures) in results {
            for (name, value, _) in figures { parts.append("\"\(name)_\(n)\":\(String(format: "%.3f", value))") }
        }
        print("{" + parts.joined(separator: ",") + "}")
    } else {
        print("figure" + results.map { "\t\($0.0)" }.joined())
        for (i, name) in names.enumerated() {
            print(name + results.map { "\t" + String(format: "%.2f", $0.1[i].1) }.joined())
        }
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
