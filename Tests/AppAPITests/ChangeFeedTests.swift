import Bytes
import Foundation
import Synchronization
import JSON
import TestSupport
import Testing

/// The change feed (AppAPI.docc/AppAPI.md): every event once, in order, after an app restart and on every hub.
@Suite(.serialized) struct ChangeFeedTests {
    /// A directory made through the API on `hub`, with its SCIM endpoint and token.
    struct MadeDirectory {
        let id: String
        let endpoint: String
        let token: String
    }

    static func directory(on hub: APIHub, tenant: String = "acme", product: String = "crm") throws -> MadeDirectory {
        let a = try hub.call("POST", "/api/v1/dsync", json: #"{"tenant":"\#(tenant)","product":"\#(product)","type":"okta-scim-v2"}"#)
        let d = try #require(a.data)
        return MadeDirectory(id: d["id"]!.string!, endpoint: d["scim"]!["endpoint"]!.string!, token: d["scim"]!["secret"]!.string!)
    }

    /// Every event of the directory's feed on `hub`, page by page from the first.
    static func readAll(_ hub: APIHub, _ directory: String, limit: Int = 50) throws -> [(id: String, event: String)] {
        var out: [(String, String)] = []
        var cursor: String?
        while true {
            let a = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(directory)&limit=\(limit)" + (cursor.map { "&after=\($0)" } ?? ""))
            #expect(a.status == 200, "\(a.text)")
            let page = a.data?.array ?? []
            out += page.map { ($0["id"]!.string!, $0["event"]!.string!) }
            cursor = a.json?["cursor"]?.string
            if page.count < limit { return out }
        }
    }

    @Test func aFeedPageHoldsTheWebhookBodyWithIdAndTime() throws {
        let hub = try APIHub()
        defer { hub.stop() }
        let d = try Self.directory(on: hub)
        let uid = try HTTPClientFixture.scimCreateUser(endpoint: d.endpoint, token: d.token, userName: "ann@acme.test")
        let a = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)")
        #expect(a.status == 200)
        let e = try #require(a.data?["0"])
        #expect(e.objectValue?.map(\.0) == ["id", "event", "tenant", "product", "directory_id", "data", "created_at"])
        #expect(e["event"]?.string == "user.created")
        #expect(e["tenant"]?.string == "acme" && e["product"]?.string == "crm" && e["directory_id"]?.string == d.id)
        #expect(e["data"]?["id"]?.string == uid)
        #expect(e["data"]?["email"]?.string == "ann@acme.test")
        // The same event in the event log, by the same id.
        let logged = try hub.call("GET", "/api/v1/dsync/events/\(e["id"]!.string!)?directoryId=\(d.id)")
        #expect(logged.status == 200)
        #expect(logged.data?["payload"]?["data"]?["id"]?.string == uid)
        // A cursor read back returns nothing new; nothing waits without `wait`.
        let cursor = try #require(a.json?["cursor"]?.string)
        let again = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(cursor)")
        #expect(again.data?.array.isEmpty == true)
        #expect(again.json?["cursor"]?.string == cursor)
    }

    @Test func cursorsAreRefusedOnAnotherDirectoryOrBeyondTheFeedAndARevokedKeyStopsWaiting() throws {
        let hub = try APIHub(keys: [("app", nil), ("short", nil)])
        defer { hub.stop() }
        let d = try Self.directory(on: hub), other = try Self.directory(on: hub, tenant: "globex")
        _ = try HTTPClientFixture.scimCreateUser(endpoint: d.endpoint, token: d.token, userName: "ann@acme.test")
        let cursor = try #require(try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)").json?["cursor"]?.string)
        // Another directory's feed refuses it, saying so.
        let crossed = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(other.id)&after=\(cursor)")
        #expect(crossed.status == 400 && crossed.message?.contains("another directory") == true, "\(crossed.text)")
        // A cursor past anything this hub stored (forged) is refused, not answered empty forever.
        let decoded = String(decoding: try #require(Base64URL.decode(cursor)), as: UTF8.self)
        let parts = decoded.split(separator: ".")
        let forged = Base64URL.encode(Array("\(parts[0]).\(parts[1]).\(parts[2]).999999999999".utf8))
        let beyond = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(forged)&wait=1")
        #expect(beyond.status == 400 && beyond.message?.contains("beyond this hub's feed") == true, "\(beyond.text)")
        // A key revoked while its long poll waits gets 401 instead of the next event.
        let answer = Mutex<APIAnswer?>(nil)
        let done = DispatchSemaphore(value: 0)
        let key = hub.key("short")
        Thread {
            let a = try? hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(cursor)&wait=30", key: .some(key))
            answer.withLock { $0 = a }
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 1)  // (parked by then, or refused at once: both must answer 401)
        #expect(try runChild(setuplinkBinary(), ["--db", hub.db, "api-key", "revoke", "short", "--yes"]).status == 0)
        _ = try HTTPClientFixture.scimCreateUser(endpoint: d.endpoint, token: d.token, userName: "bob@acme.test")
        #expect(done.wait(timeout: .now() + 20) == .success)
        let got = try #require(answer.withLock { $0 })
        #expect(got.status == 401 && got.text.contains("Unauthorized"), "\(got.text)")
    }

    @Test func aLongPollReturnsWhenTheChangeArrives() throws {
        let hub = try APIHub()
        defer { hub.stop() }
        let d = try Self.directory(on: hub)
        let first = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)")
        let cursor = try #require(first.json?["cursor"]?.string)
        let writer = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            _ = try? HTTPClientFixture.scimCreateUser(endpoint: d.endpoint, token: d.token, userName: "late@acme.test")
        }
        writer.start()
        // Waits for the change (the wait is far longer than the test allows itself).
        let a = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(cursor)&wait=60")
        #expect(a.status == 200)
        #expect(a.data?.array.map { $0["event"]?.string } == ["user.created"])
        #expect(a.data?["0"]?["data"]?["email"]?.string == "late@acme.test")
        // Several waiting at once, all woken by one change; one that times out answers empty.
        let c2 = try #require(a.json?["cursor"]?.string)
        let answers = Locked([Int]())
        let group = DispatchGroup()
        for _ in 0..<5 {
            group.enter()
            Thread {
                let n = (try? hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(c2)&wait=60"))?.data?.array.count ?? -1
                answers.withLock { $0.append(n) }
                group.leave()
            }.start()
        }
        #expect(poll(until: { hub.served.accessLog.isEmpty == false }))
        Thread.sleep(forTimeInterval: 0.3)
        _ = try HTTPClientFixture.scimCreateUser(endpoint: d.endpoint, token: d.token, userName: "third@acme.test")
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(answers.withLock { $0 } == [1, 1, 1, 1, 1])
        let empty = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(c2)&wait=0.2")
        #expect(empty.data?.array.count == 1)
        let c3 = try #require(empty.json?["cursor"]?.string)
        let timedOut = try hub.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(c3)&wait=0.3")
        #expect(timedOut.status == 200 && timedOut.data?.array.isEmpty == true)
    }

    @Test func anAppKilledMidStreamResumesFromItsCursorWithNothingLostOrRepeated() throws {
        let python = try requires(.python3)
        let hub = try APIHub()
        defer { hub.stop() }
        let d = try Self.directory(on: hub)
        let folder = testFolder("feed-app")
        let state = folder + "/state.json"
        let script = packageRoot().appendingPathComponent("Tests/AppAPITests/FeedApp/follow.py").path
        func startApp() throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [script, hub.url, hub.key(), d.id, state]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        var app = try startApp()
        var seed = SystemRandomNumberGenerator()
        var made = 0
        // Users are created while the app reads; it is killed (SIGKILL) and started again 5 times.
        for round in 0..<6 {
            for _ in 0..<12 {
                _ = try HTTPClientFixture.scimCreateUser(endpoint: d.endpoint, token: d.token, userName: "u\(made)@acme.test")
                made += 1
            }
            if round < 5 {
                Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.3, using: &seed))
                kill(app.processIdentifier, SIGKILL)
                app.waitUntilExit()
                app = try startApp()
            }
        }
        let all = try Self.readAll(hub, d.id)
        #expect(all.count == made)
        #expect(poll(until: {
            let s = (try? JSONParser.parse(Array((FileManager.default.contents(atPath: state) ?? Data()))))
            return (s?["ids"]?.array.count ?? 0) >= made
        }, deadline: .seconds(30)))
        kill(app.processIdentifier, SIGKILL)
        app.waitUntilExit()
        let saved = try #require(try? JSONParser.parse(Array(FileManager.default.contents(atPath: state) ?? Data())))
        let ids = saved["ids"]!.array.compactMap(\.string)
        #expect(ids == all.map(\.id), "the app saw \(ids.count) events, the hub has \(all.count)")
    }

    @Test func twoHubsEachFeedEveryEventOnceWhicheverHubAcceptedIt() throws {
        let a = try APIHub()
        defer { a.stop() }
        let d = try Self.directory(on: a)
        let bdb = testFolder("hub-b") + "/b.sqlite"
        let env = ["SETUPLINK_TOKEN": "peer-secret-0123456789"]
        // B starts as a copy of A (the directory, the key), then both accept SCIM changes.
        #expect(try runChild(setuplinkBinary(), ["--db", bdb, "sync", a.url], environment: env).status == 0)
        let b = try APIHub(keys: [], db: bdb, known: a.keys)
        defer { b.stop() }
        let bEndpoint = d.endpoint.replacingOccurrences(of: a.url, with: b.url)
        var made = 0
        for i in 0..<15 {
            _ = try HTTPClientFixture.scimCreateUser(endpoint: d.endpoint, token: d.token, userName: "a\(i)@acme.test")
            _ = try HTTPClientFixture.scimCreateUser(endpoint: bEndpoint, token: d.token, userName: "b\(i)@acme.test")
            made += 2
            if i % 5 == 4 {
                // The hubs exchange changes now and then (both ways), a feed read in between.
                #expect(try runChild(setuplinkBinary(), ["--db", bdb, "sync", a.url], environment: env).status == 0)
                _ = try Self.readAll(a, d.id)
            }
        }
        #expect(try runChild(setuplinkBinary(), ["--db", bdb, "sync", a.url], environment: env).status == 0)
        let onA = try Self.readAll(a, d.id)
        let onB = try Self.readAll(b, d.id, limit: 7).map(\.id)
        #expect(onA.count == made && Set(onA.map(\.id)).count == made)
        #expect(onB.count == made && Set(onB).count == made)
        #expect(Set(onA.map(\.id)) == Set(onB))
        // Each hub orders its feed itself: a cursor of one is refused by the other, saying so.
        let cursor = try #require(try a.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&limit=1").json?["cursor"]?.string)
        let refused = try b.call("GET", "/api/v1/dsync/changes?directoryId=\(d.id)&after=\(cursor)")
        #expect(refused.status == 400)
        #expect(refused.message?.contains("another hub") == true)
    }
}
