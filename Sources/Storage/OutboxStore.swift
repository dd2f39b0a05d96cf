/// The webhook outbox of a replica file: a local table beside the replica (never a
/// record, never synced), over the store's connection and lock.
///
/// Events join the outbox inside the local transaction of the change that caused
/// them (`LocalTransaction.enqueueEvent`); this type holds the delivery worker's
/// queries and updates and the listings of `directory events`.
public struct OutboxStore: Sendable {
    /// The replica file whose connection and lock the outbox uses.
    let store: ReplicaStore

    /// The columns `event(_:)` reads, in its order.
    static let columns = "seq, directory, event, body, created, status, attempts, next_attempt, last_attempt, last_status, last_error, finished, event_id"

    /// Adds an event, due at once, in the caller's transaction; returns its seq.
    func insert(directory: String, event: String, body: [UInt8], eventID: String?) throws -> Int64 {
        let now = Int64(clamping: store.now())
        let s = try store.db.prepare("""
            INSERT INTO outbox(directory, event, body, created, next_attempt, event_id) VALUES(?, ?, ?, ?, ?, ?)
            """)
        if let eventID { s.bind(text: eventID, at: 6) } else { _ = s.bindNull(at: 6) }
        s.bind(text: directory, at: 1)
        s.bind(text: event, at: 2)
        body.withUnsafeBytes { _ = s.bind(blob: $0, at: 3) }
        s.bind(int: now, at: 4)
        s.bind(int: now, at: 5)
        while try s.step() {}
        return store.db.lastInsertRowID
    }

    private static func event(_ s: Statement) -> OutboxEvent {
        OutboxEvent(seq: s.int(0), directory: s.text(1), event: s.text(2), body: s.withBlob(3) { Array($0) },
                    created: UInt64(max(0, s.int(4))), status: OutboxStatus(rawValue: Int(s.int(5))) ?? .pending,
                    attempts: Int(s.int(6)), nextAttempt: UInt64(max(0, s.int(7))),
                    lastAttempt: s.isNull(8) ? nil : UInt64(max(0, s.int(8))),
                    lastStatus: s.isNull(9) ? nil : Int(s.int(9)),
                    lastError: s.isNull(10) ? nil : s.text(10),
                    finished: s.isNull(11) ? nil : UInt64(max(0, s.int(11))),
                    eventID: s.isNull(12) ? nil : s.text(12))
    }

    /// The highest seq in the outbox (0 when it is empty): pending events
    /// discovered later are above it.
    public func lastSeq() throws -> Int64 {
        try store.wrap { try store.db.scalar("SELECT max(seq) FROM outbox")?.int ?? 0 }
    }

    /// Pending events with `after < seq <= upTo`, in seq order, at most `limit`,
    /// without their bodies: how the sender learns which directories have work.
    public func pendingRefs(after: Int64, upTo: Int64, limit: Int) throws -> [OutboxRef] {
        try store.wrap {
            let s = try store.db.prepare("""
                SELECT seq, directory, next_attempt FROM outbox WHERE seq>? AND seq<=? AND status=0 ORDER BY seq LIMIT ?
                """)
            s.bind(int: after, at: 1)
            s.bind(int: upTo, at: 2)
            s.bind(int: Int64(max(0, limit)), at: 3)
            defer { s.reset() }
            var out: [OutboxRef] = []
            while try s.step() {
                out.append(OutboxRef(seq: s.int(0), directory: s.text(1), nextAttempt: UInt64(max(0, s.int(2)))))
            }
            return out
        }
    }

    /// A directory's pending events from `seq` on, in delivery order, at most `limit`.
    public func pending(directory: String, from seq: Int64 = 0, limit: Int) throws -> [OutboxEvent] {
        try store.wrap {
            let s = try store.db.prepare("""
                SELECT \(Self.columns) FROM outbox WHERE seq>=? AND directory=? AND status=0 ORDER BY seq LIMIT ?
                """)
            s.bind(int: seq, at: 1)
            s.bind(text: directory, at: 2)
            s.bind(int: Int64(max(0, limit)), at: 3)
            defer { s.reset() }
            var out: [OutboxEvent] = []
            while try s.step() { out.append(Self.event(s)) }
            return out
        }
    }

    /// Records a successful attempt: the events are delivered.
    public func recordDelivered(_ seqs: [Int64], status: Int, at time: UInt64) throws {
        try updateEvents(seqs, """
            UPDATE outbox SET status=1, attempts=attempts+1, last_attempt=?1, last_status=?2, last_error=NULL, finished=?1,
                body=x'' WHERE seq=?3 AND status=0
            """) { s in
            s.bind(int: Int64(clamping: time), at: 1)
            s.bind(int: Int64(status), at: 2)
        }
    }

    /// Records a failed attempt: the events stay pending until `nextAttempt`.
    public func recordFailedAttempt(_ seqs: [Int64], status: Int?, error: String, at time: UInt64, nextAttempt: UInt64) throws {
        try updateEvents(seqs, """
            UPDATE outbox SET attempts=attempts+1, last_attempt=?1, last_status=?2, last_error=?4, next_attempt=?5
            WHERE seq=?3 AND status=0
            """) { s in
            s.bind(int: Int64(clamping: time), at: 1)
            if let status { s.bind(int: Int64(status), at: 2) } else { s.bindNull(at: 2) }
            s.bind(text: error, at: 4)
            s.bind(int: Int64(clamping: nextAttempt), at: 5)
        }
    }

    /// Records a last failed attempt: the events are given up (`failed`).
    public func recordGivenUp(_ seqs: [Int64], status: Int?, error: String, at time: UInt64) throws {
        try updateEvents(seqs, """
            UPDATE outbox SET status=2, attempts=attempts+1, last_attempt=?1, last_status=?2, last_error=?4, finished=?1
            WHERE seq=?3 AND status=0
            """) { s in
            s.bind(int: Int64(clamping: time), at: 1)
            if let status { s.bind(int: Int64(status), at: 2) } else { s.bindNull(at: 2) }
            s.bind(text: error, at: 4)
        }
    }

    /// Runs `sql` once per event (`?3` is its seq) in one transaction; `bind` binds the rest.
    private func updateEvents(_ seqs: [Int64], _ sql: String, bind: (Statement) -> Void) throws {
        guard !seqs.isEmpty else { return }
        try store.wrap {
            try store.db.transaction {
                let s = try store.db.prepare(sql)
                defer { s.reset() }
                for seq in seqs {
                    s.reset()
                    bind(s)
                    s.bind(int: seq, at: 3)
                    while try s.step() {}
                }
            }
        }
    }

    /// How many events wait to be delivered (a scan of the outbox).
    public func pendingCount() throws -> Int {
        try store.wrap { Int(try store.db.scalar("SELECT count(*) FROM outbox WHERE status=0")?.int ?? 0) }
    }

    /// Finishes every pending event of `directory` (from `seq` on) without sending it, with
    /// `status` (`dropped`, or `failed`) and the reason; with `createdBefore`,
    /// only those accepted before that time.
    /// - Returns: How many were finished.
    @discardableResult
    public func finishPending(directory: String, from seq: Int64 = 0, status: OutboxStatus, reason: String, at time: UInt64,
                              createdBefore: UInt64? = nil) throws -> Int {
        try store.wrap {
            try store.db.run("""
                UPDATE outbox SET status=?, last_error=?, finished=? WHERE seq>=? AND directory=? AND status=0 AND created<?
                """, .int(Int64(status.rawValue)), .text(reason), .int(Int64(clamping: time)), .int(seq), .text(directory),
                .int(createdBefore.map { Int64(clamping: $0) } ?? Int64.max))
            return store.db.changes
        }
    }

    /// A directory's events in delivery order, after `seq` (a cursor), at most `limit`.
    ///
    /// Walks the table in seq order from the cursor (there is no index by directory,
    /// to keep SCIM writes cheap): a listing reads the outbox once, page by page.
    public func events(directory: String, after seq: Int64 = 0, status: OutboxStatus? = nil,
                       limit: Int) throws -> [OutboxEvent] {
        try store.wrap {
            let s = try store.db.prepare(status == nil
                ? "SELECT \(Self.columns) FROM outbox WHERE directory=? AND seq>? ORDER BY seq LIMIT ?"
                : "SELECT \(Self.columns) FROM outbox WHERE directory=? AND seq>? AND status=? ORDER BY seq LIMIT ?")
            s.bind(text: directory, at: 1)
            s.bind(int: seq, at: 2)
            if let status {
                s.bind(int: Int64(status.rawValue), at: 3)
                s.bind(int: Int64(max(0, limit)), at: 4)
            } else {
                s.bind(int: Int64(max(0, limit)), at: 3)
            }
            defer { s.reset() }
            var out: [OutboxEvent] = []
            while try s.step() { out.append(Self.event(s)) }
            return out
        }
    }

    /// How many events are in each state, for the whole outbox or one directory.
    public func counts(directory: String? = nil) throws -> OutboxCounts {
        try store.wrap {
            let s = try store.db.prepare(directory == nil
                ? "SELECT status, count(*) FROM outbox GROUP BY status"
                : "SELECT status, count(*) FROM outbox WHERE directory=? GROUP BY status")
            if let directory { s.bind(text: directory, at: 1) }
            defer { s.reset() }
            var c = OutboxCounts()
            while try s.step() {
                let n = Int(s.int(1))
                switch OutboxStatus(rawValue: Int(s.int(0))) {
                case .pending: c.pending += n
                case .delivered: c.delivered += n
                case .failed: c.failed += n
                case .dropped: c.dropped += n
                case nil: break
                }
            }
            return c
        }
    }

    /// The directory ids in the outbox that start with `prefix` (lowercased), at most `limit`,
    /// sorted: `directory events` of a directory that was deleted since (a scan of the outbox).
    public func directories(prefix: String, limit: Int = 10) throws -> [String] {
        try store.wrap {
            let s = try store.db.prepare("""
                SELECT DISTINCT directory FROM outbox WHERE substr(directory, 1, length(?1))=?1 ORDER BY directory LIMIT ?2
                """)
            s.bind(text: prefix, at: 1)
            s.bind(int: Int64(max(0, limit)), at: 2)
            defer { s.reset() }
            var out: [String] = []
            while try s.step() { out.append(s.text(0)) }
            return out
        }
    }

    /// Housekeeping: deletes events delivered, given up or dropped before `time`.
    /// Pending events are never deleted, nor the newest event (its seq keeps the
    /// next one from reusing a number a receiver may have seen).
    /// - Returns: How many were deleted.
    @discardableResult
    public func purge(finishedBefore time: UInt64) throws -> Int {
        try store.wrap {
            try store.db.run("DELETE FROM outbox WHERE status<>0 AND finished<? AND seq<(SELECT max(seq) FROM outbox)",
                             .int(Int64(clamping: time)))
            return store.db.changes
        }
    }
}

extension ReplicaStore {
    /// This replica's webhook outbox (a local table of the file, never synced).
    public var outbox: OutboxStore { OutboxStore(store: self) }
}

extension LocalTransaction {
    /// Adds an event to this replica's webhook outbox, in this transaction: it
    /// commits with the change that caused it, or neither does.
    ///
    /// The event is due at once (`nextAttempt` = now). Not a record write: it
    /// takes no dot and is never synced.
    /// `eventID` names the event's replicated record (kind `event`), if it has one.
    /// - Returns: The event's sequence number.
    @discardableResult
    public func enqueueEvent(directory: String, event: String, body: [UInt8], eventID: String? = nil) throws -> Int64 {
        try store.outbox.insert(directory: directory, event: event, body: body, eventID: eventID)
    }
}
