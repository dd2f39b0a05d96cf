import BenchSupport
import Events
import Foundation
import JSON
import Replica
import Scim
import SetupLinks
import Storage

/// One tenant of a built replica: what the measurements reach it by.
struct Tenant: Sendable {
    var name: String
    var linkToken: String
    var directory: String
    var scimPath: String
    var scimToken: String
}

/// A hub replica of about N records made the way a hub makes them: each tenant gets a setup
/// link, a directory opened through it, then users and groups written by Scim's own flows
/// (`createUser`, `createGroup`) with the event record the hub logs for each change, in
/// transactions of `usersPerTransaction` creates (a busy hub's group commits).
///
/// Per tenant: 1 link, 1 directory, 1,000 users, 10 groups of 20 members; with the events,
/// 2,422 records (users 41%, events 50%, memberships 8%).
enum ReplicaBuilder {
    static let usersPerTenant = 1_000
    static let groupsPerTenant = 10
    static let membersPerGroup = 20
    static let usersPerTransaction = 250
    /// Records one tenant adds (link, directory, users, groups, memberships, and an event each but the link and directory).
    static var recordsPerTenant: Int {
        let memberships = groupsPerTenant * membersPerGroup
        return 2 + 2 * usersPerTenant + 2 * groupsPerTenant + 2 * memberships
    }

    static func tenantName(_ t: Int) -> String { "tenant-" + pad(t, 6) }
    static func userName(_ u: Int, tenant t: Int) -> String { "user-\(pad(u, 5))@\(tenantName(t)).example.com" }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// The body an identity provider would send for user `u` of tenant `t`.
    static func userBody(_ u: Int, tenant t: Int, prefix: String = "user") -> [UInt8] {
        let name = prefix == "user" ? userName(u, tenant: t) : "\(prefix)-\(pad(u, 5))@\(tenantName(t)).example.com"
        return Array("""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\(name)",\
        "name":{"givenName":"Given\(u)","familyName":"Family\(t)"},"displayName":"Given\(u) Family\(t)",\
        "emails":[{"value":"\(name)","type":"work","primary":true}],"active":true,"externalId":"00u\(pad(t, 6))\(pad(u, 8))",\
        "title":"Engineer","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"\(u)"}}
        """.utf8)
    }

    /// Builds at `path` (which must not exist) a replica of at least `records` records;
    /// reports progress on stderr every `progressEvery` tenants. Returns the tenants.
    static func build(path: String, records: Int) throws -> [Tenant] {
        let store = try SetupLinkService.openStore(path: path)
        defer { store.close() }
        let service = try SetupLinkService(store: store, externalURL: "http://127.0.0.1")
        let tenants = max(1, (records + recordsPerTenant - 1) / recordsPerTenant)
        var out: [Tenant] = []
        out.reserveCapacity(tenants)
        let start = Date()
        for t in 0..<tenants {
            let name = tenantName(t)
            let (link, _) = try service.createLink(tenant: name, product: "crm", webhookURL: "https://hooks.example.com/dsync/\(name)",
                                                   webhookSecret: "whsec-\(name)", expiryDays: 30)
            let directory = try service.open(link.token).createDirectory(type: .okta)
            let scim = ScimDirectory(id: directory.id, baseURL: "http://127.0.0.1" + ScimRoutes.basePath + "/" + directory.id)
            var ids: [String] = []
            ids.reserveCapacity(usersPerTenant)
            var u = 0
            while u < usersPerTenant {
                let end = min(usersPerTenant, u + usersPerTransaction)
                let made: [String] = try store.write { tx in
                    let s = ScimReplicaTransaction(store: store, tx: tx)
                    var events: [DirectoryEvent] = []
                    var made: [String] = []
                    for k in u..<end {
                        let outcome = try scim.createUser(try JSONParser.parse(userBody(k, tenant: t)), in: s)
                        events += outcome.events
                        made.append(outcome.record.id)
                    }
                    _ = try EventLog.append(events, in: tx)
                    return made
                }
                ids += made
                u = end
            }
            try store.write { tx in
                let s = ScimReplicaTransaction(store: store, tx: tx)
                var events: [DirectoryEvent] = []
                for g in 0..<groupsPerTenant {
                    let members = (0..<membersPerGroup).map { ids[(g * 97 + $0 * 31) % ids.count] }
                    let body = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Group \(g) of \(name)\","
                        + "\"members\":[" + members.map { "{\"value\":\"\($0)\"}" }.joined(separator: ",") + "]}"
                    events += try scim.createGroup(try JSONParser.parse(Array(body.utf8)), in: s).events
                }
                _ = try EventLog.append(events, in: tx)
            }
            out.append(Tenant(name: name, linkToken: link.token, directory: directory.id, scimPath: directory.scimPath,
                              scimToken: directory.scimToken))
            if (t + 1) % 200 == 0 || t + 1 == tenants {
                let seconds = Date().timeIntervalSince(start)
                let done = (t + 1) * recordsPerTenant
                note("built \(done) records (\(t + 1) of \(tenants) tenants) in \(Int(seconds)) s: \(Int(Double(done) / max(seconds, 0.001))) records/s")
            }
        }
        return out
    }

    /// The tenants file beside a built replica: one tab-separated line per tenant.
    static func save(_ tenants: [Tenant], to path: String) throws {
        let text = tenants.map { [$0.name, $0.linkToken, $0.directory, $0.scimPath, $0.scimToken].joined(separator: "\t") }.joined(separator: "\n")
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    static func load(from path: String) throws -> [Tenant] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let f = line.split(separator: "\t").map(String.init)
            guard f.count == 5 else { throw BenchError("bad line in \(path): \(line)") }
            return Tenant(name: f[0], linkToken: f[1], directory: f[2], scimPath: f[3], scimToken: f[4])
        }
    }
}

/// Progress and notes on stderr.
func note(_ s: String) { FileHandle.standardError.write(Data("scale-bench: \(s)\n".utf8)) }
