import Foundation
import Replica
import Testing
@testable import Storage

/// The webhook outbox table: written in a local transaction, local to the file
/// (never synced), queued per directory, and purged only once finished.
@Suite struct OutboxTests {
    static func enqueue(_ s: ReplicaStore, _ directory: String, _ event: String = "user.created") throws -> Int64 {
        try s.write { tx in
            try tx.write(id: "u-\(UUID().uuidString)", kind: .user, ["a:userName": event])
            return try tx.enqueueEvent(directory: directory, event: event, body: Array("{\"event\":\"\(event)\"}".utf8))
        }
    }

    @Test func eventsQueuePerDirectoryInSeqOrder() throws {
        let s = try temporaryStore()
        defer { s.close() }
        #expect(try s.outbox.lastSeq() == 0)
        let a1 = try Self.enqueue(s, "dir-a"), b1 = try Self.enqueue(s, "dir-b"), a2 = try Self.enqueue(s, "dir-a")
        #expect(try a1 < b1 && b1 < a2 && s.outbox.lastSeq() == a2)
        #expect(try s.outbox.pendingRefs(after: 0, upTo: a2, limit: 10).map(\.directory) == ["dir-a", "dir-b", "dir-a"])
        #expect(try s.outbox.pendingRefs(after: a1, upTo: b1, limit: 10).map(\.seq) == [b1])
        #expect(try s.outbox.pending(directory: "dir-a", limit: 10).map(\.seq) == [a1, a2])
        let now = s.now()
        try s.outbox.recordFailedAttempt([a1], status: 503, error: "HTTP 503", at: now, nextAttempt: now + 5_000)
        let head = try #require(try s.outbox.pending(directory: "dir-a", limit: 1).first)
        #expect(head.seq == a1 && head.attempts == 1 && head.nextAttempt == now + 5_000 && head.lastStatus == 503)
        try s.outbox.recordDelivered([a1], status: 200, at: now + 5_000)
        #expect(try s.outbox.pending(directory: "dir-a", from: a1, limit: 10).map(\.seq) == [a2])
        #expect(try s.outbox.pendingRefs(after: 0, upTo: a2, limit: 10).map(\.seq) == [b1, a2])
        #expect(try s.outbox.counts() == { var c = OutboxCounts(); c.pending = 2; c.delivered = 1; return c }())
        #expect(try s.outbox.pendingCount() == 2)
        // Delivered once: a second report changes nothing; the body is not kept.
        try s.outbox.recordDelivered([a1], status: 200, at: now + 6_000)
        let delivered = try s.outbox.events(directory: "dir-a", limit: 10)[0]
        #expect(delivered.attempts == 2 && delivered.finished == now + 5_000 && delivered.body.isEmpty)
        #expect(try s.outbox.events(directory: "dir-a", limit: 10)[1].body == Array(#"{"event":"user.created"}"#.utf8))
        #expect(try s.outbox.events(directory: "dir-a", status: .pending, limit: 10).map(\.seq) == [a2])
        #expect(try s.outbox.directories(prefix: "dir-") == ["dir-a", "dir-b"])
    }

    @Test func housekeepingDeletesOnlyFinishedEvents() throws {
        let s = try temporaryStore()
        defer { s.close() }
        let old = try Self.enqueue(s, "d"), waiting = try Self.enqueue(s, "d"), dropped = try Self.enqueue(s, "e")
        try s.outbox.recordDelivered([old], status: 200, at: 1_000)
        #expect(try s.outbox.finishPending(directory: "e", status: .dropped, reason: "not sent", at: 2_000) == 1)
        #expect(try s.outbox.purge(finishedBefore: 1_500) == 1)
        #expect(try s.outbox.events(directory: "d", limit: 10).map(\.seq) == [waiting])
        // The newest event stays, finished or not, so seq numbers are never reused.
        #expect(try s.outbox.purge(finishedBefore: .max) == 0)
        #expect(try s.outbox.events(directory: "e", limit: 10).map(\.seq) == [dropped])
        let later = try Self.enqueue(s, "f")
        #expect(later > dropped)
        #expect(try s.outbox.purge(finishedBefore: .max) == 1, "the dropped one now; never the pending ones")
        #expect(try s.outbox.pendingCount() == 2)
    }

    @Test func theOutboxIsNeverSynced() throws {
        let a = try temporaryStore(), b = try temporaryStore()
        defer { a.close(); b.close() }
        _ = try Self.enqueue(a, "d")
        try pullAll(from: a, to: b)
        #expect(try b.digest() == a.digest())
        #expect(try b.outbox.pendingCount() == 0 && a.outbox.pendingCount() == 1)
    }

    @Test func aFileOfSchema4GainsAnEmptyOutbox() throws {
        let path = temporaryDirectory() + "/v4.sqlite"
        do {
            let s = try ReplicaStore(path: path)
            try s.write { try $0.write(id: "l1", kind: .link, ["tenant": "acme"]) }
            s.close()
        }
        #expect(shell("python3 -c \"import sqlite3; c=sqlite3.connect('\(path)'); c.execute('drop table outbox'); c.execute('pragma user_version=4'); c.commit()\"") == 0)
        let s = try ReplicaStore(path: path)
        defer { s.close() }
        #expect(try s.record(id: "l1")?["tenant"] == "acme")
        #expect(try s.outbox.pendingCount() == 0)
        _ = try Self.enqueue(s, "d")
        #expect(try s.outbox.pendingCount() == 1)
    }
}
