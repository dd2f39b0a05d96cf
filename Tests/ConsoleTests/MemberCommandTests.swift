import Foundation
import PeerSync
import Replica
import SetupLinks
import Storage
import Testing

/// `member list` and `member retire` on the command line.
@Suite struct MemberCommandTests {
    @Test func listShowsWhatAMemberHoldsBackAndRetireReleasesIt() throws {
        let hubDB = temporaryReplica(), laptopDB = temporaryReplica()
        let laptopID: String
        do {
            let hub = try SetupLinkService.openStore(path: hubDB), laptop = try SetupLinkService.openStore(path: laptopDB)
            laptopID = laptop.replicaID.hex
            let service = try SetupLinkService(store: hub)
            let (l, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: "https://h.example.com/x", webhookSecret: "s")
            // A real sync (over HTTP, on port 0): the laptop becomes a member of the hub's system.
            let server = SyncServer(store: hub, token: "tok")
            let port = try server.start()
            _ = try SyncClient().sync(store: laptop, url: "http://127.0.0.1:\(port)", token: "tok")
            server.stop()
            try service.deleteLink(id: l.id)
            hub.close()
            laptop.close()
        }
        let list = try runTool(["--db", hubDB, "member", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains(laptopID) && list.stdout.contains("this replica"))
        #expect(list.stdout.contains("member retire \(laptopID.prefix(8))"), "it says what to do about a member that holds tombstones back")
        let listed = try runTool(["--db", hubDB, "--json", "member", "list"])
        let members = json(listed.stdout)["members"] as? [[String: Any]] ?? []
        let laptop = try #require(members.first { $0["id"] as? String == laptopID })
        #expect((laptop["holds_back"] as? Int ?? 0) >= 1 && laptop["retired"] is NSNull)

        // A prefix names it; the answer says what was kept; the tombstones go.
        let retire = try runTool(["--db", hubDB, "--json", "member", "retire", String(laptopID.prefix(10)), "--yes"])
        #expect(retire.status == 0, "\(retire.stderr)")
        #expect(json(retire.stdout)["result"] as? String == "retired")
        let after = json(try runTool(["--db", hubDB, "--json", "status"]).stdout)
        #expect(after["tombstones"] as? Int == 0, "purging no longer waits for the retired laptop: \(after)")
        // Mistakes are one-line errors.
        let unknown = try runTool(["--db", hubDB, "member", "retire", "ffff", "--yes"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no member ffff"))
    }
}
