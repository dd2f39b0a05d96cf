import Foundation
import Testing
import Replica
@testable import Storage

/// What a backup keeps of the hub's local settings: its configuration, never its secrets.
@Suite struct BackupTests {
    @Test func aCopyKeepsTheSettingsButNotTheHubsSecrets() throws {
        let store = try temporaryStore()
        try store.settings.set("default-expiry-days", to: "7")
        try store.settings.set("serve-token", to: "secret-peer-token")
        try store.settings.set("google.refresh-token.dir-1", to: "1//refresh-secret")
        try store.settings.set("google.held", to: "dir-1")
        try store.write { _ = try $0.write(id: "x", kind: .link, ["token": "t"]) }
        let source = store.path
        store.close()
        let copy = (source as NSString).deletingLastPathComponent + "/copy.sqlite"
        let report = try ReplicaStore.backup(from: source, to: copy)
        let c = try ReplicaStore(path: copy)
        defer { c.close() }
        #expect(c.replicaID == report.replica && c.replicaID != report.source)
        #expect(try c.record(id: "x") != nil)
        #expect(try c.settings.value("default-expiry-days") == "7")
        #expect(try c.settings.value("serve-token") == nil)
        #expect(try c.settings.value("google.refresh-token.dir-1") == nil, "a Google refresh token never leaves the hub that received it")
        #expect(try c.settings.value("google.held") == nil)
    }
}
