import Foundation
import Replica
import Testing
@testable import Storage

/// No change is too big to sync (Contract.md §2): a change larger than a page crosses in as
/// many pages as it needs, and lands all or nothing (Storage.docc/LargeChanges.md).
@Suite struct LargeChangeTests {
    /// A store whose one local transaction wrote `count` records, then one more transaction.
    static func storeWithOneLargeChange(_ count: Int, value: String = "1") throws -> ReplicaStore {
        let a = try temporaryStore()
        try a.write { tx in
            for i in 0..<count { try tx.write(id: "m\(i)", kind: .membership, ["present": value, "group": "g"]) }
        }
        try a.write { tx in try tx.write(id: "after", kind: .link, ["token": "x"]) }
        return a
    }

    @Test func aChangeLargerThanAPageCrossesInPartsAndLandsAllOrNothing() throws {
        let a = try Self.storeWithOneLargeChange(500)
        let b = try temporaryStore()
        var since = try b.clock(), cursor: PageCursor?, pages = 0, parts = 0
        while true {
            let page = try a.changes(since: since, limit: 50, wholeChange: 50, cursor: cursor)
            pages += 1
            #expect(page.records.count <= 50)
            try b.apply(page)
            let live = try b.records(kind: .membership).count
            if page.partial != nil {
                parts += 1
                #expect(live == 0, "part of a change is never visible on its own")
                #expect(try b.stagedCount(session: "from:local") > 0)
            }
            #expect(live == 0 || live == 500)
            since = page.advance(since)
            cursor = page.partial?.cursor
            if !page.more { break }
        }
        #expect(parts >= 9 && pages >= 10)
        #expect(try b.records(kind: .membership).count == 500)
        #expect(try b.stagedCount(session: "from:local") == 0)
        #expect(try b.digest() == a.digest())
    }

    @Test func aChangeOverTheRecordLimitGoesWholeWhenItIsNotTooLarge() throws {
        let a = try Self.storeWithOneLargeChange(500)
        let page = try a.changes(since: VectorClock(), limit: 50)
        #expect(page.partial == nil && page.records.count == 500, "one page, past the limit, as before")
        let split = try a.changes(since: VectorClock(), limit: 50, wholeChange: 499)
        #expect(split.partial?.records == 50)
    }

    @Test func pagesAreCutByBytesToo() throws {
        let big = String(repeating: "x", count: 3000)
        let a = try Self.storeWithOneLargeChange(40, value: big)
        let b = try temporaryStore()
        var since = try b.clock(), cursor: PageCursor?, pages = 0
        while true {
            let page = try a.changes(since: since, limit: 1000, maxBytes: 20_000, cursor: cursor)
            pages += 1
            // Past its first record, a page holds at most maxBytes.
            let bytes = page.records.dropFirst().reduce(0) { $0 + $1.bytes.count + $1.id.utf8.count }
            #expect(bytes <= 20_000)
            try b.apply(page)
            since = page.advance(since)
            cursor = page.partial?.cursor
            if !page.more { break }
        }
        #expect(pages >= 6)
        #expect(try b.digest() == a.digest())
    }

    @Test func aPullCutOffInsideAChangeStartsItAgainAndAppliesItOnce() throws {
        let a = try Self.storeWithOneLargeChange(300)
        let b = try temporaryStore()
        // Two parts arrive, then the exchange is cut off.
        var since = try b.clock(), cursor: PageCursor?
        for _ in 0..<2 {
            let page = try a.changes(since: since, limit: 50, wholeChange: 50, cursor: cursor)
            try b.apply(pulled: [(page, try a.clock())], from: a.replicaID)
            since = page.advance(since)
            cursor = page.partial?.cursor
        }
        #expect(try b.records(kind: .membership).isEmpty)
        // The next pull drops what was kept aside and starts the change from its first record.
        try b.dropStaged(session: ReplicaStore.pullSession(a.replicaID))
        since = try b.clock()
        cursor = nil
        var summary = MergeSummary()
        while true {
            let page = try a.changes(since: since, limit: 50, wholeChange: 50, cursor: cursor)
            summary = summary + (try b.apply(pulled: [(page, try a.clock())], from: a.replicaID))
            since = page.advance(since)
            cursor = page.partial?.cursor
            if !page.more { break }
        }
        #expect(summary.inserted == 301)
        #expect(try b.digest() == a.digest())
    }

    @Test func aPageThatDoesNotContinueAChangeDropsWhatWasKeptAside() throws {
        let a = try Self.storeWithOneLargeChange(120)
        let b = try temporaryStore()
        let first = try a.changes(since: try b.clock(), limit: 50, wholeChange: 50)
        #expect(first.partial != nil)
        try b.apply(first)
        #expect(try b.stagedCount(session: "from:local") == 50)
        // A page from a fresh start (no cursor) carries the change's first part again: kept once.
        try b.apply(try a.changes(since: try b.clock(), limit: 50, wholeChange: 50))
        #expect(try b.stagedCount(session: "from:local") == 50)
        #expect(try b.records(kind: .membership).isEmpty)
    }
}
