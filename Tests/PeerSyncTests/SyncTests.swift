import Fixtures
import JSON
import Dispatch
import Foundation
import Replica
import Storage
import Synchronization
import Testing
import HTTP
import TestSupport
@testable import PeerSync

/// Replicas syncing through real servers on port 0 and the real libcurl client.
@Suite struct SyncTests {
    /// Runs over both page encodings, and over a mix of them.
    @Test(arguments: ["binary", "json", "mixed"])
    func randomOfflineEditsAndSyncSchedulesConverge(encodings: String) throws {
        let seed = SeededGenerator.seed()
        print("randomOfflineEditsAndSyncSchedulesConverge(\(encodings)) seed: \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        func encoding() -> PageEncoding {
            switch encodings {
            case "binary": .binary
            case "json": .json
            default: rng.next() % 2 == 0 ? .binary : .json
            }
        }
        let replicas = try (0..<3).map { _ in try ServedReplica() }
        var written = Set<String>()
        for _ in 0..<60 {
            if rng.next() % 3 == 0 {
                let a = Int(rng.next() % 3)
                let b = (a + 1 + Int(rng.next() % 2)) % 3
                try sync(replicas[a].store, with: replicas[b], pageLimit: Int(rng.next() % 4) + 1, encoding: encoding())
                continue
            }
            let store = replicas[Int(rng.next() % 3)].store
            let ops = Int(rng.next() % 3) + 1
            try store.write { tx in
                for _ in 0..<ops {
                    let n = Int(rng.next() % 15)
                    // The kind follows from the id, as for real links and directories.
                    let id = n < 8 ? "link-\(n)" : "dir-\(n)"
                    let kind: RecordKind = n < 8 ? .link : .directory
                    let existing = try tx.record(id)
                    switch rng.next() % 6 {
                    case 0 where existing != nil:
                        try tx.delete(id: id)
                    case 1:
                        try tx.write(id: id, kind: kind, ["token": "t\(rng.next() % 1000)", "name": "n\(rng.next() % 9)"], revive: true)
                    default:
                        try tx.write(id: id, kind: kind, [["token", "name", "tenant"][Int(rng.next() % 3)]: "v\(rng.next() % 1000)"])
                    }
                    written.insert(id)
                }
            }
        }
        // Two rounds through the ring bring every change everywhere (digests leave
        // tombstones out, so whatever each replica has purged does not matter).
        var digests: [String] = []
        for _ in 0..<2 {
            for (a, b) in [(0, 1), (1, 2), (2, 0)] { try sync(replicas[a].store, with: replicas[b], pageLimit: 3, encoding: encoding()) }
            digests = try replicas.map { try $0.store.digest() }
            if Set(digests).count == 1 { break }
        }
        #expect(Set(digests).count == 1, "seed \(seed)")
        if Set(digests).count > 1 {
            for id in written.sorted() {
                let states = try replicas.map { try $0.store.record(id: id) }
                if Set(states.map { $0?.encoded ?? [] }).count > 1 {
                    for (k, st) in states.enumerated() {
                        print("DIFF \(id) on \(k): live=\(st?.isLive as Any) deleted=\(st?.isDeleted as Any) clock=\(st?.clock.description ?? "-") floor=\(try replicas[k].store.purgeFloor())")
                    }
                }
            }
            for (k, r) in replicas.enumerated() { print("REPLICA \(k) \(r.store.replicaID.hex.prefix(6)) clock \(try r.store.clock())") }
        }
        let clocks = try replicas.map { try $0.store.clock() }
        #expect(Set(clocks).count == 1, "seed \(seed)")
        // Every record written is there on every replica, live and the same, or deleted: a tombstone
        // or nothing (each replica purges when it has every member's acknowledgement).
        let live = try replicas.map { r in
            Set(try r.store.records(kind: .link).map(\.id) + r.store.records(kind: .directory).map(\.id))
        }
        #expect(Set(live).count == 1, "seed \(seed)")
        for id in written where !live[0].contains(id) {
            for r in replicas { #expect(try r.store.record(id: id)?.isDeleted ?? true, "\(id), seed \(seed)") }
        }
        for r in replicas {
            let ids = Set(try r.store.records(kind: .link, includeDeleted: true).map(\.id)
                          + r.store.records(kind: .directory, includeDeleted: true).map(\.id))
            #expect(ids.isSubset(of: written), "seed \(seed)")
        }
        // Once converged, a sync changes nothing.
        let again = try sync(replicas[0].store, with: replicas[2])
        #expect(again.pulled == 0 && again.pushed == 0, "seed \(seed)")
    }

    @Test func concurrentRegenerateKeepsOneTokenAndTheOtherAsAConflict() throws {
        let laptop = try temporaryReplica()
        let hub = try ServedReplica()
        try writeLink(laptop, "link-1", ["tenant": "acme", "product": "crm", "token": "original"])
        try sync(laptop, with: hub)
        try writeLink(laptop, "link-1", ["token": "from-laptop"])
        try writeLink(hub.store, "link-1", ["token": "from-hub"])

        let report = try sync(laptop, with: hub)
        #expect(report.pulled == 1)
        #expect(report.pushed == 1)
        #expect(report.conflicts == 1)
        let mine = try #require(try laptop.record(id: "link-1"))
        let theirs = try #require(try hub.store.record(id: "link-1"))
        #expect(mine == theirs)
        #expect(try laptop.digest() == hub.store.digest())
        let token = try #require(mine["token"])
        #expect(["from-laptop", "from-hub"].contains(token))
        let conflict = try #require(mine.conflicts.first { $0.field == "token" })
        #expect(conflict.winner.value == token)
        #expect(conflict.losers.map(\.value) == [token == "from-hub" ? "from-laptop" : "from-hub"])
        #expect(try hub.store.lookup("link.token", key: token).first?.id == "link-1")
    }

    @Test func concurrentDeleteBeatsRegenerate() throws {
        let laptop = try temporaryReplica()
        let hub = try ServedReplica()
        try writeLink(laptop, "link-1", ["tenant": "acme", "product": "crm", "token": "original"])
        try sync(laptop, with: hub)
        try laptop.write { tx in try tx.delete(id: "link-1") }
        try writeLink(hub.store, "link-1", ["token": "regenerated"])

        try sync(laptop, with: hub)
        for store in [laptop, hub.store] {
            // Deleted: a tombstone, or nothing once both sides have purged it.
            #expect(try store.record(id: "link-1")?.isDeleted ?? true)
            #expect(try store.lookup("link.token", key: "regenerated").isEmpty)
            #expect(try store.counts().links == 0)
        }
        // Digests leave tombstones out: equal right after the exchange, whatever each has purged.
        #expect(try laptop.digest() == hub.store.digest())
    }

    @Test func changesTravelAcrossTwoHops() throws {
        let a = try temporaryReplica()
        let b = try ServedReplica()
        let c = try temporaryReplica()
        try writeLinks(a, prefix: "a", count: 5)
        try writeLinks(c, prefix: "c", count: 3)
        try sync(a, with: b, pageLimit: 2)
        let report = try sync(c, with: b, pageLimit: 2)
        // Besides the links, the member records (Storage.docc/Tombstones.md): b's records of a, b and c
        // come down; c's introductions of b and itself go up.
        #expect(report.pulled == 5 + 3)
        #expect(report.pushed == 3 + 2)
        #expect(try c.record(id: "a4")?["product"] == "a")
        try sync(a, with: b)
        #expect(try a.digest() == c.digest())
        #expect(try a.counts().links == 8)
    }

    @Test func noOpSyncIsTwoSmallRequestsWhateverTheReplicaSize() throws {
        let a = try temporaryReplica()
        let hub = try ServedReplica()
        // Four transactions of 100: a page never splits the records of one transaction.
        for t in 0..<4 {
            try a.write { tx in for i in 0..<100 { try tx.write(id: "l\(t)-\(i)", kind: .link, ["token": "t\(i)", "tenant": "x\(i)"]) } }
        }
        try writeLinks(hub.store, prefix: "h", count: 50)
        let first = try sync(a, with: hub, pageLimit: 100)
        // Plus the two member records each side writes on first contact (Storage.docc/Tombstones.md).
        #expect(first.pulled == 50 + 2)
        #expect(first.pushed == 400 + 2)
        #expect(first.pushedPages == 4 + 1)

        let noOp = try sync(a, with: hub)
        #expect(noOp.pulled == 0 && noOp.pushed == 0)
        #expect(noOp.requests == 2)
        #expect(noOp.bytesSent + noOp.bytesReceived < 2048, "sent \(noOp.bytesSent) B, received \(noOp.bytesReceived) B")
        #expect(noOp.bytesSent > 0 && noOp.bytesReceived > 0)
    }

    @Test func cutOffSyncResumesAndLosesNothing() throws {
        let laptop = try temporaryReplica()
        let hub = try ServedReplica()
        try laptop.peers.add(name: "hub", url: hub.url, token: testToken)
        try writeLinks(laptop, prefix: "mine", count: 6)
        try writeLinks(hub.store, prefix: "hubs", count: 6)

        // Cut off after the first pulled page: the server goes away mid-sync.
        let server = hub.server
        #expect(throws: SyncError.self) {
            try sync(laptop, with: hub, pageLimit: 1, peerName: "hub") { p in
                if p.phase == .pull && p.pages == 1 { server.stop() }
            }
        }
        // The fetcher runs up to `PullPipeline.depth` pages ahead, and pages that arrived together are
        // applied as one batch before progress is reported, so one to all six pages were applied
        // (how many depends on the server's speed); they stay applied.
        let applied = try laptop.counts().links
        #expect((7...12).contains(applied), "the applied pages stay applied: \(applied)")
        let lastError = try laptop.peers.named("hub")?.lastError ?? ""
        #expect(lastError.contains("unreachable") || lastError.contains("did not answer") || lastError.contains("server is stopping"),
                "\(lastError)")

        // Cut off after the first pushed page.
        try hub.restart()
        let second = hub.server
        var progress: [SyncProgress] = []
        #expect(throws: SyncError.self) {
            try sync(laptop, with: hub, pageLimit: 2, peerName: "hub") { p in
                progress.append(p)
                if p.phase == .push && p.pages == 1 { second.stop() }
            }
        }
        #expect(progress.filter { $0.phase == .pull }.last?.more == false)
        #expect(try hub.store.counts().links == 8)

        try hub.restart()
        let report = try sync(laptop, with: hub, pageLimit: 2, peerName: "hub")
        #expect(report.pulled == 0)
        #expect(report.pushed == 4 + 2, "the links left, and the laptop's two member records")
        #expect(try laptop.digest() == hub.store.digest())
        #expect(try hub.store.counts().links == 12)
        let peer = try #require(try laptop.peers.named("hub"))
        #expect(peer.lastError == nil)
        #expect(peer.lastSync != nil)
        #expect(peer.acked == (try hub.store.clock()))
    }

    @Test func successfulNamedSyncPurgesTombstonesThePeerAcknowledged() throws {
        let laptop = try temporaryReplica()
        let hub = try ServedReplica()
        try laptop.peers.add(name: "hub", url: hub.url, token: testToken)
        try writeLinks(laptop, prefix: "l", count: 3)
        try sync(laptop, with: hub, peerName: "hub")
        try laptop.write { tx in try tx.delete(id: "l1") }
        #expect(try laptop.counts().tombstones == 1)
        try sync(laptop, with: hub, peerName: "hub")
        // The hub purged once its only client had the delete; the laptop adopted the hub's floor.
        #expect(try hub.store.record(id: "l1") == nil)
        #expect(try laptop.counts().tombstones == 0, "the laptop adopted the hub's purge floor")
        #expect(try laptop.counts().links == 2)
        #expect(try laptop.digest() == hub.store.digest())
        // A stale live copy pushed later is dropped, not revived.
        #expect(try hub.store.purgeFloor().isEmpty == false)
    }

    // MARK: Errors a person sees

    @Test(arguments: ["ftp://hub/", "hub:8080", "/relative/path", "http://", "http://hub/?x=1", "http://hub /", ""])
    func invalidURLIsRejectedBeforeAnyRequest(url: String) throws {
        let store = try temporaryReplica()
        #expect(throws: SyncError.invalidURL(url)) {
            _ = try SyncClient().sync(store: store, url: url, token: nil, peerName: nil, progress: nil)
        }
    }

    @Test func refusedConnectionNamesThePeerAndTheURL() throws {
        let store = try temporaryReplica()
        try store.peers.add(name: "hub", url: "", token: nil)
        let closed = try ServedReplica()
        let url = closed.url
        closed.server.stop()
        do {
            _ = try SyncClient().sync(store: store, url: url, token: testToken, peerName: "hub", progress: nil)
            Issue.record("expected a failure")
        } catch {
            #expect(error.description == "peer \"hub\" unreachable at \(url): connection refused")
        }
        #expect(try store.peers.named("hub")?.lastError == "peer \"hub\" unreachable at \(url): connection refused")
        do {
            _ = try SyncClient().sync(store: store, url: url + "/", token: testToken, peerName: nil, progress: nil)
        } catch {
            #expect(error.description == "peer at \(url) unreachable: connection refused")
        }
    }

    @Test func wrongOrMissingTokenIsRejectedWith401() throws {
        let store = try temporaryReplica()
        let hub = try ServedReplica()
        try writeLinks(store, prefix: "x", count: 2)
        do {
            _ = try SyncClient().sync(store: store, url: hub.url, token: "wrong", peerName: "hub", progress: nil)
            Issue.record("expected a failure")
        } catch {
            #expect(error == .unauthorized(peer: "hub", url: hub.url, tokenGiven: true))
            #expect(error.description.hasPrefix("peer \"hub\" rejected the token (401)"))
        }
        do {
            _ = try SyncClient().sync(store: store, url: hub.url, token: nil, peerName: nil, progress: nil)
            Issue.record("expected a failure")
        } catch {
            #expect(error.description.hasPrefix("peer at \(hub.url) requires a token (401)"))
        }
        #expect(try hub.store.counts().links == 0)
    }

    @Test func serverThatIsNotASetuplinkPeerIsRecognised() throws {
        let store = try temporaryReplica()
        let (plain, port) = try startServer { request in
            request.path == "/json" ? .json(Array("{\"status\":\"ok\"}".utf8)) : HTTPResponse(status: 404, body: Array("nope".utf8))
        }
        defer { plain.stop() }
        let (other, otherPort) = try startServer { _ in .json(Array("{\"clock\":{}}".utf8)) }
        defer { other.stop() }
        for (url, reason) in [("http://127.0.0.1:\(port)", "GET /sync/v1/summary answered 404"),
                              ("http://127.0.0.1:\(otherPort)", "its summary has no valid replica")] {
            do {
                _ = try SyncClient().sync(store: store, url: url, token: testToken, peerName: "hub", progress: nil)
                Issue.record("expected a failure")
            } catch {
                #expect(error.description == "\(url) is not a setuplink peer (\(reason))")
            }
        }
    }

    @Test func slowPeerTimesOut() throws {
        let store = try temporaryReplica()
        let release = DispatchSemaphore(value: 0)
        let (slow, port) = try startServer { _ in
            _ = release.wait(timeout: .now() + 5)
            return .json(Array("{}".utf8))
        }
        defer { slow.stop() }
        let client = SyncClient(http: HTTPClient(connectTimeout: .seconds(2), timeout: .milliseconds(300)))
        do {
            _ = try client.sync(store: store, url: "http://127.0.0.1:\(port)", token: testToken, peerName: "hub", progress: nil)
            Issue.record("expected a failure")
        } catch {
            #expect(error.description == "peer \"hub\" at http://127.0.0.1:\(port) did not answer: timed out after 0.3 s")
        }
        release.signal()
    }

    @Test func pulledRecordOfAnotherKindIsRefusedWithoutApplyingThePage() throws {
        let laptop = try temporaryReplica()
        let hub = try ServedReplica()
        try writeLink(laptop, "same-id", ["token": "a"])
        try hub.store.write { tx in _ = try tx.write(id: "same-id", kind: .directory, ["name": "d"]) }
        let before = try laptop.digest()
        do {
            try sync(laptop, with: hub, peerName: "hub")
            Issue.record("expected a failure")
        } catch {
            guard case .refusedChanges = error else { Issue.record("got \(error)"); return }
            #expect(error.description.contains("record same-id arrived with a different kind"))
        }
        #expect(try laptop.digest() == before)
    }

    // MARK: Interop

    @Test func curlCommandLineReadsHealthAndSummary() throws {
        let hub = try ServedReplica()
        try writeLinks(hub.store, prefix: "x", count: 2)
        let health = try run("/usr/bin/curl", ["-sS", "--max-time", "5", "\(hub.url)/healthz"])
        #expect(health.status == 0, "\(health.stderr)")
        #expect(health.stdout == "{\"status\":\"ok\",\"replica\":\"\(hub.store.replicaID.hex)\"}")
        let summary = try run("/usr/bin/curl", ["-sS", "--max-time", "5", "-H", "Authorization: Bearer \(testToken)",
                                                "\(hub.url)/sync/v1/summary"])
        #expect(summary.status == 0, "\(summary.stderr)")
        let value = try JSONParser.parse(Array(summary.stdout.utf8))
        #expect(value["replica"]?.stringValue == hub.store.replicaID.hex)
        #expect(value["clock"]?[hub.store.replicaID.hex]?.int64Value == 2)
        #expect(value["purge_floor"] == .object([]))
        let refused = try run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(hub.url)/sync/v1/summary"])
        #expect(refused.stdout == "401")
    }

    @Test func pythonHTTPClientReadsHealthAndSummary() throws {
        let python = try requires(.python3)
        let hub = try ServedReplica()
        let script = """
        import http.client, json
        c = http.client.HTTPConnection("127.0.0.1", \(hub.port), timeout=5)
        c.request("GET", "/healthz")
        r = c.getresponse(); print(r.status, json.loads(r.read())["status"])
        c.request("GET", "/sync/v1/summary", headers={"Authorization": "Bearer \(testToken)"})
        r = c.getresponse(); b = json.loads(r.read()); print(r.status, b["replica"], b["clock"])
        c.request("GET", "/sync/v1/summary", headers={"Authorization": "Bearer nope"})
        r = c.getresponse(); print(r.status, "error" in json.loads(r.read()))
        """
        let result = try run(python, ["-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "200 ok\n200 \(hub.store.replicaID.hex) {}\n401 True\n")
    }
}
