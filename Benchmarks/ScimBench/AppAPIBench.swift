import BenchSupport
import Foundation
import Glibc
import JSON
import Synchronization

/// The app API figures (see main.swift's list), on the replica the bench filled.
extension Bench {
    var apiHeaders: [(String, String)] { [("Authorization", "Api-Key \(target.apiKey ?? "")")] }

    /// One app API GET: status 200 and the parsed body, or the bench fails.
    func api(_ c: KeepAliveClient, _ path: String) throws -> (ms: Double, body: JSONValue) {
        let t = now()
        let (status, body) = try c.send("GET", path, headers: apiHeaders)
        let ms = (now() - t) * 1000
        guard status == 200, let json = try? JSONParser.parse(body) else {
            throw BenchError("GET \(path): \(status) \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        return (ms, json)
    }

    func appAPI() throws {
        guard let directory = target.directory else { return }
        let c = KeepAliveClient(host: target.host, port: target.port)
        let users = "/api/v1/dsync/users?directoryId=\(directory)&pageLimit=100"
        func count(_ v: JSONValue) -> Int { v.objectValue?.first { $0.0 == "data" }?.1.arrayValue?.count ?? -1 }
        func token(_ v: JSONValue) -> String? {
            if case .string(let s)? = v.objectValue?.first(where: { $0.0 == "pageToken" })?.1 { return s }
            return nil
        }

        // Pages of users.
        var first: [Double] = []
        for _ in 0..<200 {
            let (ms, body) = try api(c, users)
            guard count(body) == min(100, options.users) else { throw BenchError("first page: \(count(body)) users") }
            first.append(ms)
        }
        report("api_users_first_page_p50_ms", percentile(first, 0.5), "ms")
        report("api_users_first_page_p99_ms", percentile(first, 0.99), "ms")
        var walk: [Double] = []
        var next: String? = nil
        var seen = 0
        var lastToken: String? = nil
        repeat {
            let (ms, body) = try api(c, users + (next.map { "&pageToken=\($0)" } ?? ""))
            walk.append(ms)
            seen += count(body)
            if let n = token(body), seen < options.users { lastToken = n }
            next = token(body)
        } while next != nil && walk.count <= options.users / 100 + 1
        guard seen == options.users else { throw BenchError("the token walk saw \(seen) users, not \(options.users)") }
        report("api_users_token_walk_p50_ms", percentile(walk, 0.5), "ms")
        report("api_users_token_walk_p99_ms", percentile(walk, 0.99), "ms")
        if let lastToken {
            report("api_users_last_page_token_ms", percentile(try (0..<20).map { _ in try api(c, users + "&pageToken=\(lastToken)").ms }, 0.5), "ms")
        }
        let lastOffset = max(0, options.users - 100)
        report("api_users_last_page_offset_ms",
               percentile(try (0..<20).map { _ in try api(c, users + "&pageOffset=\(lastOffset)").ms }, 0.5), "ms")

        // The whole feed, from the start.
        let feed = "/api/v1/dsync/changes?directoryId=\(directory)&limit=1000"
        var cursor: String? = nil
        var events = 0
        let t0 = now()
        while true {
            let (_, body) = try api(c, feed + (cursor.map { "&after=\($0)" } ?? ""))
            let n = count(body)
            guard case .string(let next)? = body.objectValue?.first(where: { $0.0 == "cursor" })?.1 else { throw BenchError("no cursor") }
            cursor = next
            events += n
            if n == 0 { break }
        }
        let elapsed = now() - t0
        guard events >= options.users else { throw BenchError("the feed had \(events) events for \(options.users) users") }
        report("feed_read_events_per_s", Double(events) / elapsed, "events/s")

        // Long-poll wake-ups: an app waits; a SCIM create commits; how long after its 201 the app has it.
        let waiter = UncheckedClient(KeepAliveClient(host: target.host, port: target.port))
        let writer = KeepAliveClient(host: target.host, port: target.port)
        var wakes: [Double] = []
        for i in 0..<200 {
            let answered = Mutex<Double?>(nil)
            let after = cursor!
            let done = DispatchSemaphore(value: 0)
            let waiting = Thread {
                let r = try? waiter.client.send("GET", feed + "&after=\(after)&wait=30", headers: self.apiHeaders)
                if let r, r.0 == 200 { answered.withLock { $0 = now() } }
                if let r, case .string(let n)? = (try? JSONParser.parse(r.1))?.objectValue?.first(where: { $0.0 == "cursor" })?.1 {
                    cursorBox.withLock { $0 = n }
                }
                done.signal()
            }
            waiting.start()
            usleep(20_000)  // the wait is parked before the write
            let (status, _) = try writer.send("POST", target.base + "/Users", headers: headers, body: userBody(options.users + 1_000_000 + i))
            let written = now()
            guard status == 201 else { throw BenchError("create for the wake-up: \(status)") }
            guard done.wait(timeout: .now() + 35) == .success, let at = answered.withLock({ $0 }) else {
                throw BenchError("the long poll was not answered")
            }
            wakes.append(max(0, at - written) * 1000)
            cursor = cursorBox.withLock { $0 } ?? cursor
        }
        report("longpoll_wake_p50_ms", percentile(wakes, 0.5), "ms")
        report("longpoll_wake_p99_ms", percentile(wakes, 0.99), "ms")
    }
}

/// The cursor the last long poll answered (set by the waiting thread).
let cursorBox = Mutex<String?>(nil)

/// An app following the change feed with long polls while the bench writes.
final class FeedFollower: Sendable {
    private let stopping = Mutex(false)
    private let events = Mutex(0)
    private let finished = DispatchSemaphore(value: 0)

    static func start(_ bench: Bench) throws -> FeedFollower {
        guard let directory = bench.target.directory else { throw BenchError("--feed needs a replica the bench made") }
        let f = FeedFollower()
        let path = "/api/v1/dsync/changes?directoryId=\(directory)&limit=1000&wait=5"
        Thread {
            let c = KeepAliveClient(host: bench.target.host, port: bench.target.port)
            var cursor: String? = nil
            while !f.stopping.withLock({ $0 }) {
                guard let (status, body) = try? c.send("GET", path + (cursor.map { "&after=\($0)" } ?? ""), headers: bench.apiHeaders),
                      status == 200, let (n, next) = FeedFollower.skim(body) else { usleep(100_000); continue }
                // (The answer is skimmed, not parsed: the bench's CPU is the server's machine's too.)
                cursor = next
                f.events.withLock { $0 += n }
            }
            f.finished.signal()
        }.start()
        return f
    }

    /// The number of events in a feed answer (its `"created_at":` members: one per event,
    /// written by the server after the event's own members) and its cursor (the answer's
    /// last member), without parsing the answer.
    static func skim(_ body: [UInt8]) -> (Int, String)? {
        let mark = Array(#""created_at":"#.utf8), cursorKey = Array(#""cursor":""#.utf8)
        guard body.count > cursorKey.count else { return nil }
        var n = 0
        var i = 0
        while i + mark.count <= body.count {
            if body[i] == mark[0], body[i..<(i + mark.count)].elementsEqual(mark) { n += 1; i += mark.count } else { i += 1 }
        }
        var j = body.count - cursorKey.count
        while j >= 0, !body[j..<(j + cursorKey.count)].elementsEqual(cursorKey) { j -= 1 }
        guard j >= 0, let end = body[(j + cursorKey.count)...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return (n, String(decoding: body[(j + cursorKey.count)..<end], as: UTF8.self))
    }

    /// Stops following (after the current poll); the events it read.
    func stop() throws -> Int {
        stopping.withLock { $0 = true }
        _ = finished.wait(timeout: .now() + 10)
        return events.withLock { $0 }
    }
}

/// A client used by one thread at a time (the waiting thread, then the bench after `done`).
final class UncheckedClient: @unchecked Sendable {
    let client: KeepAliveClient
    init(_ client: KeepAliveClient) { self.client = client }
}
