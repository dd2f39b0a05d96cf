import Foundation
import Testing
import Replica
@testable import Storage

/// What a backup keeps of the hub's local settings: its configuration, never its secrets.
@Suite struct BackupTests {
    @Test func aCopyKeepsTheSettingsButNotTheHubsSecrets() throws {
        let store = try temporaryStore()
        try store.settings.set("default-expiry-days", to: "7")
        try store.settings.set("serve-token", to: "secret-peer-token")
        try store.settings.set("google.refresh-token.dir-1", to: "1//refresh-secret")
        try store.settings.set("google.held", to: "dir-1")
        try store.write { _ = try $0.write(id: "x", kind: .link, ["token": "t"]) }
        let source = store.path
        store.close()
        let copy = (source as NSString).deletingLastPathComponent + "/copy.sqlite"
        let report = try ReplicaStore.backup(from: source, to: copy)
        let c = try ReplicaStore(path: copy)
        defer { c.close() }
        #expect(c.replicaID == report.replica && c.replicaID != report.source)
        #expect(try c.record(id: "x") != nil)
        #expect(try c.settings.value("default-expiry-days") == "7")
        #expect(try c.settings.value("serve-token") == nil)
        #expect(try c.settings.value("google.refresh-token.dir-1") == nil, "a Google refresh token never leaves the hub that received it")
        #expect(try c.settings.value("google.held") == nil)
    }
}

/// `setuplink clone`'s side of a snapshot: its own id, checked input, the resync decision.
@Suite struct SnapshotAdoptionTests {
    /// A snapshot as a hub makes it (a backup), and two byte-equal downloads of it.
    func twoDownloads() throws -> (hub: ReplicaID, snapshot: ReplicaID, paths: [String]) {
        let store = try temporaryStore()
        try store.settings.set("serve-token", to: "secret-peer-token")
        try store.write { _ = try $0.write(id: "x", kind: .link, ["token": "t"]) }
        let source = store.path, hub = store.replicaID
        store.close()
        let folder = (source as NSString).deletingLastPathComponent
        let report = try ReplicaStore.backup(from: source, to: folder + "/snapshot.sqlite")
        let data = try #require(FileManager.default.contents(atPath: report.path))
        let paths = [folder + "/a.partial", folder + "/b.partial"]
        for p in paths { _ = FileManager.default.createFile(atPath: p, contents: data) }
        return (hub, report.replica, paths)
    }

    @Test func twoClonesOfOneSnapshotGetTheirOwnIDs() throws {
        let (hub, snapshot, paths) = try twoDownloads()
        let a = try ReplicaStore.adoptSnapshot(at: paths[0], indexes: []), b = try ReplicaStore.adoptSnapshot(at: paths[1], indexes: [])
        #expect(a.replica != b.replica)
        #expect(![hub, snapshot].contains(a.replica) && ![hub, snapshot].contains(b.replica))
        #expect(a.source == hub && b.source == hub, "backup_of names the hub, not the hub's copy")
        let c = try ReplicaStore(path: paths[0])
        defer { c.close() }
        #expect(c.replicaID == a.replica)
        #expect(try c.record(id: "x") != nil)
        #expect(try c.settings.value("serve-token") == nil)
        #expect(try !c.resyncDue(), "the catch-up sync decides")
    }

    /// The counts and sum a hub's file carries are not believed: adoption computes them again.
    @Test func aSnapshotsStateSummaryIsComputedAgain() throws {
        let (_, _, paths) = try twoDownloads()
        let lie = try ReplicaStore(path: paths[0])
        let honest = try lie.digest()
        try lie.db.exec("UPDATE state_sums SET live = live + 1000, acc = NULL")
        #expect(try !lie.stateSummaryIsTrue() && lie.digest() != honest)
        lie.close()
        _ = try ReplicaStore.adoptSnapshot(at: paths[0], indexes: [])
        let c = try ReplicaStore(path: paths[0])
        defer { c.close() }
        #expect(try c.stateSummaryIsTrue())
        #expect(try c.counts().links == 1)
    }

    /// The lies a hub could tell in what derives from its records, one at a time.
    enum Lie: String, CaseIterable {
        case none
        /// Token t5's key points at l6's row.
        case keyPointsElsewhere
        /// One key more than the records imply.
        case extraKey
        /// l7's id key is not its id's.
        case wrongIDKey
        /// l8 lost its dots.
        case missingDots
        /// l9's id key is a blob of its digits: it reads as the key, but no lookup finds it.
        case idKeyAsBlob
        /// The keys B-tree is kept in descending order while its definition says ascending:
        /// `quick_check` passes it, and a lookup by key finds nothing.
        case keysOutOfOrder
        /// The same of the dots B-tree.
        case dotsOutOfOrder
        /// The same of the id index: a lookup by id finds nothing.
        case idIndexOutOfOrder
        /// The summary counts a thousand links more.
        case summary

        /// Rebuilds `table` (or the index records_idk) with its key in descending order, then
        /// puts back the ascending definition: the B-tree no longer agrees with its definition.
        static func reverse(_ db: SQLiteConnection, table: String) throws {
            let definition = try #require(try db.scalar("SELECT sql FROM sqlite_master WHERE name=?", .text(table))?.text)
            if table == "records_idk" {
                try db.exec("DROP INDEX records_idk; CREATE INDEX records_idk ON records(idk DESC)")
            } else {
                let columns = table == "dots" ? "rix, counter DESC, rid" : "ix, key DESC, rid"
                let types = table == "dots" ? "rix INTEGER NOT NULL, counter INTEGER NOT NULL, rid INTEGER NOT NULL"
                                            : "ix INTEGER NOT NULL, key BLOB NOT NULL, rid INTEGER NOT NULL"
                try db.exec("""
                    CREATE TABLE reversed(\(types), PRIMARY KEY(\(columns))) WITHOUT ROWID;
                    INSERT INTO reversed SELECT * FROM \(table);
                    DROP TABLE \(table);
                    ALTER TABLE reversed RENAME TO \(table);
                    """)
            }
            try db.exec("PRAGMA writable_schema=ON")
            try db.run("UPDATE sqlite_master SET sql=? WHERE name=?", .text(definition), .text(table))
            try db.exec("PRAGMA writable_schema=OFF")
        }
    }

    /// A hub that lies in what derives from its records (the id index's keys, the secondary
    /// keys, the dots index, SQLite's own indexes, the summary) changes nothing: adoption checks
    /// them against the records and builds them again where they differ. A truthful snapshot's
    /// are checked and kept.
    @Test(arguments: Lie.allCases) func whatDerivesFromTheRecordsIsCheckedOrComputedAgain(_ lie: Lie) throws {
        let folder = temporaryDirectory()
        let hubPath = folder + "/hub.sqlite"
        let hub = try ReplicaStore(path: hubPath, indexes: [tokenIndex])
        try hub.write { tx in
            for i in 0..<40 { try tx.write(id: "l\(i)", kind: .link, ["token": "t\(i)"]) }
        }
        try hub.write { try $0.delete(id: "l3") }
        let honestDigest = try hub.digest()
        hub.close()
        let report = try ReplicaStore.backup(from: hubPath, to: folder + "/snapshot.sqlite")
        let liar = try SQLiteConnection(path: report.path)
        let rid6 = try #require(try liar.scalar("SELECT rid FROM records WHERE id='l6'")?.int)
        let rid8 = try #require(try liar.scalar("SELECT rid FROM records WHERE id='l8'")?.int)
        switch lie {
        case .none: break
        case .keyPointsElsewhere: try liar.run("UPDATE keys SET rid=? WHERE key=CAST('t5' AS BLOB)", .int(rid6))
        case .extraKey: try liar.run("INSERT INTO keys(ix, key, rid) VALUES (0, CAST('t6-again' AS BLOB), ?)", .int(rid6))
        case .wrongIDKey: try liar.run("UPDATE records SET idk=idk+1 WHERE id='l7'")
        case .missingDots: try liar.run("DELETE FROM dots WHERE rid=?", .int(rid8))
        case .idKeyAsBlob: try liar.exec("UPDATE records SET idk=CAST(CAST(idk AS TEXT) AS BLOB) WHERE id='l9'")
        case .keysOutOfOrder: try Lie.reverse(liar, table: "keys")
        case .dotsOutOfOrder: try Lie.reverse(liar, table: "dots")
        case .idIndexOutOfOrder: try Lie.reverse(liar, table: "records_idk")
        case .summary: try liar.exec("UPDATE state_sums SET live = live + 1000")
        }
        liar.close()
        let adopted = try ReplicaStore.adoptSnapshot(at: report.path, indexes: [tokenIndex])
        let expected: DerivedData = [.none, .summary].contains(lie) ? .checked : .rebuilt
        #expect(adopted.derived == expected, "\(lie)")
        let c = try ReplicaStore(path: report.path, indexes: [tokenIndex])
        defer { c.close() }
        for i in 0..<40 where i != 3 {
            #expect(try c.lookup("token", key: "t\(i)").map(\.id) == ["l\(i)"], "\(lie): t\(i)")
            #expect(try c.record(id: "l\(i)")?["token"] == "t\(i)", "\(lie): l\(i) found by its id")
        }
        #expect(try c.lookup("token", key: "t6-again").isEmpty)
        #expect(try c.record(id: "l3")?.isDeleted == true)
        #expect(try c.stateSummaryIsTrue() && c.counts().links == 39)
        #expect(try c.digest() == honestDigest, "the hub's records and clock: the hub's digest")
        #expect(try c.db.scalar("PRAGMA integrity_check")?.text == "ok")
        // What a peer lacks is read from the dots: an empty replica lacks all 40 records, l8 included.
        let empty = try temporaryStore("empty-\(lie).sqlite")
        defer { empty.close() }
        _ = try pullAll(from: c, to: empty)
        #expect(try empty.record(id: "l8")?["token"] == "t8")
        #expect(try empty.counts().links == 39)
    }

    /// A replica named twice in `replicas` (its id in capitals: SQLite's UNIQUE is case-sensitive,
    /// the id's parser is not), the hub's dots moved to the second number, the clock left on the
    /// first: the sums agree, but the clone reads the clock's number, finds no dots there, and
    /// never serves the hub's records. Or a replica numbered 0, the clock's row of the hybrid
    /// logical clock. Or a clock naming a replica number `replicas` lacks. Each is refused, or
    /// the clone serves every record.
    @Test(arguments: ["named twice", "numbered 0", "clock names a stranger"]) func aReplicaNamedTwiceOrNumberedZeroIsRefused(_ lie: String) throws {
        let folder = temporaryDirectory()
        let hubPath = folder + "/hub.sqlite"
        let hub = try ReplicaStore(path: hubPath, indexes: [tokenIndex])
        try hub.write { tx in
            for i in 0..<10 { try tx.write(id: "l\(i)", kind: .link, ["token": "t\(i)"]) }
        }
        let hubID = hub.replicaID
        hub.close()
        let path = try ReplicaStore.backup(from: hubPath, to: folder + "/snapshot.sqlite").path
        let db = try SQLiteConnection(path: path)
        let hubRix = try #require(try db.scalar("SELECT rix FROM replicas WHERE rid=?", .text(hubID.hex))?.int)
        let other = lie == "named twice" ? 99 : 0
        if lie == "named twice" {
            try db.run("INSERT INTO replicas(rix, rid) VALUES(99, ?)", .text(hubID.hex.uppercased()))
        } else if lie == "clock names a stranger" {
            try db.run("INSERT INTO clock(rix, counter) VALUES(77, 5)")
        } else {
            try db.run("UPDATE replicas SET rix=0 WHERE rix=?", .int(hubRix))
            try db.run("UPDATE clock SET rix=-1 WHERE rix=0")
            try db.run("UPDATE clock SET rix=0 WHERE rix=?", .int(hubRix))
            try db.run("DELETE FROM clock WHERE rix=-1")
        }
        if lie != "clock names a stranger" { try db.run("UPDATE dots SET rix=? WHERE rix=?", .int(Int64(other)), .int(hubRix)) }
        db.close()
        do {
            _ = try ReplicaStore.adoptSnapshot(at: path, indexes: [tokenIndex])
        } catch {
            #expect("\(error)".contains("replica"), "\(error)")
            return
        }
        let c = try ReplicaStore(path: path, indexes: [tokenIndex])
        defer { c.close() }
        let empty = try temporaryStore("empty.sqlite")
        defer { empty.close() }
        _ = try pullAll(from: c, to: empty)
        #expect(try empty.counts().links == 10, "a peer that lacks the hub's records gets them from the clone")
    }

    /// Row numbers at the end of their range (a row numbered 2^63-1, or `rid_high` saying one
    /// was removed): a clone numbering its next new row above them overflowed, and the process
    /// stopped. Such a snapshot is refused with a sentence.
    @Test(arguments: ["last row", "removed row"]) func rowNumbersAtTheEndOfTheirRangeAreRefused(_ lie: String) throws {
        let (_, _, paths) = try twoDownloads()
        let db = try SQLiteConnection(path: paths[0])
        if lie == "last row" {
            try db.exec("UPDATE records SET rid=9223372036854775807 WHERE id='x'; UPDATE dots SET rid=9223372036854775807; UPDATE keys SET rid=9223372036854775807")
        } else {
            try db.exec("INSERT INTO meta(key, value) VALUES('rid_high', '9223372036854775807')")
        }
        db.close()
        do {
            _ = try ReplicaStore.adoptSnapshot(at: paths[0], indexes: [])
        } catch {
            #expect("\(error)".contains("row number"), "\(error)")
            return
        }
        let c = try ReplicaStore(path: paths[0])
        defer { c.close() }
        try c.write { _ = try $0.write(id: "new", kind: .link, ["token": "n"]) }
        #expect(try c.record(id: "new") != nil)
    }

    /// `meta` holding `id_key` twice, in a B-tree of (key, value) put under meta's name:
    /// `quick_check` passes it, a search finds one of the two. Refused (before, adopted).
    @Test func aMetaTableHoldingAKeyTwiceIsRefused() throws {
        let (_, _, paths) = try twoDownloads()
        try IndexLie.forge(paths[0], index: "meta", shadowIndex: "shadow", sql: """
            CREATE TABLE shadow(key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(key, value)) WITHOUT ROWID;
            INSERT INTO shadow SELECT key, value FROM meta;
            INSERT INTO shadow VALUES('id_key', '00000000000000000000000000000000');
            """, dropShadow: false)
        let db = try SQLiteConnection(path: paths[0])
        try db.exec("DROP TABLE shadow")
        db.close()
        let error = #expect(throws: StoreError.self) { try ReplicaStore.adoptSnapshot(at: paths[0], indexes: []) }
        #expect(error.map { "\($0)".contains("meta table") } == true, "\(error.map { "\($0)" } ?? "adopted")")
    }

    @Test func aResyncIsDueOnlyWhenThePeerPurgedPastTheSnapshot() throws {
        let (_, _, paths) = try twoDownloads()
        _ = try ReplicaStore.adoptSnapshot(at: paths[0], indexes: [])
        let c = try ReplicaStore(path: paths[0])
        defer { c.close() }
        let snapshot = try c.clock()
        let other = ReplicaID.random()
        #expect(try !c.needsResyncAfterClone(snapshot: snapshot, peerFloor: VectorClock()))
        #expect(try !c.needsResyncAfterClone(snapshot: snapshot, peerFloor: snapshot))
        #expect(try !c.resyncDue())
        var beyond = snapshot
        beyond.merge(VectorClock([(other, UInt64(3))]))
        #expect(try c.needsResyncAfterClone(snapshot: snapshot, peerFloor: beyond))
        #expect(try c.resyncDue())
    }

    @Test func aFileThatIsNotAGoodSnapshotIsRefused() throws {
        let (_, _, paths) = try twoDownloads()
        // Not SQLite at all.
        try Data("<html>not a replica</html>".utf8).write(to: URL(fileURLWithPath: paths[0]))
        #expect(throws: StoreError.self) { try ReplicaStore.adoptSnapshot(at: paths[0], indexes: []) }
        // Cut off after its header: the integrity check (or SQLite) refuses it.
        let data = try #require(FileManager.default.contents(atPath: paths[1]))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: paths[1]))
        #expect(throws: (any Error).self) { try ReplicaStore.adoptSnapshot(at: paths[1], indexes: []) }
        // A file whose pages are garbage after a sound first page: refused with one line (the
        // integrity check's answer is many).
        let sound = Array(data.prefix(4096)) + (0..<(data.count - 4096)).map { UInt8(truncatingIfNeeded: $0 &* 131) }
        let garbage = paths[1] + ".garbage"
        _ = FileManager.default.createFile(atPath: garbage, contents: Data(sound))
        let error = #expect(throws: StoreError.self) { try ReplicaStore.adoptSnapshot(at: garbage, indexes: []) }
        #expect(error.map { "\($0)".contains("\n") } == false, "\(error.map { "\($0)" } ?? "adopted")")
        #expect(error.map { "\($0)".contains("integrity check") } == true, "\(error.map { "\($0)" } ?? "adopted")")
    }

    /// A hub's file may carry SQL that would run here (a trigger, a view) or a schema that is not
    /// a replica's (a collation, a UNIQUE index, an index redefined, an id held twice): each is
    /// refused with a sentence naming it. Before, a trigger pinning the replica id to the hub's,
    /// or deleting every index key merged, was adopted silently, and later lookups missed records.
    @Test func aSnapshotWithSQLOfItsOwnOrAnotherSchemaIsRefused() throws {
        let (hub, _, paths) = try twoDownloads()
        let data = try #require(FileManager.default.contents(atPath: paths[0]))
        let cases: [(String, String)] = [
            ("CREATE TRIGGER pin AFTER UPDATE ON meta WHEN new.key='replica_id' BEGIN UPDATE meta SET value='\(hub.hex)' WHERE key='replica_id'; END",
             "trigger \"pin\""),
            ("CREATE TRIGGER nokeys AFTER INSERT ON keys BEGIN DELETE FROM keys WHERE rid=new.rid; END", "trigger \"nokeys\""),
            ("ALTER TABLE records RENAME TO records_real; CREATE VIEW records AS SELECT * FROM records_real", "view \"records\""),
            ("PRAGMA writable_schema=ON; UPDATE sqlite_master SET sql=replace(sql, 'id TEXT NOT NULL,', 'id TEXT NOT NULL COLLATE NOCASE,')"
             + " WHERE name='records'", "table records"),
            ("CREATE UNIQUE INDEX evil ON records(kind) WHERE kind=0", "UNIQUE index evil"),
            ("DROP INDEX records_idk; CREATE INDEX records_idk ON records(idk) WHERE kind=99", "index records_idk"),
            ("INSERT INTO records(idk, id, kind, live, body) SELECT idk, id, kind, live, body FROM records WHERE id='x'", "record x"),
            ("UPDATE records SET kind=kind||'x' WHERE id='x'", "record x"),
            ("UPDATE records SET id=CAST(X'78FF' AS TEXT) WHERE id='x'", "record x"),
            ("UPDATE records SET live=2 WHERE id='x'", "record x"),
        ]
        for (n, (sql, named)) in cases.enumerated() {
            let path = paths[0] + ".\(n)"
            _ = FileManager.default.createFile(atPath: path, contents: data)
            let db = try SQLiteConnection(path: path)
            try db.exec(sql)
            db.close()
            let error = #expect(throws: StoreError.self, "\(sql)") { try ReplicaStore.adoptSnapshot(at: path, indexes: []) }
            #expect(error.map { "\($0)".contains(named) } == true, "\(sql): \(error.map { "\($0)" } ?? "adopted")")
        }
        // What a replica may hold beyond its own schema and is harmless is kept: a table. A plain
        // index of the hub's own is adopted without its entries: nothing checks them (`IndexLie`).
        let db = try SQLiteConnection(path: paths[1])
        try db.exec("CREATE TABLE notes(x); CREATE INDEX notes_x ON notes(x); CREATE INDEX records_kind ON records(kind)")
        db.close()
        _ = try ReplicaStore.adoptSnapshot(at: paths[1], indexes: [])
        let c = try ReplicaStore(path: paths[1])
        defer { c.close() }
        #expect(try c.record(id: "x") != nil)
        #expect(try c.db.scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('notes', 'notes_x', 'records_kind')")?.int == 1)
    }

    /// An index's entries are the hub's word: SQLite compares an index with its table only in
    /// `integrity_check` (`quick_check`, which a clone runs, does not), and its planner uses any
    /// index that fits a query. Each lie below passes `quick_check` and was kept by a clone.
    enum IndexLie: String, CaseIterable {
        /// An index of the hub's own on `records(idk, id)`, which the planner picks for every
        /// lookup by id (and the merge's, as covering): l5's entry points at l6's row; l6 has none.
        case indexOfItsOwn
        /// `replicas`' id index gives the hub's id the other replica's number (and the other's
        /// the hub's): dots and clock entries merged later would go to the wrong replica.
        case replicaNumbersSwapped
        /// `records_dead` lacks l3's tombstone: purging never sees it, and writing l3 fails.
        case tombstoneHidden
        /// `records_dead`'s entry of l3 is (l2's number, l3's row): a walk, which reads only the
        /// row, finds l3's tombstone, but writing l3 fails (its entry is not where it is sought).
        case tombstoneMisfiled

        /// Gives `index` the entries of `shadowIndex`, an index of a table `shadow` that `sql`
        /// creates and fills (of the same columns), by swapping their root pages; then drops `shadow`.
        static func forge(_ path: String, index: String, shadowIndex: String, sql: String, dropShadow: Bool = true) throws {
            let db = try SQLiteConnection(path: path)
            try db.exec(sql)
            let a = try #require(try db.scalar("SELECT rootpage FROM sqlite_master WHERE name=?", .text(index))?.int)
            let b = try #require(try db.scalar("SELECT rootpage FROM sqlite_master WHERE name=?", .text(shadowIndex))?.int)
            try db.exec("PRAGMA writable_schema=ON")
            try db.run("UPDATE sqlite_master SET rootpage=? WHERE name=?", .int(b), .text(index))
            try db.run("UPDATE sqlite_master SET rootpage=? WHERE name=?", .int(a), .text(shadowIndex))
            try db.exec("PRAGMA writable_schema=OFF")
            db.close()
            guard dropShadow else { return }
            let again = try SQLiteConnection(path: path)
            try again.exec("DROP TABLE shadow")
            #expect(try again.scalar("PRAGMA quick_check")?.text == "ok", "the lie passes quick_check")
            again.close()
        }
    }

    @Test(arguments: IndexLie.allCases) func anIndexIsCheckedOrBuiltAgainNeverTakenOnTheHubsWord(_ lie: IndexLie) throws {
        let folder = temporaryDirectory()
        let hubPath = folder + "/hub.sqlite"
        let hub = try ReplicaStore(path: hubPath, indexes: [tokenIndex])
        try hub.write { tx in
            for i in 0..<40 { try tx.write(id: "l\(i)", kind: .link, ["token": "t\(i)"]) }
        }
        try hub.write { try $0.delete(id: "l3") }
        let other = try ReplicaStore(path: folder + "/other.sqlite", indexes: [tokenIndex])
        try other.write { _ = try $0.write(id: "o", kind: .link, ["token": "to"]) }
        try pullAll(from: other, to: hub)
        let (hubID, otherID) = (hub.replicaID, other.replicaID)
        other.close()
        hub.close()
        let path = try ReplicaStore.backup(from: hubPath, to: folder + "/snapshot.sqlite").path
        let db = try SQLiteConnection(path: path)
        let rid5 = try #require(try db.scalar("SELECT rid FROM records WHERE id='l5'")?.int)
        let rid6 = try #require(try db.scalar("SELECT rid FROM records WHERE id='l6'")?.int)
        let hubRix = try #require(try db.scalar("SELECT rix FROM replicas WHERE rid=?", .text(hubID.hex))?.int)
        let otherRix = try #require(try db.scalar("SELECT rix FROM replicas WHERE rid=?", .text(otherID.hex))?.int)
        db.close()
        switch lie {
        case .indexOfItsOwn:
            try IndexLie.forge(path, index: "records_own", shadowIndex: "shadow_own", sql: """
                CREATE INDEX records_own ON records(idk, id);
                CREATE TABLE shadow(rid INTEGER PRIMARY KEY, idk INTEGER NOT NULL, id TEXT NOT NULL);
                INSERT INTO shadow SELECT rid, idk, id FROM records WHERE rid NOT IN (\(rid5), \(rid6));
                INSERT INTO shadow SELECT \(rid6), idk, id FROM records WHERE rid=\(rid5);
                CREATE INDEX shadow_own ON shadow(idk, id);
                """)
        case .replicaNumbersSwapped:
            try IndexLie.forge(path, index: "sqlite_autoindex_replicas_1", shadowIndex: "sqlite_autoindex_shadow_1", sql: """
                CREATE TABLE shadow(rix INTEGER PRIMARY KEY, rid TEXT NOT NULL UNIQUE);
                INSERT INTO shadow SELECT rix, CASE rix WHEN \(hubRix) THEN '\(otherID.hex)' WHEN \(otherRix) THEN '\(hubID.hex)' ELSE rid END
                    FROM replicas;
                """)
        case .tombstoneHidden:
            try IndexLie.forge(path, index: "records_dead", shadowIndex: "shadow_dead", sql: """
                CREATE TABLE shadow(rid INTEGER PRIMARY KEY, live INTEGER NOT NULL);
                INSERT INTO shadow SELECT rid, live FROM records WHERE id <> 'l3';
                CREATE INDEX shadow_dead ON shadow(rid) WHERE live=0;
                """)
        case .tombstoneMisfiled:
            // An index on (n) of a table whose row l3 has n = l2's number: entries (n, row id).
            try IndexLie.forge(path, index: "records_dead", shadowIndex: "shadow_dead", sql: """
                CREATE TABLE shadow(rid INTEGER PRIMARY KEY, n INTEGER NOT NULL, live INTEGER NOT NULL);
                INSERT INTO shadow SELECT rid, CASE id WHEN 'l3' THEN (SELECT rid FROM records WHERE id='l2') ELSE rid END, live FROM records;
                CREATE INDEX shadow_dead ON shadow(n) WHERE live=0;
                """)
        }
        let adopted = try ReplicaStore.adoptSnapshot(at: path, indexes: [tokenIndex])
        #expect(adopted.derived == ([.tombstoneHidden, .tombstoneMisfiled].contains(lie) ? .rebuilt : .checked), "\(lie)")
        let c = try ReplicaStore(path: path, indexes: [tokenIndex])
        defer { c.close() }
        #expect(try c.db.scalar("PRAGMA integrity_check")?.text == "ok", "\(lie): every index agrees with its table")
        for i in 0..<40 where i != 3 {
            #expect(try c.record(id: "l\(i)")?["token"] == "t\(i)", "\(lie): l\(i) found by its id")
        }
        #expect(try c.db.scalar("SELECT rix FROM replicas WHERE rid=?", .text(hubID.hex))?.int == hubRix, "\(lie): the hub's number")
        // l3's tombstone is a row like any other: written again, it lives.
        try c.write { _ = try $0.write(id: "l3", kind: .link, ["token": "t3"], revive: true) }
        #expect(try c.record(id: "l3")?["token"] == "t3")
    }
}
