import Bytes
import Events
import Foundation
import HTTP
import JSON
import Replica
import SetupLinks
import Storage

/// `/api/v1/dsync/events`, `/events/<id>` (Jackson's event log) and `/changes` (the
/// change feed, beyond Jackson). Both read the replicated event records (`EventLog`), so
/// every hub answers for every directory, whichever hub accepted the change.
extension Call {
    /// `GET /events`: the events of the request's directories, newest first, paged by
    /// `pageOffset`/`pageLimit`: `{"data":[Event…]}`. `status_code` and `delivered` are
    /// there once the hub that sent the webhook logged it (the directory's
    /// `log_webhook_events`).
    func events() throws -> HTTPResponse {
        let dirs = try scope()
        let paging = try query.paging()
        var page: [LoggedEvent]
        if dirs.count == 1 {
            page = try EventLog.newestFirst(store, directory: dirs[0].id, offset: paging.offset, limit: paging.limit)
        } else {
            // Several directories: the newest of each, merged; each directory's first
            // offset + limit events are read, so that window is bounded.
            guard paging.offset + paging.limit <= Self.maxMergedEventWindow else {
                throw APIError.badRequest("pageOffset + pageLimit must be at most \(Self.maxMergedEventWindow) when the events of several directories are listed; page one directory with directoryId to go further")
            }
            var all: [LoggedEvent] = []
            for d in dirs { all += try EventLog.newestFirst(store, directory: d.id, offset: 0, limit: paging.offset + paging.limit) }
            all.sort { ($0.created, $0.row) > ($1.created, $1.row) }
            page = Array(all.dropFirst(paging.offset).prefix(paging.limit))
        }
        var w = JSONWriter(capacity: 1024 + page.count * 600)
        w.beginObject()
        w.key("data")
        w.beginArray()
        for e in page { Shapes.writeEvent(e, into: &w) }
        w.endArray()
        w.endObject()
        page = []
        return .json(w.bytes)
    }

    /// `GET /events/<id>`: `{"data": Event}`.
    func event(_ id: String) throws -> HTTPResponse {
        let dirs = try scope()
        guard EventRecords.isID(id), let r = try store.record(id: id), let e = LoggedEvent(record: r),
              dirs.contains(where: { $0.id == e.directory }) else {
            throw APIError.notFound("Event not found")
        }
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("data")
        Shapes.writeEvent(e, into: &w)
        w.endObject()
        return .json(w.bytes)
    }

    /// `DELETE /events?directoryId=`: deletes the directory's events (everywhere, once the
    /// deletes sync). `{"data":null}`.
    func deleteEvents() throws -> HTTPResponse {
        guard let id = query.nonEmpty("directoryId") else { throw APIError.badRequest("Missing required parameters.") }
        let d = try visibleDirectory(id)
        try EventLog.deleteAll(store, directory: d.id)
        return data(.null)
    }

    /// How deep the event log of several directories at once may be paged.
    static let maxMergedEventWindow = 10_000

    /// The most events one feed answer carries, and how many when `limit` is not given.
    static let maxFeedLimit = 1000
    static let defaultFeedLimit = 100

    /// `GET /changes?directoryId=&after=CURSOR&limit=N&wait=S`: the directory's events after
    /// `after` (from the first without it), at most `limit`, in the order this hub stored them,
    /// each with its `id` and the webhook body's members:
    /// `{"data":[…],"cursor":"…"}`. The next request passes `cursor` as `after`. With `wait`,
    /// a request that finds nothing waits up to S seconds (at most 60) for the next event.
    ///
    /// A cursor is this hub's row number of the last event returned (see
    /// `ReplicaStore+RowNumbers.swift`: rows are never reused), with this replica's id: a
    /// cursor from another hub is refused, since each hub stores events in its own order.
    func changes() throws -> HTTPResponse {
        guard let id = query.nonEmpty("directoryId") else { throw APIError.badRequest("Please provide directoryId") }
        let d = try visibleDirectory(id, message: "Directory not found.")
        var row: Int64 = 0
        if let raw = query.nonEmpty("after") {
            row = try FeedCursor.decode(raw, replica: store.replicaID, directory: d.id)
            guard row <= (try store.highestRowNumber()) else {
                throw APIError.badRequest("after is a cursor beyond this hub's feed (it was never issued here); pass the cursor of the previous answer, or leave after out to start from the first event")
            }
        }
        var limit = Self.defaultFeedLimit
        if let raw = query.nonEmpty("limit") {
            guard let n = Int(raw), n >= 1, n <= Self.maxFeedLimit else {
                throw APIError.badRequest("limit must be a whole number from 1 to \(Self.maxFeedLimit), not \"\(raw.prefix(40))\"")
            }
            limit = n
        }
        var wait = 0.0
        if let raw = query.nonEmpty("wait") {
            guard let s = Double(raw), s.isFinite, s >= 0, s <= Double(AppAPIRoutes.maxWaitSeconds) else {
                throw APIError.badRequest("wait must be a number of seconds from 0 to \(AppAPIRoutes.maxWaitSeconds), not \"\(raw.prefix(40))\"")
            }
            wait = s
        }
        let events = try EventLog.feed(store, directory: d.id, after: row, limit: limit)
        if !events.isEmpty || wait == 0 { return Self.feedAnswer(events, after: row, replica: store.replicaID, directory: d.id) }
        let store = self.store, directory = d.id, after = row, count = limit, keyID = key.id
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        return .waiting(LongPoll(deadline: deadline) { final in
            do {
                // A key revoked while the request waits gets nothing more.
                guard try store.record(id: keyID).flatMap(ApiKey.init) != nil else { return APIError.unauthorized.response }
                let events = try EventLog.feed(store, directory: directory, after: after, limit: count)
                guard !events.isEmpty || final else { return nil }
                return Self.feedAnswer(events, after: after, replica: store.replicaID, directory: directory)
            } catch {
                return AppAPIRoutes.internalError("reading the change feed of \(directory): \(error)")
            }
        })
    }

    /// `{"data":[…],"cursor":"…"}`: the cursor after the last event (or `after` again when there is none).
    static func feedAnswer(_ events: [LoggedEvent], after row: Int64, replica: ReplicaID, directory: String) -> HTTPResponse {
        var w = JSONWriter(capacity: 256 + events.reduce(0) { $0 + $1.payload.count + 160 })
        w.beginObject()
        w.key("data")
        w.beginArray()
        for e in events { Shapes.writeFeedItem(e, into: &w) }
        w.endArray()
        w.key("cursor")
        w.string(FeedCursor.encode(row: events.last?.row ?? row, replica: replica, directory: directory))
        w.endObject()
        return .json(w.bytes)
    }
}

/// The change feed's cursor: base64url of `2.<replica id>.<directory id>.<row>`. Opaque to
/// apps; it names the hub that issued it (each orders its feed itself) and the directory
/// it is a position in, so it cannot be carried to another feed by mistake.
enum FeedCursor {
    static func encode(row: Int64, replica: ReplicaID, directory: String) -> String {
        Base64URL.encode(Array("2.\(replica.hex).\(directory).\(row)".utf8))
    }

    static let notACursor = "after is not a cursor of this feed; pass the cursor of the previous answer, or leave after out to start from the first event"

    /// The row a cursor names; refused when it is not one, or another hub or directory's.
    static func decode(_ s: String, replica: ReplicaID, directory: String) throws(APIError) -> Int64 {
        guard s.utf8.count <= 400, let bytes = Base64URL.decode(s) else { throw .badRequest(notACursor) }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "2", let r = ReplicaID(hex: parts[1]), !parts[2].isEmpty,
              let row = Int64(parts[3]), row >= 0 else {
            throw .badRequest(notACursor)
        }
        guard r == replica else {
            throw .badRequest("after is a cursor of another hub (replica \(r.hex)): each hub orders its feed itself, so a cursor works only where it was issued; start again on this hub without after")
        }
        guard parts[2] == directory else {
            throw .badRequest("after is a cursor of another directory's feed; pass a cursor this directory's feed answered, or leave after out")
        }
        return row
    }
}
