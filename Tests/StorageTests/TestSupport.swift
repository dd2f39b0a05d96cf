import Foundation
import Replica
@testable import Storage
import TestSupport

/// A fresh temporary folder for one test.
func temporaryDirectory() -> String {
    testFolder("storage")
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
    var cursor: PageCursor?
    while true {
        let page = try from.changes(since: try to.clock(), limit: limit, cursor: cursor)
        total = total + (try to.apply(page))
        cursor = page.partial?.cursor
        if !page.more { return total }
    }
}

/// One sync of `client` with `server` through the store-level steps the peer
/// protocol runs (`servePull`, `apply(pulled:)`, `finishPull`, `introduce`,
/// `receivePush`, `finishSync`), without HTTP: pull everything, then push everything.
func exchange(_ client: ReplicaStore, with server: ReplicaStore, limit: Int = 50) throws {
    var position = try client.clock()
    let floor = try client.purgeFloor()
    var serverFloor = VectorClock()
    var cursor: PageCursor?
    while true {
        try server.servePull(client: client.replicaID, position: position, applied: try client.clock(), clientFloor: floor)
        let serverClock = try server.clock()
        let page = try server.changes(since: position, limit: limit, cursor: cursor)
        serverFloor = try server.purgeFloor()
        try client.apply(pulled: [(page, serverClock)], from: server.replicaID)
        position = page.advance(position)
        cursor = page.partial?.cursor
        if !page.more { break }
    }
    try client.finishPull(from: server.replicaID, peerFloor: serverFloor)
    try client.introduce(peer: server.replicaID)
    var since = try server.clock()
    cursor = nil
    while true {
        let applied = try client.clock()
        let page = try client.changes(since: since, limit: limit, cursor: cursor)
        let reached = page.advance(since)
        if page.records.isEmpty && reached == since { break }
        try server.receivePush(client: client.replicaID, applied: applied, clientFloor: try client.purgeFloor(), page: page)
        since = try server.clock().merged(with: reached)
        cursor = page.partial?.cursor
        if !page.more { break }
    }
    try client.finishSync(with: server.replicaID, peerApplied: try server.clock())
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
