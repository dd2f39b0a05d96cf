import Foundation
import Replica
@testable import Storage

/// A fresh temporary folder for one test.
func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "setuplink-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A fresh store in its own temporary folder.
func temporaryStore(_ name: String = "replica.sqlite") throws -> ReplicaStore {
    try ReplicaStore(path: temporaryDirectory() + "/" + name)
}

/// An index of links by their visible token, as the flows declare one.
let tokenIndex = IndexSpec.field("token", kind: .link, field: "token")

/// Pulls every page `from` has that `to` lacks, `limit` records at a time.
@discardableResult
func pullAll(from: ReplicaStore, to: ReplicaStore, limit: Int = 50) throws -> MergeSummary {
    var total = MergeSummary()
    while true {
        let page = try from.changes(since: try to.clock(), limit: limit)
        total = total + (try to.apply(page))
        if !page.more { return total }
    }
}

/// Runs a shell command; returns its exit status.
@discardableResult
func shell(_ command: String) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    try! p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
