import Foundation
import Testing
import Replica
@testable import Storage

/// Row numbers are the order a replica first stored its records, and readers hand them
/// out as positions (the change feed's cursors): a number once used is never given to
/// another record, even after the last row is purged, and across reopening the file.
@Suite struct RowNumberTests {
    func row(_ s: ReplicaStore, _ id: String) throws -> Int64? {
        try s.wrap { try s.db.scalar("SELECT rid FROM records WHERE id=?", .text(id))?.int }
    }

    func link(_ s: ReplicaStore, _ id: String) throws {
        try s.write { _ = try $0.write(id: id, kind: .link, ["token": "t-\(id)"]) }
    }

    @Test func theNumberOfAPurgedLastRowIsNeverGivenAgain() throws {
        let hub = try temporaryStore(), laptop = try temporaryStore()
        try exchange(laptop, with: hub)  // first contact writes the member records
        try link(hub, "a")
        try link(hub, "b")
        try exchange(laptop, with: hub)
        let hubB = try #require(try row(hub, "b")), laptopB = try #require(try row(laptop, "b"))
        for (s, b) in [(hub, hubB), (laptop, laptopB)] {
            #expect(b == (try s.wrap { try s.db.scalar("SELECT max(rid) FROM records")?.int }), "b is the last row")
        }
        // b is deleted, and purged on both once both hold the delete.
        try hub.write { try $0.delete(id: "b") }
        for _ in 0..<2 { try exchange(laptop, with: hub) }
        #expect(try row(hub, "b") == nil && row(laptop, "b") == nil, "purged")
        // A local write on the hub, and a merged one on the laptop, take numbers above b's.
        try link(hub, "c")
        #expect(try #require(try row(hub, "c")) > hubB)
        try exchange(laptop, with: hub)
        #expect(try #require(try row(laptop, "c")) > laptopB)
        // And the floor holds after the file is closed and opened again.
        let hubC = try #require(try row(hub, "c"))
        try hub.write { try $0.delete(id: "c") }
        for _ in 0..<2 { try exchange(laptop, with: hub) }
        #expect(try row(hub, "c") == nil, "purged")
        let reopened = try ReplicaStore(path: hub.path)
        try link(reopened, "d")
        #expect(try #require(try row(reopened, "d")) > hubC, "d took a number above every one used before")
    }
}
