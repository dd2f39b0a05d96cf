import Foundation
import JSON
import PeerSync
import Scim
import SetupLinks
import Storage
import Testing
import TestSupport
import Webhooks

/// Who sends what: only the hub that accepted a change, never a replica that
/// synced it in; nothing for a deactivated directory; a changed webhook gets
/// the events still waiting.
@Suite struct OutboxScopeTests {
    @Test func aChangeSyncedToAnotherHubIsSentByItsOwnHubOnly() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/two", secret: "s2")
        let a = try WebhookHub(), b = try WebhookHub()
        try a.start()
        try b.start()
        let d = try a.directory(url: receiver.url("/two"), secret: "s2")
        let onA = try a.scim(d).createUser("one@acme.test").events + a.scim(d).createUser("two@acme.test").events
        // B pulls everything from A (and pushes back) over HTTP.
        _ = try SyncClient().sync(store: b.store, url: "http://127.0.0.1:\(a.port)", token: "peer-token-for-tests")
        #expect(try b.store.digest() == a.store.digest())
        #expect(try b.service.directory(id: d.id).id == d.id, "B holds the directory and its users")
        try #require(try poll(until: { try a.store.outbox.counts(directory: d.id).delivered == 2 }, deadline: .seconds(15)), "timed out waiting for A's events delivered")
        // A change accepted on B is B's to send, and syncing it to A makes A send nothing.
        let user = try #require(try a.store.lookup(ScimIndex.userByName.rawValue, key: ScimIndex.key(d.id, "one@acme.test")).first)
        let onB = try b.scim(d).write { f, s in
            try f.patchUser(user.id, patch(#"[{"op":"replace","path":"name.givenName","value":"Uno"}]"#), in: s)
        }.events
        _ = try SyncClient().sync(store: b.store, url: "http://127.0.0.1:\(a.port)", token: "peer-token-for-tests")
        #expect(try b.store.digest() == a.store.digest())
        try #require(try poll(until: { try b.store.outbox.counts(directory: d.id).delivered == 1 }, deadline: .seconds(15)), "timed out waiting for B's event delivered")
        // Each hub's outbox holds only what it accepted: nothing else can leave from it.
        #expect(try a.events(d.id).map(\.event) == onA.map(\.name))
        #expect(try b.events(d.id).map(\.event) == onB.map(\.name))
        let got = receiver.received("/two")
        #expect(got.count == 3 && got.allSatisfy { $0.rawOK && $0.status == 200 })
        #expect(got.map { $0.body["event"]?.stringValue } == (onA + onB).map(\.name))
        #expect(got.prefix(2).allSatisfy { $0.ids.allSatisfy { $0.hasPrefix(a.store.replicaID.hex) } })
        #expect(got.last!.ids.allSatisfy { $0.hasPrefix(b.store.replicaID.hex) })
    }

    @Test func aDeactivatedDirectoryEmitsNothing() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/off", secret: "s")
        let hub = try WebhookHub()
        let d = try hub.directory(url: receiver.url("/off"), secret: "s")
        // Events waiting when the directory is deactivated are dropped, not sent.
        try hub.scim(d).createUser("waiting@acme.test")
        #expect(try hub.events(d.id).map(\.status) == [.pending])
        _ = try hub.service.setDirectoryDeactivated(true, id: d.id)
        // A change that reaches the sink of a deactivated directory enqueues nothing
        // (the SCIM routes refuse such writes before that; the sink checks again).
        let off = try hub.service.directory(id: d.id)
        try hub.scim(off).createUser("after@acme.test")
        #expect(try hub.events(d.id).count == 1)
        try hub.start()
        try #require(try poll(until: { try hub.events(d.id).first?.status == .dropped }, deadline: .seconds(15)), "timed out waiting for the waiting event dropped")
        #expect(try hub.events(d.id)[0].lastError == "not sent: the directory is deactivated")
        #expect(try hub.events(d.id)[0].attempts == 0)
        // Activated again: new changes are sent, the dropped one is not.
        _ = try hub.service.setDirectoryDeactivated(false, id: d.id)
        try hub.scim(d).createUser("back@acme.test")
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == 1 }, deadline: .seconds(15)), "timed out waiting for the new event delivered")
        let got = receiver.received("/off")
        #expect(got.count == 1)
        #expect(got.first?.body["data"]?["email"]?.stringValue == "back@acme.test")
    }

    @Test func aDeletedDirectoryDropsItsWaitingEvents() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/gone", secret: "s")
        let hub = try WebhookHub()
        let d = try hub.directory(url: receiver.url("/gone"), secret: "s")
        try hub.scim(d).createUser("gone@acme.test")
        try hub.service.deleteDirectory(id: d.id)
        try hub.start()
        try #require(try poll(until: { try hub.events(d.id).first?.status == .dropped }, deadline: .seconds(15)), "timed out waiting for the event dropped")
        #expect(try hub.events(d.id)[0].lastError == "not sent: the directory was deleted")
        #expect(receiver.received().isEmpty)
    }

    @Test func linkUpdateSendsWaitingEventsToTheNewWebhookWithTheNewSecret() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/old", secret: "old-secret", mode: "500")
        receiver.route("/new", secret: "new-secret")
        let hub = try WebhookHub()
        try hub.start()
        let d = try hub.directory(url: receiver.url("/old"), secret: "old-secret")
        let expected = try hub.scim(d).createUser("moved@acme.test").events + hub.scim(d).createUser("moved2@acme.test").events
        try #require(try poll(until: { try hub.events(d.id).first?.attempts ?? 0 >= 1 }, deadline: .seconds(15)), "timed out waiting for a failed attempt at the old URL")
        let link = try #require(try hub.service.links(tenant: "acme").first)
        let (_, changed, directories) = try hub.service.updateLink(id: link.id, webhookURL: receiver.url("/new"),
                                                                   webhookSecret: "new-secret")
        #expect(changed == ["webhook_secret", "webhook_url"] && directories == [d.id])
        let moved = try hub.service.directory(id: d.id)
        #expect(moved.webhookURL == receiver.url("/new") && moved.webhookSecret == "new-secret")
        try #require(try poll(until: { try hub.store.outbox.counts(directory: d.id).delivered == 2 }, deadline: .seconds(15)), "timed out waiting for both delivered")
        let got = receiver.received("/new")
        #expect(got.count == 2 && got.allSatisfy { $0.rawOK && $0.status == 200 })
        DeliveryTests.expectPayloads(got.map(\.body), expected, d)
        #expect(receiver.received("/old").allSatisfy { $0.status == 500 })
        // The link's other fields, and other links' directories, are left alone.
        let other = try hub.directory(tenant: "globex", url: receiver.url("/old"), secret: "old-secret")
        _ = try hub.service.updateLink(id: link.id, webhookSecret: "newer")
        #expect(try hub.service.directory(id: other.id).webhookSecret == "old-secret")
        #expect(try hub.service.directory(id: d.id).webhookSecret == "newer")
    }

    @Test func anEventCommitsWithItsChangeOrNotAtAll() throws {
        let hub = try WebhookHub()
        let d = try hub.directory(url: "http://127.0.0.1:9/never", secret: "s")
        let digest = try hub.store.digest()
        // A sink that fails after enqueueing rolls the change back with its events.
        struct SinkFailed: Error {}
        let failing = ScimWriter(store: hub.store, directory: d, sink: { tx, events in
            try Outbox.enqueue(events, in: tx)
            throw SinkFailed()
        })
        #expect(throws: SinkFailed.self) { try failing.createUser("rolled@acme.test") }
        #expect(try hub.events(d.id).isEmpty)
        #expect(try hub.store.digest() == digest, "no user either")
        // A flow that fails after its events were enqueued leaves neither.
        #expect(throws: ScimError.self) {
            try hub.store.write { tx in
                let out = try hub.scim(d).flows.createUser(json(#"{"userName":"half@acme.test"}"#), in: ScimReplicaTransaction(store: hub.store, tx: tx))
                try Outbox.enqueue(out.events, in: tx)
                _ = try hub.scim(d).flows.createUser(json(#"{"userName":"half@acme.test"}"#), in: ScimReplicaTransaction(store: hub.store, tx: tx))
            }
        }
        #expect(try hub.events(d.id).isEmpty)
        #expect(try hub.store.digest() == digest)
        // And a change that commits has its events.
        try hub.scim(d).createUser("kept@acme.test")
        #expect(try hub.events(d.id).map(\.event) == ["user.created"])
        #expect(try hub.store.digest() != digest)
    }
}
