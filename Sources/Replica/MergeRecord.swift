/// Why a batch of remote records was refused.
public enum MergeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A remote record has the id of a local record of another kind.
    case kindMismatch(id: String)
    /// A remote record is not a valid state.
    case invalidRecord(id: String, reason: String)

    /// A sentence for a person.
    public var description: String {
        switch self {
        case .kindMismatch(let id): return "record \(id) arrived with a different kind than the local one"
        case .invalidRecord(let id, let reason): return "record \(id) is invalid: \(reason)"
        }
    }
}

extension Record {
    /// The number of distinct values that lost a concurrent write, over all
    /// fields (concurrent writes of the visible value are not conflicts).
    public var conflictCount: Int {
        var n = 0
        for f in fields where f.register.versions.count > 1 { n += f.register.losers.count }
        return n
    }

    /// Checks that a remote record can be merged: a non-empty id, at least one
    /// register, and a clock that is not absurd.
    public func validate() throws {
        guard !id.isEmpty, id.utf8.count <= 256 else { throw MergeError.invalidRecord(id: id, reason: "bad id") }
        guard !fields.isEmpty || !deletedRegister.isEmpty else {
            throw MergeError.invalidRecord(id: id, reason: "no registers")
        }
    }
}

/// Merges one remote record into an optional local state.
///
/// Returns the new state, or `nil` when the local state already contains the
/// remote one (re-delivery, or an older state): nothing to write.
public func mergeRecord(local: Record?, remote: Record, summary: inout MergeSummary) throws -> Record? {
    guard let local else {
        summary.inserted += 1
        summary.changed += 1
        return remote
    }
    guard local.kind == remote.kind else { throw MergeError.kindMismatch(id: remote.id) }
    switch local.clock.compare(remote.clock) {
    case .equal, .after:
        return nil
    case .before:
        summary.changed += 1
        if remote.conflictCount > local.conflictCount { summary.conflicts += 1 }
        return remote
    case .concurrent:
        let m = local.fullMerge(with: remote)
        summary.changed += 1
        if m.conflictCount > local.conflictCount || m.isDeleted != local.isDeleted { summary.conflicts += 1 }
        // A concurrent delete beat an update (on either side): said, not silent.
        if m.isDeleted, local.isDeleted != remote.isDeleted,
           let d = DiscardedChange.between(live: local.isDeleted ? remote : local, deleted: local.isDeleted ? local : remote) {
            if local.isDeleted && m.conflictCount <= local.conflictCount { summary.conflicts += 1 }
            summary.discarded.append(d)
        }
        return m
    }
}
