import Foundation
import Replica
import Testing
@testable import Storage

/// Range scans with an offset (SCIM's `startIndex`) and with cursors over an index
/// whose entries share one key (all the users of a directory do).
@Suite struct IndexScanOffsetTests {
    /// Links by owner: every link of `o1` has the key `o1␀`.
    static let byOwner = IndexSpec(name: "owner", kind: .link, fields: ["owner"]) { v in
        v[0].map { [$0 + IndexSpec.separator] } ?? []
    }

    static func store() throws -> ReplicaStore {
        let s = try ReplicaStore(path: temporaryDirectory() + "/r.sqlite", indexes: [byOwner])
        try s.write { tx in
            for i in 0..<60 { try tx.write(id: String(format: "l%03d", i), kind: .link, ["owner": i % 3 == 0 ? "o0" : "o1"]) }
        }
        return s
    }

    @Test func anOffsetSkipsThatManyEntriesInKeyAndRowOrder() throws {
        let s = try Self.store()
        defer { s.close() }
        let all = try s.scan("owner", prefix: "o1" + IndexSpec.separator, limit: 1000).map(\.record.id)
        #expect(all.count == 40)
        for offset in [0, 1, 17, 39] {
            let page = try s.scan("owner", prefix: "o1" + IndexSpec.separator, offset: offset, limit: 5).map(\.record.id)
            #expect(page == Array(all[offset..<min(40, offset + 5)]))
        }
        #expect(try s.scan("owner", prefix: "o1" + IndexSpec.separator, offset: 40, limit: 5).isEmpty)
        #expect(try s.count("owner", prefix: "o0" + IndexSpec.separator) == 20)
    }

    @Test func cursorsContinueExactlyAndOneFromBeforeTheRangeStartsIt() throws {
        let s = try Self.store()
        defer { s.close() }
        let prefix = "o1" + IndexSpec.separator
        var seen: [String] = []
        var cursor: IndexCursor?
        repeat {
            let page = try s.scan("owner", prefix: prefix, after: cursor, limit: 7)
            seen += page.map(\.record.id)
            cursor = page.count == 7 ? page.last?.cursor : nil
        } while cursor != nil
        #expect(seen == (try s.scan("owner", prefix: prefix, limit: 1000).map(\.record.id)))
        // A cursor and an offset together: skip after the cursor.
        let first = try s.scan("owner", prefix: prefix, limit: 3)
        let skipped = try s.scan("owner", prefix: prefix, after: first.last?.cursor, offset: 2, limit: 2).map(\.record.id)
        #expect(skipped == Array(seen[5..<7]))
        // A cursor of another owner that sorts before this range does not reach below it.
        let o0 = try s.scan("owner", prefix: "o0" + IndexSpec.separator, limit: 1)
        #expect(try s.scan("owner", prefix: prefix, after: o0.last?.cursor, limit: 2).map(\.record.id) == Array(seen[0..<2]))
    }

    @Test func idPrefixesOfAnyBytesAnswerWithoutTrapping() throws {
        let s = try Self.store()
        defer { s.close() }
        #expect(try s.ids(kind: .link, prefix: "", limit: 100).count == 60)
        #expect(try s.ids(kind: .link, prefix: "l00", limit: 100).count == 10)
        for prefix in ["é", "\u{10FFFF}", "ÿÿÿÿ", "zzzz"] { #expect(try s.ids(kind: .link, prefix: prefix, limit: 10).isEmpty) }
    }
}
