import Bytes
import Fixtures
import Foundation
import SetupLinks
import Replica

/// Generated setup-link and directory records, about ten fields each, with realistic sizes.
enum Workload {
    /// The replica that "wrote" the remote records.
    static let origin = ReplicaID(high: 0xA11C_E000_0000_0001, low: 0x0000_0000_0000_0001)
    /// The replica that writes concurrently in the conflict figure.
    static let rival = ReplicaID(high: 0xB0B0_0000_0000_0002, low: 0x0000_0000_0000_0002)

    // Built as they always were (one buffer, then a string; the UUID cut from 32 digits): the
    // figures depend on where the records' strings land in memory, and must stay comparable.

    /// `bytes` (a multiple of 8) seeded random bytes as lowercase hex (a token).
    static func hex(_ rng: inout SeededGenerator, _ bytes: Int) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes * 2)
        for _ in 0..<(bytes / 8) {
            let v = rng.next()
            for k in stride(from: 60, through: 0, by: -4) { out.append(Hex.digit(UInt8(truncatingIfNeeded: v >> UInt64(k)) & 0xF)) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Sixteen seeded random bytes as a UUID's text (a directory id).
    static func uuid(_ rng: inout SeededGenerator) -> String {
        let h = Array(hex(&rng, 16))
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }

    /// `n` records, one write each by `origin` (counters offset+1…offset+n); one in five is a link.
    static func records(_ n: Int, seed: UInt64 = 42, offset: Int = 0) -> [Record] {
        var rng = SeededGenerator(seed: seed &+ UInt64(offset))
        var out: [Record] = []
        out.reserveCapacity(n)
        // In the past (2023): receivers refuse timestamps ahead of their clock (PeerInput.maxSkew).
        let t0: UInt64 = 1_700_000_000_000
        for i in offset..<(offset + n) {
            let dot = Dot(replica: origin, counter: UInt64(i + 1))
            let hlc = HLC(rawValue: (t0 + UInt64(i)) << 16)
            let tenant = "tenant-\(i / 5)", product = ["crm", "hr", "payroll", "erp", "support"][i % 5]
            if i % 5 == 0 {
                // The id its tenant and product derive (peers check it: RecordRules).
                var r = Record(id: SetupLinkService.linkID(tenant: tenant, product: product), kind: .link)
                r.write([
                    "tenant": tenant, "product": product, "name": "Tenant \(i / 5) \(product)",
                    "webhook_url": "https://hooks.example.com/dsync/\(i / 5)", "webhook_secret": hex(&rng, 16),
                    "token": hex(&rng, 24), "valid_till": "2027-01-0\(1 + i % 9)T12:00:00Z", "expiry_days": "3",
                    "service": "dsync",
                ], dot: dot, hlc: hlc, revive: true)
                out.append(r)
            } else {
                let id = uuid(&rng)
                var r = Record(id: id, kind: .directory)
                r.write([
                    "name": "scim-\(tenant)-\(product)", "tenant": tenant, "product": product,
                    "webhook_url": "https://hooks.example.com/dsync/\(i / 5)", "webhook_secret": hex(&rng, 16),
                    "type": "okta-scim-v2", "scim_path": "/api/scim/v2.0/\(id)", "scim_token": String(hex(&rng, 16).prefix(22)),
                    "deactivated": "false", "link_id": hex(&rng, 16),
                ], dot: dot, hlc: hlc, revive: true)
                out.append(r)
            }
        }
        return out
    }

    /// Concurrent overwrites of the token of every tenth record by `writer`, counters after `base`.
    static func overwrite(_ records: [Record], by writer: ReplicaID, base: UInt64, salt: UInt64) -> [Record] {
        var rng = SeededGenerator(seed: salt)
        var out = records
        var counter = base
        for k in stride(from: 0, to: out.count, by: 10) {
            counter += 1
            out[k].write(["token": hex(&rng, 24)], dot: Dot(replica: writer, counter: counter),
                         hlc: HLC(rawValue: (1_700_100_000_000 + counter) << 16 | salt & 0xFF))
        }
        return out
    }
}
