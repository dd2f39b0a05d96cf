import Foundation
import TestSupport
import Glibc
import Replica
import Storage
import Testing

/// `setuplink sync` killed with SIGKILL in the middle of a pull.
@Suite struct SyncKillTests {
    @Test func aSyncKilledMidPullIsNeverCountedForWhatItDidNotApplyAndLosesNoDelete() throws {
        let dir = testFolder("kill")
        let hubDB = dir + "/hub.sqlite", laptopDB = dir + "/laptop.sqlite"
        let x = validLink(tenant: "acme", product: "crm").id
        do {
            let hub = try ReplicaStore(path: hubDB)
            try hub.write { _ = try $0.write(id: x, kind: .link, validLink(tenant: "acme", product: "crm").values) }
            hub.close()
        }
        let token = ["SETUPLINK_TOKEN": "tok"]
        let server = try serverProcess(db: hubDB, environment: token)
        defer { server.stop() }
        let first = try runTool(["--db", laptopDB, "sync", server.url], environment: token)
        #expect(first.status == 0, "\(first.stderr)")
        // The laptop edits x offline while the hub gains 6,000 links and then deletes x.
        let laptopID: ReplicaID
        do {
            let laptop = try ReplicaStore(path: laptopDB)
            laptopID = laptop.replicaID
            try laptop.write { _ = try $0.write(id: x, kind: .link, ["name": "edited offline"]) }
            laptop.close()
            let hub = try ReplicaStore(path: hubDB)
            for batch in 0..<60 {
                try hub.write { tx in
                    for i in 0..<100 {
                        let l = validLink(tenant: "t\(batch)", product: "p\(i)")
                        _ = try tx.write(id: l.id, kind: .link, l.values)
                    }
                }
            }
            try hub.write { try $0.delete(id: x) }
            hub.close()
        }
        let client = Process()
        client.executableURL = setuplinkBinary()
        client.arguments = ["--db", laptopDB, "sync", server.url]
        client.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SETUPLINK_") }.merging(token) { $1 }
        client.standardOutput = FileHandle.nullDevice
        client.standardError = FileHandle.nullDevice
        try client.run()
        // Killed once the hub has answered a few pulls (the fetcher runs pages ahead of the applier).
        poll(until: { server.accessLog.components(separatedBy: "POST /sync/v1/pull 200").count >= 4 + 1 }, deadline: .seconds(60))
        kill(client.processIdentifier, SIGKILL)
        client.waitUntilExit()

        let laptop = try ReplicaStore(path: laptopDB), hub = try ReplicaStore(path: hubDB)
        let committed = try laptop.clock(), acknowledged = try hub.acknowledgement(of: laptopID)
        print("SyncKillTests: killed with \(try laptop.counts().links) of 6,001 links applied")
        #expect(acknowledged.isDominated(by: committed), "the hub counts only what the laptop committed: \(acknowledged) vs \(committed)")
        if try laptop.record(id: x)?.isDeleted != true {
            #expect(try hub.record(id: x)?.isDeleted == true, "the laptop has not applied the delete: the hub keeps it")
        }
        laptop.close()
        hub.close()

        let again = try runTool(["--db", laptopDB, "sync", server.url], environment: token)
        #expect(again.status == 0, "\(again.stderr)")
        let a = try status(laptopDB), b = try status(hubDB)
        #expect(a["links"] as? Int == 6_000 && b["links"] as? Int == 6_000, "x stays deleted")
        #expect(a["digest"] as? String == b["digest"] as? String)
    }
}
