import CSQLite
import Crypto
import Glibc
import Replica

/// What a clone did with the derived data of a hub's snapshot (`DerivedCheck`).
public enum DerivedData: String, Sendable {
    /// Found to be what the records imply, and kept.
    case checked
    /// Built again from the records (the hub's differed, or was of another version).
    case rebuilt
}

/// Where a pass over a snapshot's records puts the entries it derives (`recordsPass`).
protocol DerivedSink {
    mutating func idk(_ key: Int64, rid: Int64) throws
    mutating func dot(rix: Int64, counter: Int64, rid: Int64) throws
    mutating func key(ix: Int64, key: UnsafeRawBufferPointer, rid: Int64) throws
    /// A row's entries in the partial indexes `records_dead` (a tombstone) and `records_members` (a member record).
    mutating func row(_ rid: Int64, dead: Bool, member: Bool) throws
}

/// How a clone checks the derived data of a hub's snapshot instead of building it again: the
/// dots table, the index keys and the id index. `quick_check` proves the file's pages sound, not
/// that these hold what the records imply, nor that an index B-tree's entries are in order.
///
/// The check, in one pass over the records and one walk of each derived B-tree:
/// - the tables and the index are defined as ours (`structureIsOurs`: columns, types, key order,
///   collations, no partial index);
/// - each B-tree, walked in its own order, holds its entries in strictly increasing order, with
///   the column types a lookup binds (so every lookup finds what it seeks);
/// - the multiset of entries each holds equals the one the records imply: their counts, and
///   the sums (mod 2^256) of a keyed SHA-256 of every entry, keyed by 32 random bytes drawn for
///   this check. A hub cannot aim at a sum whose key it never sees.
///
/// Where anything differs (a hub that lied, another version's indexes, a wrong id key), the clone
/// builds all of it again from the records, in tables of our definition.
enum DerivedCheck {
    /// What SQLite says of the shape of `dots`, `keys`, `records` and `records_idk` in `db`: the
    /// tables' kind and columns, every index on them with its columns, order and collation.
    static func structure(_ db: SQLiteConnection) throws -> [String] {
        var out: [String] = []
        func rows(_ sql: String) throws {
            let s = try db.prepare(sql)
            defer { s.reset() }
            let n = s.columnCount
            while try s.step() {
                out.append((0..<n).map { "\(s.value($0))" }.joined(separator: "|"))
            }
            out.append("--")
        }
        for table in ["dots", "keys", "records"] {
            try rows("SELECT type, ncol, wr, strict FROM pragma_table_list WHERE schema='main' AND name='\(table)'")
            try rows("SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo('\(table)') ORDER BY cid")
            let names = try db.prepare("SELECT name, \"unique\", origin, partial FROM pragma_index_list('\(table)') ORDER BY name")
            var indexes: [String] = []
            while try names.step() {
                indexes.append(names.text(0))
                out.append("\(names.text(0))|\(names.int(1))|\(names.text(2))|\(names.int(3))")
            }
            names.reset()
            // records' other indexes (partial ones of its own) are not this check's; records_idk is.
            for index in indexes where table != "records" || index == "records_idk" {
                try rows("SELECT seqno, cid, name, \"desc\", coll, key FROM pragma_index_xinfo('\(index)') ORDER BY seqno")
            }
        }
        return out
    }

    /// A replica of this version, made in memory by the migrations themselves: the structure
    /// of its derived tables (`structure`) and their definitions (`CREATE` statements by name,
    /// for `dots`, `keys` and `records_idk`), which a rebuild uses.
    static let reference: (structure: [String], definitions: [String: String]) = {
        do {
            let db = try SQLiteConnection(path: ":memory:", create: true)
            defer { db.close() }
            RecordKeyHasher.register(on: db)
            try ReplicaStore.initialize(db)
            var definitions: [String: String] = [:]
            let s = try db.prepare("SELECT name, sql FROM sqlite_master WHERE name IN ('dots', 'keys', 'records_idk')")
            while try s.step() { definitions[s.text(0)] = s.text(1) }
            s.reset()
            return (try structure(db), definitions)
        } catch {
            return (["unavailable: \(error)"], [:])
        }
    }()

    /// The `CREATE` statement of `name` (`dots`, `keys` or `records_idk`) in a replica of this version.
    static func definition(_ name: String) throws -> String {
        guard let sql = reference.definitions[name] else { throw StoreError.invalid("this build's definition of \(name) is unavailable") }
        return sql
    }

    /// Whether the snapshot open in `db` defines the derived tables and index as ours does.
    /// (Its records table may carry more indexes of its own: the partial ones, not checked here.)
    static func structureIsOurs(_ db: SQLiteConnection) throws -> Bool {
        let theirs = try structure(db)
        // records' index list is compared only for records_idk's line.
        func filtered(_ lines: [String]) -> [String] {
            lines.filter { !$0.hasPrefix("records_") || $0.hasPrefix("records_idk|") }
        }
        return filtered(theirs) == filtered(reference.structure)
    }

    /// Counts and keyed sums of derived entries, one per kind of entry.
    struct Sums: Equatable, DerivedSink {
        var dots = Tally(), keys = Tally(), idk = Tally(), dead = Tally(), members = Tally()
        let hasher: EntryHasher

        init(hasher: EntryHasher = EntryHasher()) { self.hasher = hasher }

        static func == (a: Sums, b: Sums) -> Bool { a.dots == b.dots && a.keys == b.keys && a.idk == b.idk && a.dead == b.dead && a.members == b.members
        }

        mutating func idk(_ key: Int64, rid: Int64) { idk.add(hasher.hash(tag: 2, key, nil, rid)) }
        mutating func dot(rix: Int64, counter: Int64, rid: Int64) { dots.add(hasher.hash(tag: 0, rix, counter, rid)) }
        mutating func key(ix: Int64, key: UnsafeRawBufferPointer, rid: Int64) { keys.add(hasher.hash(tag: 1, ix, key, rid)) }
        mutating func row(_ rid: Int64, dead: Bool, member: Bool) {
            if dead { self.dead.add(hasher.hash(tag: 3, rid, nil, rid)) }
            if member { members.add(hasher.hash(tag: 4, rid, nil, rid)) }
        }
    }

    struct Tally: Equatable {
        var count: Int64 = 0
        var sum = StateSum.zero
        mutating func add(_ one: StateSum) { count += 1; sum.add(one) }
    }

    /// SHA-256 of (32 random bytes ‖ entry frame) (`PrefixedSHA256`).
    final class EntryHasher: @unchecked Sendable {
        private let sha = PrefixedSHA256(prefix: SecureRandom.bytes(32))

        private func put(_ v: Int64) {
            var x = UInt64(bitPattern: v).littleEndian
            withUnsafeBytes(of: &x) { sha.frame.append(contentsOf: $0) }
        }

        /// An entry: a tag (0 dot, 1 index key, 2 id index, 3 tombstone index, 4 member index),
        /// an integer, then a second integer or a byte string (its length first), then the row id.
        func hash(tag: UInt8, _ a: Int64, _ b: Int64?, _ rid: Int64) -> StateSum {
            sha.startFrame()
            sha.frame.append(tag)
            put(a)
            if let b { put(b) }
            put(rid)
            return sha.digest()
        }

        func hash(tag: UInt8, _ a: Int64, _ bytes: UnsafeRawBufferPointer, _ rid: Int64) -> StateSum {
            sha.startFrame()
            sha.frame.append(tag)
            put(a)
            put(Int64(bytes.count))
            sha.frame.append(contentsOf: bytes)
            put(rid)
            return sha.digest()
        }
    }

    /// What the derived B-trees of `db` hold, walked each in its own order, summed with `hasher`,
    /// and the id keys the id index holds more than once; nil when an entry is out of order or of
    /// a type a lookup would not match.
    static func held(_ db: SQLiteConnection, hasher: EntryHasher) throws -> (sums: Sums, keysSeenTwice: [Int64])? {
        var sums = Sums(hasher: hasher)
        var keysSeenTwice: [Int64] = []
        // A WITHOUT ROWID table's full scan and a covering scan of an index walk their B-tree in order.
        do {
            let s = try db.prepare("SELECT rix, counter, rid FROM dots")
            defer { s.reset() }
            var last: (Int64, Int64, Int64)?
            while try s.step() {
                guard s.type(0) == SQLITE_INTEGER, s.type(1) == SQLITE_INTEGER, s.type(2) == SQLITE_INTEGER else { return nil }
                let e = (s.int(0), s.int(1), s.int(2))
                if let last, !(last < e) { return nil }
                last = e
                sums.dot(rix: e.0, counter: e.1, rid: e.2)
            }
        }
        do {
            let s = try db.prepare("SELECT ix, key, rid FROM keys")
            defer { s.reset() }
            var last: (Int64, [UInt8], Int64)?
            var ok = true
            while try s.step() {
                guard s.type(0) == SQLITE_INTEGER, s.type(1) == SQLITE_BLOB, s.type(2) == SQLITE_INTEGER else { return nil }
                let ix = s.int(0), rid = s.int(2)
                s.withBlob(1) { key in
                    if let l = last {
                        let c = l.1.withUnsafeBytes { compareBytes($0, key) }
                        if !(l.0 < ix || (l.0 == ix && (c < 0 || (c == 0 && l.2 < rid)))) { ok = false }
                    }
                    if last == nil { last = (ix, Array(key), rid) } else {
                        last!.0 = ix
                        last!.1.removeAll(keepingCapacity: true)
                        last!.1.append(contentsOf: key)
                        last!.2 = rid
                    }
                    sums.key(ix: ix, key: key, rid: rid)
                }
                if !ok { return nil }
            }
        }
        do {
            let s = try db.prepare("SELECT idk, rid FROM records INDEXED BY records_idk ORDER BY idk")
            defer { s.reset() }
            var last: (Int64, Int64)?
            while try s.step() {
                guard s.type(0) == SQLITE_INTEGER else { return nil }
                let e = (s.int(0), s.int(1))
                if let last {
                    guard last < e else { return nil }
                    if last.0 == e.0, keysSeenTwice.last != e.0 { keysSeenTwice.append(e.0) }
                }
                last = e
                sums.idk(e.0, rid: e.1)
            }
        }
        // The partial indexes: a tombstone or member record missing from its index would be
        // unseen by purging, and any later write of its row would fail ("index corruption").
        // A covering scan reads the entries without the table.
        for (index, condition, tag) in [("records_dead", "live=0", 3), ("records_members", "kind=\(RecordKind.replica.rawValue)", 4)] {
            // An entry is (rid, row id), and a walk reads only the row id: each is also searched
            // for by its rid, which finds only an entry whose two agree (the entry a write of
            // that row deletes; an entry (5, row 7) would make every write of row 7 fail).
            let s = try db.prepare("SELECT rid FROM records INDEXED BY \(index) WHERE \(condition) ORDER BY rid")
            let probe = try db.prepare("SELECT rid FROM records INDEXED BY \(index) WHERE \(condition) AND rid=?1")
            defer { s.reset(); probe.reset() }
            var last: Int64?
            while try s.step() {
                guard s.type(0) == SQLITE_INTEGER else { return nil }
                let rid = s.int(0)
                if let last, !(last < rid) { return nil }
                last = rid
                probe.reset()
                _ = probe.bind(int: rid, at: 1)
                guard try probe.step(), probe.int(0) == rid else { return nil }
                if tag == 3 { sums.dead.add(hasher.hash(tag: 3, rid, nil, rid)) } else { sums.members.add(hasher.hash(tag: 4, rid, nil, rid)) }
            }
        }
        return (sums, keysSeenTwice)
    }

    /// SQLite's order of blobs: bytes compared as unsigned, a prefix first.
    static func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    /// The rebuild's sink: entries into temporary tables, sorted into place after the pass.
    struct ScratchTables: DerivedSink {
        let insertDot: Statement
        let insertKey: Statement

        init(_ db: SQLiteConnection) throws {
            insertDot = try db.prepare("INSERT INTO temp.adopt_dots(rix, counter, rid) VALUES (?, ?, ?)")
            insertKey = try db.prepare("INSERT INTO temp.adopt_keys(ix, key, rid) VALUES (?, ?, ?)")
        }

        // The id index is built by CREATE INDEX from the records.
        func idk(_ key: Int64, rid: Int64) {}
        // The partial indexes are built again by REINDEX.
        func row(_ rid: Int64, dead: Bool, member: Bool) {}

        func dot(rix: Int64, counter: Int64, rid: Int64) throws {
            insertDot.reset()
            _ = insertDot.bind(int: rix, at: 1)
            _ = insertDot.bind(int: counter, at: 2)
            _ = insertDot.bind(int: rid, at: 3)
            while try insertDot.step() {}
        }

        func key(ix: Int64, key: UnsafeRawBufferPointer, rid: Int64) throws {
            insertKey.reset()
            _ = insertKey.bind(int: ix, at: 1)
            _ = insertKey.bind(blob: key, at: 2)
            _ = insertKey.bind(int: rid, at: 3)
            while try insertKey.step() {}
        }
    }
}
