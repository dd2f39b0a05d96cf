import Fixtures
import Foundation
import JSON
import PeerSync
import Replica
@testable import Scim
import SetupLinks
import Testing

/// Two hubs serve the same directory and take interleaved SCIM writes over HTTP
/// while apart; after a sync over the peer protocol they agree: same digest, and
/// the same users, groups and members through SCIM GETs on either. Randomized,
/// with the seed printed (replay with `SETUPLINK_SEED`).
@Suite struct ScimTwoHubTests {
    static let names = (0..<10).map { "person\($0)@example.com" }

    @Test func interleavedWritesOnTwoHubsConvergeAfterSync() throws {
        let seed = SeededGenerator.seed()
        print("ScimTwoHubTests.interleavedWritesOnTwoHubsConvergeAfterSync seed \(seed) (replay with SETUPLINK_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let a = try ScimServer(), b = try ScimServer()
        let d = try a.directory()
        try sync(b, with: a)
        let hubs = [ScimClient(a, d), ScimClient(b, d)]
        // Two groups both hubs know before they part.
        let groups = [try hubs[0].createGroup("Engineering"), try hubs[0].createGroup("Sales")]
        try sync(b, with: a)

        for round in 0..<5 {
            // The scenarios the issue names, each round, between the random writes.
            let shared = "shared\(round)@example.com"
            var sharedIDs: [String] = []
            for hub in hubs { sharedIDs.append(try hub.createUser(shared, extra: #","title":"made on \#(hub.base.prefix(30))""#)) }
            #expect(sharedIDs[0] == sharedIDs[1], "one userName created on two hubs apart derives one id")
            try sync(b, with: a)
            let victim = sharedIDs[0]
            let member = try hubs[0].createUser("member\(round)@example.com")
            try send(hubs[0], "PATCH", "/Groups/\(groups[0])", patchOps(#"[{"op":"add","path":"members","value":[{"value":"\#(member)"}]}]"#))
            try sync(b, with: a)

            for _ in 0..<Int.random(in: 20...40, using: &rng) {
                try randomWrite(hubs[Int.random(in: 0...1, using: &rng)], groups: groups, rng: &rng)
            }
            // Last, so no later write of either hub decides them: delete on one hub, update on
            // the other; member removed on one hub, added again on the other.
            try send(hubs[0], "DELETE", "/Users/\(victim)")
            try send(hubs[1], "PATCH", "/Users/\(victim)", patchOps(#"[{"op":"replace","path":"displayName","value":"updated on B"}]"#))
            try send(hubs[1], "PATCH", "/Groups/\(groups[0])", patchOps(#"[{"op":"remove","path":"members[value eq \"\#(member)\"]"}]"#))
            try send(hubs[0], "PATCH", "/Groups/\(groups[0])", patchOps(#"[{"op":"add","path":"members","value":[{"value":"\#(member)","display":"again"}]}]"#))

            // One sync (pull, then push) brings every change to both; the digest does not
            // depend on which tombstones each has purged.
            try sync(b, with: a)
            #expect(try a.digest() == b.digest(), "round \(round): digests differ after sync (seed \(seed))")
            let stateA = try state(hubs[0]), stateB = try state(hubs[1])
            #expect(stateA == stateB, "round \(round): the hubs answer differently (seed \(seed))")
            // Delete wins over the concurrent update; the add wins over the concurrent remove.
            for hub in hubs {
                #expect(try hub.get("/Users/\(victim)").status == 404, "round \(round): a deleted user came back (seed \(seed))")
                #expect(try hub.members(groups[0]).contains(member), "round \(round): a concurrent add was lost (seed \(seed))")
            }
            // One user per userName, whatever both hubs created.
            let userNames = stateA.users.values.compactMap { $0.member("userName")?.stringValue?.lowercased() }
            #expect(Set(userNames).count == userNames.count, "round \(round): a userName is held twice (seed \(seed))")
        }
    }

    /// One random SCIM write on `hub`: create, PUT, PATCH or delete a user, change a
    /// group's members or name. Refusals (409, 404 for a user the other hub deleted) are
    /// part of the game; a 5xx never is.
    func randomWrite(_ hub: ScimClient, groups: [String], rng: inout SeededGenerator) throws {
        let users = try hub.get("/Users?count=1000&attributes=userName").resources.compactMap { $0.member("id")?.stringValue }
        let someone = users.randomElement(using: &rng)
        let name = Self.names.randomElement(using: &rng)!
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1:
            try send(hub, "POST", "/Users", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\#(name)","active":true}"#)
        case 2 where someone != nil:
            let user = try hub.get("/Users/\(someone!)")
            guard let userName = user.json?.member("userName")?.stringValue else { return }
            try send(hub, "PUT", "/Users/\(someone!)", #"""
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\#(userName)",
                 "name":{"givenName":"G\#(Int.random(in: 0..<5, using: &rng))"},"active":\#(Bool.random(using: &rng))}
                """#)
        case 3 where someone != nil, 4 where someone != nil:
            let op = [#"{"op":"replace","path":"title","value":"T\#(Int.random(in: 0..<5, using: &rng))"}"#,
                      #"{"op":"Replace","path":"active","value":"False"}"#,
                      #"{"op":"add","value":{"nickName":"N\#(Int.random(in: 0..<5, using: &rng))"}}"#,
                      #"{"op":"replace","path":"emails[type eq \"work\"].value","value":"w\#(Int.random(in: 0..<5, using: &rng))@example.com"}"#,
                      #"{"op":"remove","path":"title"}"#].randomElement(using: &rng)!
            try send(hub, "PATCH", "/Users/\(someone!)", patchOps("[\(op)]"))
        case 5 where someone != nil:
            try send(hub, "DELETE", "/Users/\(someone!)")
        case 6 where someone != nil, 7 where someone != nil:
            let g = groups.randomElement(using: &rng)!
            let ops = Bool.random(using: &rng)
                ? #"[{"op":"add","path":"members","value":[{"value":"\#(someone!)"}]}]"#
                : #"[{"op":"remove","path":"members[value eq \"\#(someone!)\"]"}]"#
            try send(hub, "PATCH", "/Groups/\(g)", patchOps(ops))
        case 8:
            let g = groups.randomElement(using: &rng)!
            try send(hub, "PATCH", "/Groups/\(g)", patchOps(#"[{"op":"replace","path":"displayName","value":"Team \#(Int.random(in: 0..<4, using: &rng))"}]"#))
        default:
            let g = groups.randomElement(using: &rng)!
            try send(hub, "PATCH", "/Groups/\(g)", patchOps(#"[{"op":"Remove","path":"members","value":[{"value":"\#(someone ?? "nobody")"}]}]"#))
        }
    }

    /// What SCIM GETs show on one hub: every user (with groups) and group (with members), by id.
    struct HubState: Equatable {
        var users: [String: JSONValue] = [:]
        var groups: [String: JSONValue] = [:]
    }

    func state(_ hub: ScimClient) throws -> HubState {
        var s = HubState()
        let users = try hub.get("/Users?count=1000")
        #expect(users.total == users.resources.count)
        for u in users.resources {
            guard let id = u.member("id")?.stringValue else { continue }
            s.users[id] = try hub.get("/Users/\(id)").json
        }
        for g in try hub.get("/Groups?count=1000").resources {
            guard let id = g.member("id")?.stringValue else { continue }
            s.groups[id] = try hub.get("/Groups/\(id)").json
        }
        return s
    }

    /// Sends one request; anything but a 5xx is an answer the test accepts.
    func send(_ hub: ScimClient, _ method: String, _ path: String, _ body: String? = nil) throws {
        let r = try hub.send(method, path, body)
        #expect(r.status < 500, "\(method) \(path): \(r.status) \(r.text)")
    }

    func patchOps(_ operations: String) -> String {
        #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(operations)}"#
    }

    /// `b` syncs with `a` over the peer protocol (pull, then push).
    func sync(_ b: ScimServer, with a: ScimServer) throws {
        _ = try SyncClient().sync(store: b.store, url: a.url, token: ScimServer.peerToken, peerName: nil, progress: nil)
    }
}
