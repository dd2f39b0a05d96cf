import Foundation
import Replica
import Testing
@testable import Storage

/// Group commit (`writeBatch`): several local transactions in one SQLite
/// transaction, each exactly as if it had run alone in `write`.
@Suite struct ReplicaStoreBatchTests {
    struct Refused: Error {}

    @Test func eachBodyIsItsOwnTransactionAndAFailureRollsBackOnlyItself() throws {
        let store = try ReplicaStore(path: temporaryDirectory() + "/r.sqlite", indexes: [tokenIndex])
        defer { store.close() }
        try store.write { tx in try tx.write(id: "before", kind: .link, ["token": "t0"]) }
        let results = try store.writeBatch([
            { tx in try tx.write(id: "a", kind: .link, ["token": "ta"]).clock },
            { tx in
                try tx.write(id: "b", kind: .link, ["token": "tb"])
                try tx.write(id: "before", kind: .link, ["token": "changed"])
                throw Refused()
            },
            { tx in
                // Sees what the first body wrote, not what the failed one did.
                #expect(try tx.record("a") != nil && tx.record("b") == nil)
                #expect(try tx.record("before")?["token"] == "t0")
                return try tx.write(id: "a", kind: .link, ["token": "ta2"]).clock
            },
            { _ in VectorClock() },
        ])
        #expect(results.count == 4)
        let first = try results[0].get(), third = try results[2].get()
        #expect(throws: Refused.self) { try results[1].get() }
        // Own dots, in order: counters 2 and 3 (1 was the write before); the no-op took none.
        #expect(first[store.replicaID] == 2 && third[store.replicaID] == 3)
        #expect(try store.clock()[store.replicaID] == 3)
        #expect(try store.record(id: "b") == nil)
        #expect(try store.record(id: "before")?["token"] == "t0")
        #expect(try store.record(id: "a")?["token"] == "ta2")
        #expect(try store.lookup("token", key: "ta2").map(\.id) == ["a"])
        #expect(try store.lookup("token", key: "tb").isEmpty && store.lookup("token", key: "changed").isEmpty)
        // The state summary forgot the failed body's part (rolled back to its savepoint), kept the others'.
        #expect(try store.stateSummaryIsTrue() && store.counts().links == 2)
        // Later writes go on from there.
        try store.write { tx in try tx.write(id: "after", kind: .link, ["token": "t9"]) }
        #expect(try store.clock()[store.replicaID] == 4)
    }

    @Test func aLoneFailingBodyWritesNothing() throws {
        let store = try temporaryStore()
        defer { store.close() }
        let digest = try store.digest()
        let results = try store.writeBatch([{ tx in
            try tx.write(id: "x", kind: .link, ["token": "t"])
            throw Refused()
        }])
        #expect(throws: Refused.self) { try results[0].get() }
        #expect(try store.digest() == digest && store.clock().isEmpty)
        #expect(try store.stateSummaryIsTrue() && store.counts().links == 0, "the rolled-back write left nothing in the summary")
    }

    @Test func aBatchAndTheSameWritesOneByOneGiveTheSameRecords() throws {
        let a = try temporaryStore(), b = try temporaryStore()
        defer { a.close(); b.close() }
        let bodies: [(LocalTransaction) throws -> Void] = (0..<20).map { i in
            { tx in try tx.write(id: "r\(i % 7)", kind: .link, ["n": String(i)]) }
        }
        _ = try a.writeBatch(bodies)
        for body in bodies { try b.write(body) }
        for i in 0..<7 {
            let x = try #require(try a.record(id: "r\(i)")), y = try #require(try b.record(id: "r\(i)"))
            #expect(x.fields.map(\.register.value) == y.fields.map(\.register.value))
            #expect(x.clock.entries.map(\.counter) == y.clock.entries.map(\.counter))
        }
        #expect(try a.clock()[a.replicaID] == 20 && b.clock()[b.replicaID] == 20)
    }
}
