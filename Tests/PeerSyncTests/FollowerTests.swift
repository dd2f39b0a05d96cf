import Foundation
import HTTP
import Replica
import Storage
import Synchronization
import Testing
import TestSupport
@testable import PeerSync

/// `PeerFollower` and `POST /sync/v1/wait`, in process over real sockets.
@Suite struct FollowerTests {
    /// A wait answers at once when the server holds something the clock lacks, waits
    /// otherwise and is woken by a commit, and answers "nothing" at its timeout.
    @Test func waitAnswersWhenTheServerHoldsSomethingNew() throws {
        let server = try ServedReplica()
        let client = try temporaryReplica()
        try writeLink(server.store, "w1", ["tenant": "t", "product": "p", "token": "x"])
        let first = try SyncClient().wait(store: client, url: server.url, token: testToken, seconds: 30)
        let serverClock = try server.store.clock()
        #expect(first.changed && first.peerClock == serverClock)
        try sync(client, with: server)
        let idle = try SyncClient().wait(store: client, url: server.url, token: testToken, seconds: 1)
        #expect(!idle.changed)

        let answer = Mutex<SyncClient.WaitAnswer?>(nil)
        let url = server.url
        let waiter = Thread {
            let a = try? SyncClient().wait(store: client, url: url, token: testToken, seconds: 60)
            answer.withLock { $0 = a }
        }
        waiter.start()
        #expect(poll(until: { server.server.http.waitingCount == 1 }, deadline: .seconds(10)), "the wait is parked")
        try writeLink(server.store, "w2", ["tenant": "t2", "product": "p", "token": "y"])
        #expect(poll(until: { answer.withLock { $0 } != nil }, deadline: .seconds(10)), "a commit wakes it")
        #expect(answer.withLock { $0?.changed } == true)

        // Bad bodies are 400 and a wrong token 401, like every sync route.
        for body in [#"{"clock":{}}"#, #"{"replica":"00","clock":{}}"#, #"{"replica":"\#(client.replicaID.hex)","clock":{},"timeout":-1}"#] {
            let r = try HTTPClientShim.post(server.url + "/sync/v1/wait", body)
            #expect(r == 400, "\(body)")
        }
        #expect(try HTTPClientShim.post(server.url + "/sync/v1/wait", #"{}"#, token: "wrong") == 401)
    }

    /// A follower keeps two replicas current both ways, with no sync call.
    @Test func aFollowerKeepsTwoReplicasCurrent() throws {
        let server = try ServedReplica()
        let local = try temporaryReplica()
        try local.peers.add(name: "hub", url: server.url, token: testToken, follow: true)
        let follower = PeerFollower(store: local)
        follower.start()
        defer { follower.stop() }
        #expect(follower.following == ["hub"])
        try writeLink(local, "from-local", ["tenant": "l", "product": "p", "token": "a"])
        #expect(poll(until: { (try? server.store.record(id: "from-local")) != nil }, deadline: .seconds(20)))
        try writeLink(server.store, "from-hub", ["tenant": "h", "product": "p", "token": "b"])
        #expect(poll(until: { (try? local.record(id: "from-hub")) != nil }, deadline: .seconds(20)))
        #expect(try local.peers.named("hub")?.lastSync != nil)
        // Unmarked, it is no longer followed (the table is read again every two seconds).
        try local.peers.update(name: "hub", follow: false)
        #expect(poll(until: { follower.following.isEmpty }, deadline: .seconds(10)))
    }

    /// Commits (which tell the follower, under the store's lock) while the follower reads the
    /// peers table (the store's lock, under its own) never deadlock; a peer that is down gets
    /// its error recorded and is retried with backoff.
    @Test func commitsWhileRescanningNeverDeadlock() throws {
        let local = try temporaryReplica()
        try local.peers.add(name: "down", url: "http://127.0.0.1:\(try freePort())", token: testToken, follow: true)
        var options = PeerFollower.Options()
        options.rescanInterval = .milliseconds(1)
        let follower = PeerFollower(store: local, options: options)
        follower.start()
        let done = Mutex(0)
        for t in 0..<2 {
            Thread {
                for i in 0..<300 { try? writeLink(local, "d\(t)-\(i)", ["tenant": "t\(i)", "product": "p\(t)", "token": "z"]) }
                done.withLock { $0 += 1 }
            }.start()
        }
        #expect(poll(until: { done.withLock { $0 } == 2 }, deadline: .seconds(60)), "every write committed")
        #expect(poll(until: { (try? local.peers.named("down")?.lastError) != nil }, deadline: .seconds(10)))
        follower.stop()
        #expect(try local.counts().links == 600)
    }

    /// Backoff doubles from the minimum to the cap, each delay between half and all of its step.
    @Test func backoffDoublesWithJitterUpToTheCap() throws {
        let loop = PeerLoop(name: "x", store: try temporaryReplica(), options: PeerFollower.Options(), log: nil)
        for (failures, step) in [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (40, 30.0)] {
            for _ in 0..<20 {
                let d = loop.backoff(failures).seconds
                #expect(d >= step / 2 - 0.001 && d <= step + 0.001, "failures \(failures): \(d)")
            }
        }
        let draws = Set((0..<20).map { _ in loop.backoff(5).seconds })
        #expect(draws.count > 1, "jitter")
    }
}

/// One POST with a JSON body and a bearer token; returns the status.
enum HTTPClientShim {
    static func post(_ url: String, _ body: String, token: String = testToken) throws -> Int {
        try HTTP.HTTPClient().send(method: "POST", url: url, headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                   body: Array(body.utf8)).status
    }
}
