import Foundation
import Replica

/// The changes a concurrent delete discarded on this replica (`DiscardedChange`), kept so
/// `conflicts` lists them until the user marks them seen (`conflicts --seen`): rows of the
/// file's `meta` table under `discarded.`, local, never synced. Each merge that discards a
/// change (a pull, or a peer's push to this hub) records it in the merge's transaction; a
/// later discard of the same record replaces the row.
public struct DiscardedChanges: Sendable {
    /// The replica file whose connection and lock are used.
    let store: ReplicaStore

    /// One discarded change as kept: what was discarded, and when this replica learnt it.
    public struct Entry: Sendable, Equatable {
        /// The change.
        public var change: DiscardedChange
        /// When this replica merged the delete over it.
        public var noticed: Date
    }

    static let prefix = "discarded."
    static let separator: Character = "\u{1F}"
    /// The values kept to name the record (a link's tenant and product, a directory's name).
    static let namingFields = ["tenant", "product", "name"]

    /// Every discarded change not yet marked seen, oldest first.
    public func all() throws -> [Entry] {
        try store.wrap {
            let s = try store.db.prepare("SELECT value FROM meta WHERE key >= ? AND key < ?")
            s.bind(text: Self.prefix, at: 1)
            s.bind(text: "discarded/", at: 2)
            defer { s.reset() }
            var out: [Entry] = []
            while try s.step() { if let e = Self.decode(s.text(0)) { out.append(e) } }
            return out.sorted { ($0.noticed, $0.change.id) < ($1.noticed, $1.change.id) }
        }
    }

    /// Marks every listed change seen (removes it); returns how many there were.
    @discardableResult
    public func markSeen() throws -> Int {
        try store.wrap {
            let n = Int(try store.db.scalar("SELECT count(*) FROM meta WHERE key >= ? AND key < ?",
                                            .text(Self.prefix), .text("discarded/"))?.int ?? 0)
            try store.db.run("DELETE FROM meta WHERE key >= ? AND key < ?", .text(Self.prefix), .text("discarded/"))
            return n
        }
    }

    /// One row's text: version, kind, deleters, writers, fields, time, then the naming values.
    static func encode(_ d: DiscardedChange, at date: Date) -> String {
        func clean(_ s: String) -> String { s.filter { $0 != separator } }
        let parts = ["1", String(d.kind.rawValue), d.deletedBy.map(\.hex).joined(separator: ","),
                     d.changedBy.map(\.hex).joined(separator: ","), d.fields.map(clean).joined(separator: ","),
                     String(Int64(date.timeIntervalSince1970 * 1000)), clean(d.id)]
            + namingFields.map { clean(d.values[$0] ?? "") }
        return parts.joined(separator: String(separator))
    }

    /// The entry a row holds, or `nil` for a row this version cannot read.
    static func decode(_ text: String) -> Entry? {
        let p = text.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard p.count == 7 + namingFields.count, p[0] == "1", let raw = UInt8(p[1]), let kind = RecordKind(rawValue: raw),
              let ms = Int64(p[5]) else { return nil }
        func ids(_ s: String) -> [ReplicaID] { s.split(separator: ",").compactMap { ReplicaID(hex: $0) } }
        var values: [String: String] = [:]
        for (i, f) in namingFields.enumerated() where !p[7 + i].isEmpty { values[f] = p[7 + i] }
        return Entry(change: DiscardedChange(id: p[6], kind: kind, deletedBy: ids(p[2]), changedBy: ids(p[3]),
                                             fields: p[4].split(separator: ",").map(String.init), values: values),
                     noticed: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

extension ReplicaStore {
    /// The changes concurrent deletes discarded here, until marked seen.
    public var discardedChanges: DiscardedChanges { DiscardedChanges(store: self) }

    /// Records `changes` (inside the merge's transaction).
    func recordDiscarded(_ changes: [DiscardedChange]) throws {
        let now = Date()
        for d in changes { try setMeta(DiscardedChanges.prefix + d.id, DiscardedChanges.encode(d, at: now)) }
    }
}
