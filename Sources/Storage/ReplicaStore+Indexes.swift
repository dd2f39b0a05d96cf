import Foundation
import Replica

/// Secondary indexes: installing them, keeping them in step with records, and queries.
extension ReplicaStore {
    /// Installs the domain's secondary indexes; rebuilds every key when the set differs
    /// from the one the file's keys were made with (a new index, a changed version).
    ///
    /// Several processes may open one file (a REPL and a server): the rebuild takes
    /// the write lock, and each process then maintains the same keys.
    public func installIndexes(_ specs: [IndexSpec]) throws {
        var names = Set<String>()
        for s in specs where !names.insert(s.name).inserted {
            throw StoreError.invalid("two indexes are named \(s.name)")
        }
        try wrap {
            indexPlan = IndexPlan(specs)
            let signature = IndexSpec.signature(specs)
            guard try meta("index_signature") != signature else { return }
            try db.transaction {
                guard try meta("index_signature") != signature else { return }
                try rebuildKeys(specs)
                try setMeta("index_signature", signature)
            }
        }
    }

    /// Recomputes every key from the stored records (in the caller's transaction).
    func rebuildKeys(_ specs: [IndexSpec]) throws {
        keysTouched = true
        try db.exec("DELETE FROM keys")
        guard !specs.isEmpty else { return }
        let plan = IndexPlan(specs)
        let s = try db.prepare("SELECT rid, id, kind, body FROM records WHERE live=1")
        var pending: [(Int64, IndexKeys)] = []
        while try s.step() {
            guard let kind = RecordKind(rawValue: UInt8(truncatingIfNeeded: s.int(2))), plan.indexes(kind) else { continue }
            let id = s.text(1)
            let keys: IndexKeys
            do { keys = try s.withBlob(3) { try plan.keys(encoded: $0) } } catch let e as RecordDecodingError {
                throw StoreError.corruptRecord(path: path, id: id, reason: e.description)
            }
            if !keys.entries.isEmpty { pending.append((s.int(0), keys)) }
        }
        for (rid, keys) in pending { try updateKeys(rid: rid, old: .none, new: keys) }
    }

    /// Before a write: a store without indexes cannot maintain the keys a file holds,
    /// so it drops them, and the next store opened with indexes rebuilds them.
    func checkIndexesWritable() throws {
        guard indexSpecs == nil else { return }
        if let sig = try meta("index_signature"), !sig.isEmpty {
            keysTouched = true
            try db.exec("DELETE FROM keys")
            try setMeta("index_signature", "")
        }
    }

    /// Replaces a record's keys (in the caller's transaction).
    func updateKeys(rid: Int64, old: IndexKeys, new: IndexKeys) throws {
        guard old != new else { return }
        keysTouched = true
        for (ix, key) in old.entries where !new.entries.contains(where: { $0.0 == ix && $0.1 == key }) {
            let s = try statement(.deleteKey)
            s.bind(int: Int64(ix), at: 1)
            key.withUnsafeBytes { _ = s.bind(blob: $0, at: 2) }
            s.bind(int: rid, at: 3)
            while try s.step() {}
        }
        for (ix, key) in new.entries where !old.entries.contains(where: { $0.0 == ix && $0.1 == key }) {
            let s = try statement(.insertKey)
            s.bind(int: Int64(ix), at: 1)
            key.withUnsafeBytes { _ = s.bind(blob: $0, at: 2) }
            s.bind(int: rid, at: 3)
            while try s.step() {}
        }
    }

    func indexNumber(_ name: String) throws -> Int64 {
        guard let specs = indexSpecs, let i = specs.firstIndex(where: { $0.name == name }) else {
            throw StoreError.invalid("no index named \(name) is installed on this replica")
        }
        return Int64(i)
    }

    /// Ids of the live records whose key in `index` is exactly `key`.
    func lookupIDs(_ index: String, key: String) throws -> [String] {
        let ix = try indexNumber(index)
        let s = try db.prepare("SELECT r.id FROM keys k JOIN records r ON r.rid = k.rid WHERE k.ix=? AND k.key=? ORDER BY k.rid")
        s.bind(int: ix, at: 1)
        Array(key.utf8).withUnsafeBytes { _ = s.bind(blob: $0, at: 2) }
        var out: [String] = []
        while try s.step() { out.append(s.text(0)) }
        return out
    }

    /// The live records whose key in `index` is exactly `key` (usually one).
    public func lookup(_ index: String, key: String) throws -> [Record] {
        try wrap { try lookupIDs(index, key: key).compactMap { try loadRecord($0) } }
    }

    /// Up to `limit` entries of `index` whose keys start with `prefix`, in key order,
    /// continuing after `cursor`, skipping the first `offset` of them; each entry's
    /// `cursor` continues after it.
    ///
    /// Costs what the page costs (an index seek, then `limit` rows), so a caller can
    /// stream a long list page by page or answer one page of a paged listing. An
    /// `offset` (SCIM's `startIndex`) is skipped inside the index alone: the keys
    /// are walked, but only the page's records are read and decoded.
    public func scan(_ index: String, prefix: String = "", after cursor: IndexCursor? = nil, offset: Int = 0,
                     limit: Int) throws -> [IndexEntry] {
        try wrap {
            let ix = try indexNumber(index)
            let low = Array(prefix.utf8)
            // 0xFF never occurs in UTF-8, so every key starting with `prefix` sorts below prefix + 0xFF.
            let high = low + [0xFF]
            // The inner query reads the keys table alone (its primary key covers it), so
            // skipped entries cost an index step each, never a record read. After a cursor
            // the range starts at the cursor alone: with `key >= low` beside it, SQLite seeks
            // on the key only and then steps through every entry of an equal key (all of a
            // directory's users share one key), so each page would cost its position.
            let cursor = cursor.flatMap { $0.key.lexicographicallyPrecedes(low) ? nil : $0 }
            let range = cursor == nil ? "key >= ?2 AND key < ?3" : "(key, rid) > (?4, ?5) AND key < ?3"
            let s = try db.prepare("""
                SELECT k.key, k.rid, r.id, r.body FROM
                  (SELECT key, rid FROM keys WHERE ix=?1 AND \(range)
                   ORDER BY key, rid LIMIT ?6 OFFSET ?7) k
                JOIN records r ON r.rid = k.rid
                ORDER BY k.key, k.rid
                """)
            if let cursor {
                cursor.key.withUnsafeBytes { _ = s.bind(blob: $0, at: 4) }
                s.bind(int: cursor.rid, at: 5)
            }
            s.bind(int: ix, at: 1)
            low.withUnsafeBytes { _ = s.bind(blob: $0, at: 2) }
            high.withUnsafeBytes { _ = s.bind(blob: $0, at: 3) }
            s.bind(int: Int64(max(0, limit)), at: 6)
            s.bind(int: Int64(max(0, offset)), at: 7)
            defer { s.reset() }
            var out: [IndexEntry] = []
            while try s.step() {
                let key = s.withBlob(0) { Array($0) }
                let rid = s.int(1)
                let record = try decode(id: s.text(2), s, column: 3)
                out.append(IndexEntry(key: String(decoding: key, as: UTF8.self), record: record, cursor: IndexCursor(key: key, rid: rid)))
            }
            return out
        }
    }

    /// A value that changes whenever the index keys may have changed: a write of this
    /// store that touched the keys table, or a commit by any other connection to the
    /// file (another process). Equal values mean that counts and positions read in
    /// between still hold, so a reader may keep them keyed by it (the records' contents
    /// may have changed: read them again). Bookkeeping writes that touch no key (the
    /// webhook outbox) leave it unchanged.
    public func dataVersion() throws -> DataVersion {
        try wrap {
            // Called outside any transaction (the lock is held for a whole transaction), so a set
            // flag is a committed change, or a rolled-back one (a needless new version, never a stale one).
            if keysTouched {
                keysTouched = false
                keysVersion &+= 1
            }
            return DataVersion(local: keysVersion, file: try db.scalar("PRAGMA data_version")?.int ?? 0)
        }
    }

    /// How many entries of `index` have keys starting with `prefix`.
    public func count(_ index: String, prefix: String = "") throws -> Int {
        try wrap {
            let ix = try indexNumber(index)
            let low = Array(prefix.utf8)
            let s = try db.prepare("SELECT count(*) FROM keys WHERE ix=? AND key>=? AND key<?")
            s.bind(int: ix, at: 1)
            low.withUnsafeBytes { _ = s.bind(blob: $0, at: 2) }
            (low + [0xFF]).withUnsafeBytes { _ = s.bind(blob: $0, at: 3) }
            defer { s.reset() }
            return try s.step() ? Int(s.int(0)) : 0
        }
    }

    /// Ids of records of `kind` (tombstones only with `includeDeleted`) starting with `prefix`,
    /// in id order, at most `limit`: what an abbreviated id may mean.
    public func ids(kind: RecordKind, prefix: String, includeDeleted: Bool = false, limit: Int) throws -> [String] {
        try wrap {
            // The id index's integer keys begin with the id's first four bytes
            // (see RecordKeyHasher): one key range holds every id with this prefix.
            let (low, high) = RecordKeyHasher.range(prefix: prefix)
            let s = try db.prepare(includeDeleted
                ? "SELECT id FROM records WHERE idk >= ?5 AND idk < ?6 AND id >= ?1 AND id < ?2 AND kind=?3 ORDER BY id LIMIT ?4"
                : "SELECT id FROM records WHERE idk >= ?5 AND idk < ?6 AND id >= ?1 AND id < ?2 AND kind=?3 AND live=1 ORDER BY id LIMIT ?4")
            s.bind(text: prefix, at: 1)
            s.bind(text: prefix + "\u{10FFFF}", at: 2)
            s.bind(int: Int64(kind.rawValue), at: 3)
            s.bind(int: Int64(max(0, limit)), at: 4)
            s.bind(int: low, at: 5)
            s.bind(int: high, at: 6)
            var out: [String] = []
            while try s.step() { out.append(s.text(0)) }
            return out
        }
    }
}

/// See `ReplicaStore.dataVersion()`.
public struct DataVersion: Hashable, Sendable {
    let local: Int
    let file: Int64
}
