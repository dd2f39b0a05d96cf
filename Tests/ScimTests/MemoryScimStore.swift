import Replica
import Scim
import SetupLinks

/// A `ScimStore` over a `MemoryReplica`: indexes are computed by scanning the
/// records with `ScimIndex.entries`, the same key functions the SQLite index
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

    private func entries(_ index: ScimIndex) -> [(key: String, id: String)] {
        var out: [(String, String)] = []
        for r in replica.records.values {
            for e in ScimIndex.entries(for: r) where e.index == index { out.append((e.key, r.id)) }
        }
        return out.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    func lookup(_ index: ScimIndex, key: String) throws -> [String] {
        entries(index).filter { $0.key == key }.map(\.id)
    }

    func scan(_ index: ScimIndex, prefix: String, offset: Int, limit: Int) throws -> [String] {
        Array(entries(index).filter { $0.key.hasPrefix(prefix) }.dropFirst(offset).prefix(limit).map(\.id))
    }

    func count(_ index: ScimIndex, prefix: String) throws -> Int {
        entries(index).filter { $0.key.hasPrefix(prefix) }.count
    }
}
