import Foundation
import Replica

/// The part of a merge that needs no database: each record of a page read once
/// (canonical form, clock, dots, liveness, the winners its indexes read), its
/// id key, and the index keys it gets if it is new.
///
/// A sync does this on its fetcher thread while the applier merges the pages
/// before (`ReplicaStore.mergePreparer()`, then `apply(pulled:from:)` with the
/// prepared records), so the one core the applier has does only what needs the
/// database. A page applied without prepared records is prepared chunk by chunk
/// inside the merge by the same code (`prepare(_:_:plan:hasher:store:generation:)`).
///
/// Prepared records carry which store and which set of installed indexes they
/// were made for; the merge ignores (and prepares again) any that do not match.
public final class MergePreparer: @unchecked Sendable {
    // @unchecked Sendable: one thread at a time uses it (a sync's fetcher); the
    // hasher's OpenSSL contexts are its own copy, shared with nothing.
    let plan: IndexPlan?
    let hasher: RecordKeyHasher
    let store: Int
    let generation: Int
    let rules: [UInt8: RecordRule]?

    init(plan: IndexPlan?, hasher: RecordKeyHasher, store: Int, generation: Int, rules: [UInt8: RecordRule]?) {
        self.plan = plan
        self.hasher = hasher
        self.store = store
        self.generation = generation
        self.rules = rules
    }

    /// Every record of `page`, prepared: call it on any one thread at a time. The records a
    /// peer sends are also checked against the domain's rules here (`RecordRule`), off the
    /// merge's thread: the merge only reads the verdict.
    public func prepare(_ page: ChangePage) -> PreparedRecords {
        Self.prepare(page, 0..<page.records.count, plan: plan, hasher: hasher, store: store, generation: generation, rules: rules)
    }

    /// The records of `page` in `range`, prepared, up to the first that cannot be read
    /// (its error is kept: the merge refuses the page when it reaches that record).
    /// With `rules`, each record's verdict is kept too (`violations`).
    static func prepare(_ page: ChangePage, _ range: Range<Int>, plan: IndexPlan?, hasher: RecordKeyHasher,
                        store: Int, generation: Int, rules: [UInt8: RecordRule]? = nil) -> PreparedRecords {
        var out = PreparedRecords(range: range, store: store, generation: generation)
        out.rulesChecked = rules != nil
        let wanted = plan?.wanted ?? []
        let kinds = valueKinds(rules)
        out.facts.reserveCapacity(range.count)
        out.keys.reserveCapacity(range.count)
        out.keyStarts.reserveCapacity(range.count + 1)
        out.keyStarts.append(0)
        for i in range {
            let r = page.records[i]
            guard !r.id.isEmpty, r.id.utf8.count <= 256 else {
                out.failure = MergeError.invalidRecord(id: r.id, reason: "bad id")
                break
            }
            let readable: Bool = r.bytes.withUnsafeBytes { raw in
                let f: RecordFacts
                do throws(RecordDecodingError) { f = try RecordFacts(encoded: raw, winnersOf: wanted, valuesOf: kinds) } catch {
                    out.failure = MergeError.invalidRecord(id: r.id, reason: "not a canonical record encoding: \(error.description)")
                    return false
                }
                plan?.append(facts: f, bytes: raw, to: &out.keyBytes, entries: &out.keyEntries)
                out.facts.append(f)
                return true
            }
            guard readable else { break }
            if let rules {
                let f = out.facts[out.facts.count - 1]
                out.violations.append(RecordRule.violation(of: r, kind: f.kind, rules: rules, values: f.values))
                // Only the verdict is kept: the ranges served the check.
                out.facts[out.facts.count - 1].values = nil
            }
            out.keys.append(hasher.key(r.id))
            out.ids.append(r.id)
            out.keyStarts.append(out.keyEntries.count)
        }
        return out
    }
}

/// Records of one page read ahead of their merge (see `MergePreparer`).
public struct PreparedRecords: Sendable {
    /// The positions in the page these are the records of.
    let range: Range<Int>
    /// The store and the generation of its installed indexes they were made for.
    let store: Int
    let generation: Int
    /// Each record's facts, up to `failure`'s record, in page order.
    var facts: [RecordFacts] = []
    /// Each record's id key.
    var keys: [Int64] = []
    /// Each record's id: the merge uses prepared records only for the page they were read from.
    var ids: [String] = []
    /// The index keys of every record, one after another (see `IndexPlan.append`).
    var keyBytes: [UInt8] = []
    var keyEntries: [(ix: Int, range: Range<Int>)] = []
    /// Record `k`'s index keys are `keyEntries[keyStarts[k]..<keyStarts[k + 1]]`.
    var keyStarts: [Int] = []
    /// Why the record after the last prepared one cannot be merged, if one cannot.
    var failure: MergeError?
    /// Whether the records were checked against the domain's rules (`violations` then holds each verdict).
    var rulesChecked = false
    /// Each record's verdict under the rules (`nil`: it follows them), in page order.
    var violations: [RecordRule.Violation?] = []

    /// Whether these are the records of all of `page`, read for store `store` with indexes `generation`.
    func fit(_ page: ChangePage, store: Int, generation: Int) -> Bool {
        // `ids` holds at most `range.count` ids, so the loop stays inside the page.
        guard range == 0..<page.records.count, self.store == store, self.generation == generation else { return false }
        for (k, id) in ids.enumerated() where page.records[k].id != id { return false }
        return true
    }

    /// The position in `facts` of the page's `i`th record, or the error that refuses it.
    func index(of i: Int) throws(MergeError) -> Int {
        let k = i - range.lowerBound
        if k < facts.count { return k }
        throw failure ?? MergeError.invalidRecord(id: "", reason: "record \(i) was not prepared")
    }
}
