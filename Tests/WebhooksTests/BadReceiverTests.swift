import Foundation
import Glibc
import HTTP
import JSON
import Scim
import SetupLinks
import Storage
import Testing
import TestSupport
import Webhooks

/// Webhooks that cannot take an event: each attempt is logged as failed, the
/// hub keeps running, and other directories' events keep flowing.
@Suite struct BadReceiverTests {
    @Test func badWebhooksAreFailedAttemptsAndOthersKeepFlowing() throws {
        let receiver = try WebhookReceiver()
        for mode in ["garbage", "hang", "big", "redirect", "close"] { receiver.route("/\(mode)", secret: "s", mode: mode) }
        receiver.route("/good", secret: "s")
        let hub = try WebhookHub()
        try hub.start()
        var bad: [String: Directory] = [:]
        for mode in ["garbage", "hang", "big", "redirect", "close"] {
            bad[mode] = try hub.directory(tenant: mode, url: receiver.url("/\(mode)"), secret: "s")
        }
        bad["refused"] = try hub.directory(tenant: "refused", url: "http://127.0.0.1:\(try freePort())/hook", secret: "s")
        // A URL that is not HTTP at all, as a record from another replica could carry.
        let ftp = try hub.directory(tenant: "ftp", url: "https://placeholder.example/h", secret: "s")
        try hub.store.write { tx in _ = try tx.write(id: ftp.id, kind: .directory, ["webhook_url": "ftp://files.example.com/hook"]) }
        bad["ftp"] = try hub.service.directory(id: ftp.id)
        let good = try hub.directory(tenant: "good", url: receiver.url("/good"), secret: "s")

        for (name, d) in bad { try hub.scim(d).createUser("\(name)@example.test") }
        for i in 0..<6 { try hub.scim(good).createUser("good\(i)@example.test") }

        try #require(try poll(until: {
            try hub.store.outbox.counts(directory: good.id).delivered == 6
        }, deadline: .seconds(20)), "timed out waiting for the good directory's events delivered")
        try #require(try poll(until: {
            try bad.values.allSatisfy { try hub.events($0.id).first?.attempts ?? 0 >= 1 }
        }, deadline: .seconds(20)), "timed out waiting for a failed attempt for every bad webhook")
        var errors: [String: String] = [:]
        for (name, d) in bad {
            let e = try #require(try hub.events(d.id).first)
            #expect(e.status == .pending, "\(name) stays pending, to be retried")
            errors[name] = e.lastError ?? ""
        }
        #expect(errors["refused"] == "connection refused")
        #expect(errors["ftp"] == "not an absolute http:// or https:// URL")
        #expect(errors["hang"] == "timed out after 2 s")
        #expect(errors["big"] == "response larger than the limit of 65536 bytes")
        #expect(errors["redirect"]?.hasPrefix("HTTP 302: redirect to http://127.0.0.1:\(receiver.port)/elsewhere not followed") == true)
        #expect(errors["garbage"]?.isEmpty == false)
        #expect(errors["close"]?.isEmpty == false)
        print("BadReceiverTests: errors recorded: \(errors.sorted { $0.key < $1.key })")
        #expect(receiver.received("/elsewhere").isEmpty, "the redirect was not followed")
        // The hub still serves.
        let health = try HTTPClient().send(method: "GET", url: "http://127.0.0.1:\(hub.port)/healthz")
        #expect(health.status == 200)
    }

    @Test func anEventThatKeepsFailingIsGivenUpAndTheNextOneGoes() throws {
        let receiver = try WebhookReceiver()
        receiver.route("/no", secret: "s", mode: "500")
        var c = testConfiguration()
        c.giveUpAfter = .milliseconds(400)
        let hub = try WebhookHub(configuration: c)
        let d = try hub.directory(url: receiver.url("/no"), secret: "s")
        try hub.scim(d).createUser("old@acme.test")
        try hub.start()
        try #require(try poll(until: { try hub.events(d.id).first?.status == .failed }, deadline: .seconds(15)), "timed out waiting for the first event given up")
        let first = try hub.events(d.id)[0]
        #expect(first.attempts >= 2 && first.lastError?.hasPrefix("given up after \(first.attempts) attempts: HTTP 500") == true)
        receiver.route("/no", secret: "s")
        try hub.scim(d).createUser("new@acme.test")
        try #require(try poll(until: { try hub.events(d.id).last?.status == .delivered }, deadline: .seconds(15)), "timed out waiting for the next event delivered")
        #expect(receiver.received("/no").filter { $0.status == 200 }.count == 1)
    }
}
