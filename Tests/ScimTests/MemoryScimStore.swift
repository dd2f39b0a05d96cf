import Fixtures
import Replica
import Scim
import SetupLinks

/// A `ScimStore` over a `MemoryReplica`: indexes are computed by scanning the
/// records with `ScimIndex.keys(for:)`, the same `IndexSpec`s the SQLite index
/// facility uses. Each write is its own local transaction (its own dot).
final class MemoryScimStore: ScimStore {
    var replica: MemoryReplica

    init(replica: MemoryReplica = MemoryReplica()) { self.replica = replica }

    func record(_ id: String) throws -> Record? { replica.records[id] }

    @discardableResult
    func write(id: String, kind: RecordKind, _ values: [String: String], revive: Bool) throws -> Record {
        replica.write(id: id, kind: kind, values, revive: revive)
        return replica.records[id]!
    }

    func delete(id: String) throws { replica.delete(id: id) }

    /// Every entry of `index`: the keys `ScimIndex.keys(for:)` gives (the spec Storage
    /// installs), in key order, ties by id.
    private func entries(_ index: ScimIndex) -> [(key: String, record: Record)] {
        var out: [(String, Record)] = []
        for r in replica.records.values {
            for k in index.keys(for: r) { out.append((k, r)) }
        }
        return out.sorted { ($0.0, $0.1.id) < ($1.0, $1.1.id) }
    }

    func lookup(_ index: ScimIndex, key: String) throws -> [Record] {
        entries(index).filter { $0.key == key }.map(\.record)
    }

    func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [Record] {
        Array(entries(index).filter { $0.key.hasPrefix(prefix) }.dropFirst(offset).prefix(limit).map(\.record))
    }

    func scanAll(_ index: ScimIndex, prefix: String, _ body: (Record) throws -> Void) throws {
        for e in entries(index) where e.key.hasPrefix(prefix) { try body(e.record) }
    }

    func count(_ index: ScimIndex, prefix: String) throws -> Int {
        entries(index).filter { $0.key.hasPrefix(prefix) }.count
    }
}
