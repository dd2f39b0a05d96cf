import Foundation

/// The kinds of replicated record. The codes are stored and sent on the wire: never reuse one.
public enum RecordKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A setup link (service `dsync`).
    case link = 1
    /// A directory created through a setup link.
    case directory = 2
    /// A SCIM user of a directory.
    case user = 3
    /// A SCIM group of a directory.
    case group = 4
    /// One user's membership in one group (an add-wins flag).
    case membership = 5
    /// A replica known to the replicated system (for tombstone purge).
    case replica = 6
    /// A setup-link token that no longer opens anything (regenerated or deleted): kept for
    /// ever, so every copy of that token, whatever peers sent, stays dead.
    case retiredToken = 7
    /// One directory event (`user.created`, …) as the hub that accepted its change sent it:
    /// written once, so every hub's change feed and event list can serve it.
    case event = 8
    /// An app API key (stored as the SHA-256 of the key, never the key).
    case apiKey = 9

    /// The kind's name: `link`, `directory`, `user`, `group`, `membership`, `replica`, `retired-token`, `event`, `api-key`.
    public var description: String {
        switch self {
        case .link: "link"
        case .directory: "directory"
        case .user: "user"
        case .group: "group"
        case .membership: "membership"
        case .replica: "replica"
        case .retiredToken: "retired-token"
        case .event: "event"
        case .apiKey: "api-key"
        }
    }

    /// Parses a kind's name.
    public init?(name: String) {
        guard let k = RecordKind.allCases.first(where: { $0.description == name }) else { return nil }
        self = k
    }
}

/// A named field of a record and its register.
public struct Field: Hashable, Sendable {
    /// The field name (`token`, `tenant`, ...).
    public var name: String
    /// The field's multi-value register.
    public var register: Register<String>

    /// Creates a field.
    public init(name: String, register: Register<String>) {
        self.name = name
        self.register = register
    }
}

/// A replicated record: a set of field registers, a delete register and a vector clock.
///
/// A record is a state-based CRDT: `merged(with:)` is a join (commutative,
/// associative, idempotent). Field values are strings; the `deleted` flag is a
/// register like the others whose visible value is `true` if any concurrent
/// version says so, which makes a delete win over a concurrent update.
public struct Record: Hashable, Sendable {
    /// The record id (hex for links, a UUID for directories).
    public var id: String
    /// What the record is.
    public var kind: RecordKind
    /// The field registers, sorted by name (UTF-8 byte order, see `fieldNameLess`), none empty.
    public private(set) var fields: [Field]
    /// The delete register.
    public private(set) var deletedRegister: Register<Bool>
    /// For each replica, the highest counter of its writes to this record that this state absorbed.
    public private(set) var clock: VectorClock

    /// An empty record (never written).
    public init(id: String, kind: RecordKind) {
        self.id = id
        self.kind = kind
        self.fields = []
        self.deletedRegister = Register()
        self.clock = VectorClock()
    }

    /// A record from its parts, as decoded from storage or the wire.
    ///
    /// Fields are sorted by name; empty registers are dropped; the clock is raised
    /// to cover every dot held, so a malformed input cannot produce a state that
    /// claims a value it has not seen.
    public init(id: String, kind: RecordKind, fields: [Field], deleted: Register<Bool>, clock: VectorClock) {
        self.id = id
        self.kind = kind
        var fs = fields
        if fs.contains(where: { $0.register.isEmpty }) { fs.removeAll { $0.register.isEmpty } }
        var ordered = true
        var i = 1
        while i < fs.count {
            if !fieldNameLess(fs[i - 1].name, fs[i].name) { ordered = false; break }
            i += 1
        }
        if !ordered { fs.sort { fieldNameLess($0.name, $1.name) } }
        var k = 1
        while k < fs.count {
            if fieldNameEqual(fs[k].name, fs[k - 1].name) {
                fs[k - 1].register = Register(versions: fs[k - 1].register.versions + fs[k].register.versions)
                fs.remove(at: k)
            } else { k += 1 }
        }
        self.fields = fs
        self.deletedRegister = deleted
        var c = clock
        for f in fs { for v in f.register.versions where !c.covers(v.dot) { c.add(v.dot) } }
        for v in deleted.versions where !c.covers(v.dot) { c.add(v.dot) }
        self.clock = c
    }

    init(uncheckedID id: String, kind: RecordKind, sortedFields: [Field], deleted: Register<Bool>, clock: VectorClock) {
        self.id = id
        self.kind = kind
        self.fields = sortedFields
        self.deletedRegister = deleted
        self.clock = clock
    }

    /// Whether the record is deleted: a tombstone (any concurrent delete wins).
    public var isDeleted: Bool { deletedRegister.versions.contains { $0.value } }

    /// Whether the record exists for users: written at least once and not deleted.
    public var isLive: Bool { !fields.isEmpty && !isDeleted }

    /// The visible value of a field.
    public subscript(name: String) -> String? { register(name)?.value }

    /// The register of a field, `nil` if never written.
    public func register(_ name: String) -> Register<String>? {
        var lo = 0, hi = fields.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let order = fieldNameOrder(fields[mid].name, name)
            if order == 0 { return fields[mid].register }
            if order < 0 { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// Every distinct dot held by the record's registers (the record's entries in the dots index).
    public var dots: Set<Dot> {
        var s = Set<Dot>()
        for f in fields { for v in f.register.versions { s.insert(v.dot) } }
        for v in deletedRegister.versions { s.insert(v.dot) }
        return s
    }

    /// The distinct dots held, without building a set (a record usually holds one to three).
    public var distinctDots: [Dot] {
        var out: [Dot] = []
        func add(_ d: Dot) { if !out.contains(d) { out.append(d) } }
        for f in fields { for v in f.register.versions { add(v.dot) } }
        for v in deletedRegister.versions { add(v.dot) }
        return out
    }

    /// The largest timestamp held; a merge raises the local HLC to it.
    public var maxHLC: HLC {
        var m = HLC.zero
        for f in fields { for v in f.register.versions where v.hlc > m { m = v.hlc } }
        for v in deletedRegister.versions where v.hlc > m { m = v.hlc }
        return m
    }

    /// The conflicts: for each field with concurrent values, the values that lost.
    public var conflicts: [(field: String, winner: Version<String>, losers: [Version<String>])] {
        fields.compactMap { f in
            let l = f.register.losers
            guard !l.isEmpty, let w = f.register.winner else { return nil }
            return (f.name, w, l)
        }
    }

    // MARK: Local writes

    /// Writes fields as one local transaction stamped `dot` / `hlc`.
    ///
    /// Each written field's register is replaced (the writer has seen every
    /// current value). With `revive`, the delete register is set to `false`, so a
    /// create made after seeing a delete brings the record back.
    public mutating func write(_ values: [String: String], dot: Dot, hlc: HLC, revive: Bool = false) {
        let version = { (v: String) in Version(value: v, hlc: hlc, dot: dot) }
        // Both sides sorted by name: one merge pass (a create writes every field of a new record).
        var merged: [Field] = []
        merged.reserveCapacity(fields.count + values.count)
        var i = 0
        for (name, value) in values.sorted(by: { fieldNameLess($0.key, $1.key) }) {
            var order = 1
            while i < fields.count {
                order = fieldNameOrder(fields[i].name, name)
                if order >= 0 { break }
                merged.append(fields[i])
                i += 1
            }
            if i < fields.count, order == 0 {
                var field = fields[i]
                field.register.write(version(value))
                merged.append(field)
                i += 1
            } else {
                merged.append(Field(name: name, register: Register(version(value))))
            }
        }
        merged.append(contentsOf: fields[i...])
        fields = merged
        if revive || deletedRegister.isEmpty {
            deletedRegister.write(Version(value: false, hlc: hlc, dot: dot))
        }
        clock.add(dot)
    }

    /// Deletes the record as one local transaction: only the delete register is written.
    public mutating func delete(dot: Dot, hlc: HLC) {
        deletedRegister.write(Version(value: true, hlc: hlc, dot: dot))
        clock.add(dot)
    }

    /// This record as its writer rewrites it when joining the replicas for the
    /// first time: every field's visible value and the delete flag written
    /// again at `dot`, with the clock raised to cover `floor`.
    ///
    /// The result follows every change under `floor`, in particular any
    /// tombstone purged under it with the same id (a link id is derived from
    /// tenant and product, so a replica that never synced can create the id of
    /// a link deleted and purged elsewhere). Everywhere, it then wins over that
    /// tombstone as a create made after seeing the delete would, whether or not
    /// the tombstone has been purged there yet.
    public func rebased(over floor: VectorClock, dot: Dot, hlc: HLC) -> Record {
        var values: [String: String] = [:]
        for f in fields { if let v = f.register.value { values[f.name] = v } }
        var r = Record(uncheckedID: id, kind: kind, sortedFields: [], deleted: Register(), clock: clock.merged(with: floor))
        r.write(values, dot: dot, hlc: hlc, revive: true)
        if isDeleted { r.delete(dot: dot, hlc: hlc) }
        return r
    }

    // MARK: Dropping lies

    /// This record without what known lies put in it: versions whose dot is
    /// `refuted`, and clock entries that are (each lowered to the largest dot of
    /// its replica the record still holds, or dropped). `nil` when nothing is
    /// left (every register held only forged versions); `self` when no lie is in it.
    ///
    /// The lowered clock is what the record's own content shows: writes of that
    /// replica it absorbed and later overwrote are forgotten with the lie, and come
    /// back with the next state of the record that holds them (a join restores them).
    public func droppingLies(_ refuted: (ReplicaID, UInt64) -> Bool) -> Record? {
        guard clock.entries.contains(where: { refuted($0.replica, $0.counter) }) else { return self }
        var out: [Field] = []
        out.reserveCapacity(fields.count)
        for f in fields {
            let kept = f.register.versions.filter { !refuted($0.dot.replica, $0.dot.counter) }
            if !kept.isEmpty { out.append(Field(name: f.name, register: Register(sortedVersions: kept))) }
        }
        let deleted = deletedRegister.versions.filter { !refuted($0.dot.replica, $0.dot.counter) }
        guard !out.isEmpty || !deleted.isEmpty else { return nil }
        var entries: [VectorClock.Entry] = []
        for e in clock.entries {
            guard refuted(e.replica, e.counter) else { entries.append(e); continue }
            var held: UInt64 = 0
            for f in out { for v in f.register.versions where v.dot.replica == e.replica { held = max(held, v.dot.counter) } }
            for v in deleted where v.dot.replica == e.replica { held = max(held, v.dot.counter) }
            if held > 0 { entries.append(VectorClock.Entry(replica: e.replica, counter: held)) }
        }
        return Record(uncheckedID: id, kind: kind, sortedFields: out, deleted: Register(sortedVersions: deleted),
                      clock: VectorClock(sortedEntries: entries))
    }

    // MARK: Merge

    /// The join of two states of the same record.
    ///
    /// A causally later state replaces an earlier one whole; concurrent states
    /// are joined register by register (see `Register.merge`), then the clocks.
    public func merged(with other: Record) -> Record {
        switch clock.compare(other.clock) {
        case .equal, .after: return self
        case .before: return other
        case .concurrent: return fullMerge(with: other)
        }
    }

    /// The register-by-register join, without the causal fast path (used by tests
    /// to check that the fast path agrees with it).
    public func fullMerge(with other: Record) -> Record {
        var out: [Field] = []
        out.reserveCapacity(max(fields.count, other.fields.count))
        var i = 0, j = 0
        let a = fields, b = other.fields
        let empty = Register<String>()
        while i < a.count || j < b.count {
            let name: String
            let l: Register<String>, s: Register<String>
            if j == b.count || (i < a.count && fieldNameLess(a[i].name, b[j].name)) {
                name = a[i].name; l = a[i].register; s = empty; i += 1
            } else if i == a.count || fieldNameLess(b[j].name, a[i].name) {
                name = b[j].name; l = empty; s = b[j].register; j += 1
            } else {
                name = a[i].name; l = a[i].register; s = b[j].register; i += 1; j += 1
            }
            let m = Register.merge(l, clock, s, other.clock)
            if !m.isEmpty { out.append(Field(name: name, register: m)) }
        }
        let d = Register.merge(deletedRegister, clock, other.deletedRegister, other.clock)
        if out.isEmpty && d.isEmpty {
            // Each state claims to have seen and overwritten every write the other holds, which no
            // two honest states can: one of the clocks carries a lie about some replica's writes.
            // Nothing is dropped then (a record with no register cannot be stored): keep both
            // sides' writes, until the lie is corrected and a later join sorts them out.
            return Record(id: id, kind: kind, fields: fields + other.fields,
                          deleted: Register(versions: deletedRegister.versions + other.deletedRegister.versions),
                          clock: clock.merged(with: other.clock))
        }
        return Record(uncheckedID: id, kind: kind, sortedFields: out, deleted: d, clock: clock.merged(with: other.clock))
    }
}

/// The canonical order of field names: their UTF-8 bytes compared lexicographically.
///
/// Byte order rather than `String`'s `<`, which compares by canonical
/// equivalence: two names that differ in bytes must never compare equal, or
/// the encoding of a record would not be unique.
@inline(__always)
public func fieldNameLess(_ a: String, _ b: String) -> Bool { fieldNameOrder(a, b) < 0 }

/// Whether two field names are the same bytes (not merely canonically equivalent).
@inline(__always)
func fieldNameEqual(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && fieldNameOrder(a, b) == 0
}

/// The byte order of two field names as a sign: negative when `a` sorts first, 0 when equal.
/// One comparison where `fieldNameLess` both ways would take two (the lookup of every field read).
@inline(__always)
func fieldNameOrder(_ a: String, _ b: String) -> Int {
    let fast = a.utf8.withContiguousStorageIfAvailable { pa in
        b.utf8.withContiguousStorageIfAvailable { pb -> Int in
            let n = min(pa.count, pb.count)
            let c = n == 0 ? 0 : Int(memcmp(pa.baseAddress!, pb.baseAddress!, n))
            return c != 0 ? c : pa.count - pb.count
        }
    }
    if let f = fast, let result = f { return result }
    if a.utf8.elementsEqual(b.utf8) { return 0 }
    return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
}
