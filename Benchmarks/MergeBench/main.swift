// merge-bench: measures merge and sync on generated setup-link and directory records.
// Run: swift run -c release merge-bench [--records N] [--quick] [--json] [--runs R]
import Foundation
import PeerSync
import Replica
import Storage

struct Options {
    var sizes = [10_000, 100_000, 1_000_000]
    var quick = false
    var json = false
    var runs = 5
    var setuplink: String?
    var figures: Set<Int> = [1, 2, 3, 4, 5, 6, 7]
}

var options = Options()
var args = CommandLine.arguments.dropFirst()
// The sync figures run the bench again as a server and a client process.
if args.first == "--role" {
    let a = Array(args)
    func value(_ flag: String) -> String { a.firstIndex(of: flag).map { a[$0 + 1] } ?? "" }
    switch a[1] {
    case "server": exit(Roles.server(db: value("--db"), token: value("--token")))
    default: exit(Roles.client(db: value("--db"), url: value("--url"), token: value("--token"), pageLimit: Int(value("--page-limit")) ?? 1000,
                               encoding: PageEncoding(rawValue: value("--encoding")) ?? .binary))
    }
}
while let a = args.popFirst() {
    switch a {
    case "--records":
        let sizes = (args.popFirst() ?? "").split(separator: ",").map { Int($0.replacingOccurrences(of: "_", with: "")) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 100 }) else {
            FileHandle.standardError.write(Data("error: --records needs numbers of at least 100 (N or N,M,…)\n".utf8))
            exit(2)
        }
        options.sizes = sizes.map { $0! }
    case "--quick": options.quick = true; options.sizes = [2_000]; options.runs = 1
    case "--json": options.json = true
    case "--runs":
        guard let v = args.popFirst(), let n = Int(v), n > 0 else {
            FileHandle.standardError.write(Data("error: --runs needs a positive number\n".utf8))
            exit(2)
        }
        options.runs = n
    case "--figures":
        guard let v = args.popFirst() else { exit(2) }
        options.figures = Set(v.split(separator: ",").compactMap { Int($0) })
    case "--setuplink":
        guard let v = args.popFirst() else { exit(2) }
        options.setuplink = v
    case "-h", "--help":
        print("usage: merge-bench [--records N[,M…]] [--quick] [--json] [--runs R] [--figures 1,2,…,12] [--setuplink PATH]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("error: unknown option \(a) (see: merge-bench --help)\n".utf8))
        exit(2)
    }
}

let bench = Bench(options: options)
do {
    try bench.run()
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
