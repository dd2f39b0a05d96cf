import Foundation
import JSON
import Replica
import SetupLinks
import Storage

/// A directory event as the replica keeps it: a replicated record (kind `event`),
/// written once by the hub that accepted the change, so that every hub's change
/// feed and event list serve it, whichever hub that was.
///
/// Record layout (fields): `directory` (the directory id, for the index),
/// `event` (`user.created`, …), `payload` (the webhook body exactly as sent:
/// `{"event","tenant","product","directory_id","data"}` in `JSON.stringify`
/// form), `created` (Unix milliseconds, the change's timestamp). The hub that
/// sends its webhook adds, when the directory logs webhook events, `status_code`,
/// `delivered` (`true`/`false`) and `webhook_endpoint`.
public struct LoggedEvent: Sendable, Equatable {
    /// The event id (see `EventLog.id`).
    public var id: String
    /// The directory id.
    public var directory: String
    /// `user.created`, ….
    public var name: String
    /// The webhook body: `{"event","tenant","product","directory_id","data"}`, `JSON.stringify` form.
    public var payload: [UInt8]
    /// When the change was made (Unix milliseconds).
    public var created: UInt64
    /// The webhook's HTTP status, when the delivering hub logged it.
    public var statusCode: Int?
    /// Whether the webhook was delivered, when the delivering hub logged it.
    public var delivered: Bool?
    /// The webhook URL it was sent to, when logged.
    public var webhookEndpoint: String?
    /// The row the replica stored it at: its place in this replica's feed (see `EventLog.feed`).
    public var row: Int64 = 0

    /// An event as written: not delivered yet.
    public init(id: String, directory: String, name: String, payload: [UInt8], created: UInt64) {
        self.id = id
        self.directory = directory
        self.name = name
        self.payload = payload
        self.created = created
    }

    /// The event read from its record; `nil` for anything else (a tombstone, another kind).
    public init?(record r: Record) {
        guard r.kind == .event, r.isLive, let directory = r[EventLog.directoryField], let name = r[EventLog.eventField],
              let payload = r[EventLog.payloadField], let created = r[EventLog.createdField].flatMap({ UInt64($0) }) else { return nil }
        self.init(id: r.id, directory: directory, name: name, payload: Array(payload.utf8), created: created)
        statusCode = r[EventLog.statusField].flatMap { Int($0) }
        delivered = r[EventLog.deliveredField].map { $0 == "true" }
        webhookEndpoint = r[EventLog.endpointField]
    }
}

/// What consumes the events of one change once they are logged (the webhook outbox),
/// in the change's transaction.
public typealias LoggedEventSink = @Sendable (_ tx: LocalTransaction, _ events: [LoggedEvent]) throws -> Void

/// Directory events as replicated records: writing them in the change's transaction,
/// and reading them back as a feed and as a list.
public enum EventLog {
    static let directoryField = EventRecords.directoryField
    static let eventField = EventRecords.eventField
    static let payloadField = EventRecords.payloadField
    static let createdField = EventRecords.createdField
    static let statusField = EventRecords.statusField
    static let deliveredField = EventRecords.deliveredField
    static let endpointField = EventRecords.endpointField

    /// The index of a directory's events (`EventRecords.index`).
    static var index: IndexSpec { EventRecords.index }

    /// The id of the `n`th event of the local transaction `dot` (`EventRecords.id`).
    public static func id(_ dot: Dot, _ n: Int) -> String { EventRecords.id(dot, n) }

    /// Writes `events` as records in `tx` and returns them, with their payloads.
    ///
    /// Each event's directory is read in the transaction: `tenant`, `product` and
    /// `directory_id` come from it. A directory that is deleted or deactivated (whatever
    /// the caller saw) logs nothing: a deactivated directory emits nothing.
    public static func append(_ events: [DirectoryEvent], in tx: LocalTransaction) throws -> [LoggedEvent] {
        var scopes: [String: (tenant: String, product: String)?] = [:]
        var out: [LoggedEvent] = []
        out.reserveCapacity(events.count)
        let created = tx.hlc.milliseconds
        for e in events {
            let scope: (tenant: String, product: String)?
            if let known = scopes[e.directory] {
                scope = known
            } else {
                scope = try tx.record(e.directory).flatMap { Directory.eventScope(of: $0) }
                scopes[e.directory] = scope
            }
            guard let scope else { continue }
            let payload = EventPayload.event(e.name, tenant: scope.tenant, product: scope.product,
                                             directoryID: e.directory, data: e.data)
            let event = LoggedEvent(id: id(tx.dot, out.count), directory: e.directory, name: e.name, payload: payload,
                                    created: created)
            try tx.write(id: event.id, kind: .event, [
                directoryField: event.directory,
                eventField: event.name,
                payloadField: String(decoding: payload, as: UTF8.self),
                createdField: String(created),
            ])
            out.append(event)
        }
        return out
    }

    /// A sink for the SCIM routes: logs each change's events as records, then hands them to
    /// `consumers` (the webhook outbox), all in the change's transaction.
    public static func sink(then consumers: [LoggedEventSink]) -> DirectoryEventSink {
        { tx, events in
            let logged = try append(events, in: tx)
            guard !logged.isEmpty else { return }
            for c in consumers { try c(tx, logged) }
        }
    }

    /// Records the outcome of a webhook delivery in the event's record (a replicated write),
    /// in `tx`; does nothing if the event is gone.
    public static func recordDelivery(eventID: String, status: Int?, delivered: Bool, endpoint: String,
                                      in tx: LocalTransaction) throws {
        guard let r = try tx.record(eventID), r.isLive, r.kind == .event else { return }
        var values = [deliveredField: delivered ? "true" : "false", endpointField: endpoint]
        values[statusField] = status.map(String.init) ?? "500"
        if values.allSatisfy({ r[$0.key] == $0.value }) { return }
        try tx.write(id: eventID, kind: .event, values)
    }

    // MARK: Reading

    /// The key prefix of a directory's events in `index`.
    static func prefix(_ directory: String) -> String { directory + IndexSpec.separator }

    /// Up to `limit` of `directory`'s events stored after row `after` (0: from the first),
    /// in the order this replica stored them: the change feed. The rows only grow, and
    /// never repeat, so a reader that keeps the last row it saw misses nothing and sees
    /// nothing twice (see `ReplicaStore+RowNumbers.swift`).
    public static func feed(_ store: ReplicaStore, directory: String, after row: Int64, limit: Int) throws -> [LoggedEvent] {
        let p = prefix(directory)
        let cursor = row > 0 ? IndexCursor(key: p, row: row) : nil
        return try store.scan(index.name, prefix: p, after: cursor, limit: limit).compactMap { e in
            var event = LoggedEvent(record: e.record)
            event?.row = e.cursor.row
            return event
        }
    }

    /// How many events `directory` has.
    public static func count(_ store: ReplicaStore, directory: String) throws -> Int {
        try store.count(index.name, prefix: prefix(directory))
    }

    /// One page of `directory`'s events, newest first (as Jackson lists its event log):
    /// skipping `offset` of the newest, at most `limit`.
    public static func newestFirst(_ store: ReplicaStore, directory: String, offset: Int, limit: Int) throws -> [LoggedEvent] {
        let total = try count(store, directory: directory)
        guard offset < total, limit > 0 else { return [] }
        let end = total - offset
        let start = max(0, end - limit)
        let page = try store.scan(index.name, prefix: prefix(directory), offset: start, limit: end - start)
        return page.compactMap { e in
            var event = LoggedEvent(record: e.record)
            event?.row = e.cursor.row
            return event
        }.reversed()
    }

    /// Deletes every event of `directory` (tombstones that replicate); returns how many.
    @discardableResult
    public static func deleteAll(_ store: ReplicaStore, directory: String) throws -> Int {
        var n = 0
        while true {
            let page = try store.scan(index.name, prefix: prefix(directory), limit: 1000)
            guard !page.isEmpty else { return n }
            try store.write { tx in
                for e in page { try tx.delete(id: e.record.id) }
            }
            n += page.count
        }
    }
}
