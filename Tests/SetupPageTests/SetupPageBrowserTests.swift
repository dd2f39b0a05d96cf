import Foundation
import Testing
import SetupLinks
import TestSupport

/// The page in a real browser: headless Chromium driven through the Chrome
/// DevTools Protocol by `Browser/setup_page_browser.py`, against a replica
/// served by `setuplink serve`.
///
/// Python comes from `SETUPLINK_PYTHON`, else the package's `.venv/bin/python3`
/// (with the PyPI package `websocket-client`); Chromium from
/// `SETUPLINK_CHROMIUM`, else `chromium` on the PATH. Screenshots go to
/// `.build/test-output/setup-page/`. Where either is missing or Chromium cannot
/// start, the test is skipped and says why — except under CI (`CI` set),
/// which installs both, so there it fails instead (`requires`, `unavailable`).
@Suite struct SetupPageBrowserTests {
    static let outputFolder = packageRoot().appendingPathComponent(".build/test-output/setup-page").path

    @Test func aTenantCreatesADirectoryInChromium() throws {
        let python = try requires(.venvPython)
        let dir = temporaryFolder()
        let db = dir + "/hub.sqlite"
        let made = try setuplink(db: db, "link create --tenant \"Acme Corporation\" --product CRM"
                                 + " --webhook-url https://hooks.example.com/x --webhook-secret s3cret\n")
        let token = try #require(made.objects.first?["token"] as? String)
        // A link with a very long tenant name (no spaces to break at), and one that expired.
        let long = String(repeating: "Verylongtenantname", count: 12)
        let longMade = try setuplink(db: db, "link create --tenant \(long) --product CRM"
                                     + " --webhook-url https://hooks.example.com/x --webhook-secret s3cret\n")
        let longToken = try #require(longMade.objects.first?["token"] as? String)
        let expiredToken: String
        do {
            let store = try SetupLinkService.openStore(path: db)
            defer { store.close() }
            let past = try SetupLinkService(store: store, now: { Date().addingTimeInterval(-10 * 86_400) })
            expiredToken = try past.createLink(tenant: "Initech", product: "CRM", webhookURL: "https://hooks.example.com/x",
                                               webhookSecret: "s3cret", name: nil, expiryDays: 1).0.token
        }
        let serve = try serveProcess(db: db)
        defer { serve.stop() }
        try? FileManager.default.removeItem(atPath: Self.outputFolder)
        let script = packageRoot().appendingPathComponent("Tests/SetupPageTests/Browser/setup_page_browser.py").path
        let run = try runChild(URL(fileURLWithPath: python),
                                 [script, "--url", "\(serve.url)/setup/\(token)", "--out", Self.outputFolder,
                                  "--external-url", "https://hub.example.test",
                                  "--expired-url", "\(serve.url)/setup/\(expiredToken)", "--long-url", "\(serve.url)/setup/\(longToken)"],
                                 // Chromium's profile and its own temporary files go in the test's folder
                                 // (its helpers may still write after the browser is killed).
                                 environment: ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("SETUPLINK_CHROMIUM") }
                                     .merging(["TMPDIR": testFolder("b")]) { $1 })
        if run.status == 77 {
            let last = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let reason = last.hasPrefix("SKIP: ") ? String(last.dropFirst(6)) : "Chromium could not start"
            try unavailable("Chromium: \(reason)")
        }
        #expect(run.status == 0, "browser checks:\n\(run.stdout)\n\(run.stderr)")
        for shot in ["desktop.png", "phone.png", "desktop-created.png", "confirm-delete.png", "not-found.png", "expired.png",
                     "long-name-phone.png"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: Self.outputFolder + "/" + shot)[.size] as? Int) ?? 0
            #expect(size > 10_000, "screenshot \(shot) saved")
        }
        // What the browser did is on the replica: the directory made without JavaScript stays,
        // the one made with it was deleted through the confirmation page.
        let listed = try setuplink(db: db, "directory list\n")
        let names = (listed.objects.first?["directories"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["No-script JumpCloud"])
        #expect(!serve.accessLog.contains(token))
    }
}
