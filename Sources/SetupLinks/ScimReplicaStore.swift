import Replica
import Storage

/// `ScimStore` inside one `ReplicaStore.write` transaction: what a SCIM
/// request that changes something runs on.
///
/// The store must have `ScimIndex.specs` installed (beside the other domain
/// indexes: see `Sources/Scim/NOTES.md`).
public struct ScimReplicaTransaction: ScimStore {
    /// The replica.
    public let store: ReplicaStore
    /// The transaction the writes join.
    public let tx: LocalTransaction

    /// The SCIM store of transaction `tx` of `store`.
    public init(store: ReplicaStore, tx: LocalTransaction) {
        self.store = store
        self.tx = tx
    }

    /// The record as this transaction sees it.
    public func record(_ id: String) throws -> Record? { try tx.record(id) }

    /// Writes in the transaction.
    @discardableResult
    public func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool) throws -> Record {
        try tx.write(id: id, kind: kind, values, revive: revive)
    }

    /// Deletes in the transaction.
    public func delete(id: String) throws { try tx.delete(id: id) }

    /// An exact index lookup, as this transaction sees it.
    public func lookup(_ index: ScimIndex, key: String) throws -> [Record] { try tx.lookup(index.rawValue, key: key) }

    /// A range scan (the store's connection sees the transaction's writes).
    public func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [Record] {
        try ScimReplicaReader(store: store).scan(index, prefix: prefix, offset: offset, limit: limit)
    }

    /// A full scan (the store's connection sees the transaction's writes).
    public func scanAll(_ index: ScimIndex, prefix: String, _ body: (Record) throws -> Void) throws {
        try ScimReplicaReader(store: store).scanAll(index, prefix: prefix, body)
    }

    /// An entry count.
    public func count(_ index: ScimIndex, prefix: String) throws -> Int { try store.count(index.rawValue, prefix: prefix) }
}

/// `ScimStore` for requests that only read (GET, list, search): no write
/// transaction, no lock held between the calls. Writing through it is a
/// programming error and throws.
public struct ScimReplicaReader: ScimStore {
    /// The replica.
    public let store: ReplicaStore

    /// A reader of `store`.
    public init(store: ReplicaStore) { self.store = store }

    /// The record, tombstones included.
    public func record(_ id: String) throws -> Record? { try store.record(id: id) }

    /// Refused: a reader does not write.
    public func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool) throws -> Record {
        throw StoreError.invalid("a SCIM read tried to write record \(id)")
    }

    /// Refused: a reader does not write.
    public func delete(id: String) throws { throw StoreError.invalid("a SCIM read tried to delete record \(id)") }

    /// An exact index lookup.
    public func lookup(_ index: ScimIndex, key: String) throws -> [Record] { try store.lookup(index.rawValue, key: key) }

    /// A range scan in key order. Storage's scan continues from a cursor, so
    /// the first `offset` entries are walked page by page: the cost of a SCIM
    /// `startIndex` deep into a list grows with it (an offset in Storage's
    /// index query would make it index-only; see NOTES).
    public func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [Record] {
        guard limit > 0 else { return [] }
        var out: [Record] = []
        var skip = max(0, offset)
        var cursor: IndexCursor?
        let pageSize = 1000
        while out.count < limit {
            let want = skip > 0 ? min(pageSize, skip) : min(pageSize, limit - out.count)
            let page = try store.scan(index.rawValue, prefix: prefix, after: cursor, limit: want)
            if skip > 0 {
                skip -= page.count
            } else {
                out += page.map(\.record)
            }
            guard page.count == want, let last = page.last else { break }
            cursor = last.cursor
        }
        return out
    }

    /// A full scan, page by page with cursors.
    public func scanAll(_ index: ScimIndex, prefix: String, _ body: (Record) throws -> Void) throws {
        var cursor: IndexCursor?
        let pageSize = 500
        while true {
            let page = try store.scan(index.rawValue, prefix: prefix, after: cursor, limit: pageSize)
            for e in page { try body(e.record) }
            guard page.count == pageSize, let last = page.last else { return }
            cursor = last.cursor
        }
    }

    /// An entry count.
    public func count(_ index: ScimIndex, prefix: String) throws -> Int { try store.count(index.rawValue, prefix: prefix) }
}
