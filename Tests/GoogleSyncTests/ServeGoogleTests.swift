import Foundation
import GoogleSync
import HTTP
import JSON
import SetupLinks
import Storage
import Testing
import TestSupport

/// The real `setuplink serve` with Google configured: from "Authorize with Google" to users in
/// `directory users` and events at the receiver, and `directory sync-now` from a second process.
@Suite struct ServeGoogleTests {
    @Test func fromAuthorizeToUsersAndEventsWithTheRealBinary() throws {
        let google = try FakeGoogle(), receiver = try Receiver()
        try google.setDirectory(users: [GoogleSyncTests.ann, GoogleSyncTests.bob], groups: [GoogleSyncTests.eng],
                                members: ["g01": ["ann@acme.test"]])
        let folder = testFolder("google-serve")
        let db = folder + "/hub.sqlite"
        let (link, d): (SetupLink, Directory) = try {
            let service = try SetupLinkService(store: try SetupLinkService.openStore(path: db))
            defer { service.store.close() }
            let (link, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: receiver.hookURL, webhookSecret: Receiver.secret)
            return (link, try service.open(link.token).createDirectory(type: .google))
        }()
        let secretFile = folder + "/google.secret"
        _ = FileManager.default.createFile(atPath: secretFile, contents: Data((clientSecret + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let port = try freePort()
        let served = try ServedSetuplink(
            db: db, before: ["--external-url", "http://127.0.0.1:\(port)"],
            serve: ["--port", String(port), "--google-client-id", clientID, "--google-client-secret-file", secretFile, "--google-poll-seconds", "600"],
            environment: ["SETUPLINK_TOKEN": "peer-secret-0123456789", "SETUPLINK_GOOGLE_AUTH_URL": google.url + "/o/oauth2/v2/auth",
                          "SETUPLINK_GOOGLE_TOKEN_URL": google.url + "/token", "SETUPLINK_GOOGLE_API_URL": google.url])
        defer { served.stop() }
        let providers = try runChild(setuplinkBinary(), ["--db", db, "providers"])
        #expect(providers.stdout.contains("google ") && !providers.stdout.contains("not offered"))

        let answer = try Browser().authorize(hubURL: served.url, linkToken: link.token, directory: d.id)
        #expect(answer.status == 303)
        try #require(poll(until: { receiver.names.count >= 4 }, deadline: .seconds(30)), "\(served.accessLog)")
        #expect(receiver.names == ["user.created", "user.created", "group.created", "group.user_added"])
        let users = try runChild(setuplinkBinary(), ["--db", db, "directory", "users", d.id])
        #expect(users.stdout.contains("ann@acme.test") && users.stdout.contains("bob@acme.test"), "\(users.stdout)\(users.stderr)")
        let show = try runChild(setuplinkBinary(), ["--db", db, "directory", "show", d.id])
        #expect(show.stdout.contains("authorized by admin@acme.test (acme.test)") && show.stdout.contains("Last sync"), "\(show.stdout)")

        // A change in Google, synced at once from another process.
        try google.setDirectory(users: [GoogleSyncTests.ann, GoogleSyncTests.bob, GoogleSyncTests.dan], groups: [GoogleSyncTests.eng],
                                members: ["g01": ["ann@acme.test", "dan@acme.test"]])
        let count = receiver.names.count
        let sync = try runChild(setuplinkBinary(), ["--db", db, "directory", "sync-now", d.id])
        #expect(sync.status == 0 && sync.stdout.contains("Synced"), "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("1 user.created") && sync.stdout.contains("1 group.user_added"))
        try #require(poll(until: { receiver.names.count >= count + 2 }, deadline: .seconds(20)))
        #expect(Array(receiver.names.dropFirst(count)) == ["user.created", "group.user_added"])
        #expect(receiver.allVerified)

        // The log has the callback's path, never its code or state, nor any token.
        #expect(served.accessLog.contains(GoogleConfiguration.callbackPath))
        #expect(!served.accessLog.contains("code=") && !served.accessLog.contains("1//") && !served.accessLog.contains("ya29."))
        served.stop()
        let stopped = try runChild(setuplinkBinary(), ["--db", db, "directory", "sync-now", d.id])
        #expect(stopped.status != 0 && stopped.stderr.contains("no setuplink serve is running"), "\(stopped.stderr)")
    }
}
