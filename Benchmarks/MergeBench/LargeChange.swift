import Fixtures
import Foundation
import PeerSync
import Replica
import SetupLinks
import Storage

extension Bench {
    // 10. A change larger than a page (Storage.docc/LargeChanges.md): a group of N
    // members created in one transaction and deleted in one, each synced to an empty
    // replica over loopback; against the other way to keep changes small, one transaction
    // (one change) per membership. Times the local writes and the syncs.
    func largeChanges() throws {
        let n = options.quick ? 20_000 : (options.sizes.contains(100_000) ? 100_000 : options.sizes[0])
        var rng = SeededGenerator(seed: 5)
        let directory = Workload.uuid(&rng), group = Workload.uuid(&rng)
        let members = (0..<n).map { _ in Workload.uuid(&rng) }
        func membership(_ m: String) -> (String, [String: String]) {
            (ScimRecords.membershipID(group: group, member: m),
             ["group": group, "member": m, "directory": directory, "present": "1", "attrs": "{\"value\":\"\(m)\"}"])
        }
        for (name, oneChange) in [("one_change", true), ("per_record", false)] {
            var writes: [Double] = [], deletes: [Double] = [], syncs: [Double] = [], deleteSyncs: [Double] = []
            var parts = 0
            for _ in 0..<max(1, min(options.runs, 3)) {
                let server = try SetupLinkService.openStore(path: path("large-server"))
                let client = try SetupLinkService.openStore(path: path("large-client"))
                let sync = SyncServer(store: server, token: "t")
                let url = "http://127.0.0.1:\(try sync.start())"
                defer {
                    sync.stop()
                    server.close()
                    client.close()
                }
                writes.append(try time {
                    if oneChange {
                        try server.write { tx in for m in members { let (id, v) = membership(m); try tx.write(id: id, kind: .membership, v) } }
                    } else {
                        for m in members { try server.write { tx in let (id, v) = membership(m); try tx.write(id: id, kind: .membership, v) } }
                    }
                })
                var report: SyncReport?
                syncs.append(try time { report = try SyncClient().sync(store: client, url: url, token: "t") })
                try check(try client.records(kind: .membership).count == n, "the client holds every membership")
                deletes.append(try time {
                    if oneChange {
                        try server.write { tx in for m in members { try tx.delete(id: membership(m).0) } }
                    } else {
                        for m in members { try server.write { tx in try tx.delete(id: membership(m).0) } }
                    }
                })
                deleteSyncs.append(try time { report = try SyncClient().sync(store: client, url: url, token: "t") })
                try check(try client.records(kind: .membership).isEmpty, "the client deleted every membership")
                try check(try client.digest() == server.digest(), "both sides agree")
                parts = report?.pulledPages ?? 0
            }
            report("large_\(name)_write_s_\(label(n))", median(writes), "s")
            report("large_\(name)_sync_rps_\(label(n))", Double(n) / median(syncs), "records/s")
            report("large_\(name)_delete_s_\(label(n))", median(deletes), "s")
            report("large_\(name)_delete_sync_rps_\(label(n))", Double(n) / median(deleteSyncs), "records/s")
            report("large_\(name)_delete_pages_\(label(n))", Double(parts), "pages")
        }
    }
}

extension Bench {
    // 11. What checking the meaning of a record costs (RecordRules), per record of the workload.
    func ruleCosts() throws {
        let n = 100_000
        let records = Workload.records(n).map(EncodedRecord.init)
        var rules: [UInt8: RecordRule] = [:]
        for r in RecordRules.all { rules[r.kind.rawValue] = r }
        var times: [Double] = []
        for _ in 0..<5 {
            var bad = 0
            times.append(time { for r in records where RecordRule.violation(of: r, kind: r.bytes[1] == 1 ? .link : .directory, rules: rules) != nil { bad += 1 } })
            try check(bad == 0, "the workload follows the rules (\(bad) refused)")
        }
        report("rule_check_ns_per_record", median(times) / Double(n) * 1e9, "ns")
    }
}
