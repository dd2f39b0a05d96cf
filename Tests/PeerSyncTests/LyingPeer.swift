import Foundation
import HTTP
import JSON
import Replica
import Storage
@testable import PeerSync

/// A real replica served through a fake peer that lies in what it answers: it claims
/// that `victim` made `claim` writes (in its summary clock, its pull answers' clock and
/// coverage, and the clock of every record it sends). Everything else is the real
/// server's answer, so a client syncs with it as with any peer (the fake-peer attack:
/// a laptop pointed at a plain-HTTP address that is not its hub).
final class LyingPeer: @unchecked Sendable {
    // @unchecked Sendable: `routes` and the immutable settings are only read.
    /// The replica behind the lies.
    let store: ReplicaStore
    private let routes: SyncRoutes
    private let victim: ReplicaID
    private let claim: UInt64
    private var fake: FakePeer!

    /// Serves `store` (a fresh replica unless given), lying about `victim`.
    init(_ store: ReplicaStore? = nil, lyingAbout victim: ReplicaID, claim: UInt64 = PeerInput.maxCounter) throws {
        self.store = try store ?? temporaryReplica()
        routes = SyncRoutes(store: self.store, token: testToken)
        self.victim = victim
        self.claim = claim
        fake = try FakePeer { [self] method, path, body in answer(method, path, body) }
    }

    /// The peer's base URL.
    var url: String { fake.url }

    private func answer(_ method: String, _ path: String, _ body: [UInt8]) -> (Int, String, [UInt8]) {
        let accept = path == "/sync/v1/pull" ? "\(BinaryPage.mediaType), application/json;q=0.5" : "application/json"
        // The fake peer is not told the request's headers: a push is binary when it starts with the page magic.
        let binary = body.starts(with: Array("SLPG".utf8))
        let head = HTTPHead(method: method, path: path, headers: [("Authorization", "Bearer \(testToken)"), ("Accept", accept),
                                                                    ("Content-Type", binary ? BinaryPage.mediaType : "application/json")])
        let response: HTTPResponse
        switch routes.admit(head) {
        case .reject(let r): response = r
        case .accept: response = routes.respond(HTTPRequest(head: head, body: body))
        }
        let type = response.header("Content-Type") ?? "application/json"
        guard response.status == 200 else { return (response.status, type, response.body) }
        switch path {
        case "/sync/v1/summary":
            guard var v = try? JSONParser.parse(response.body), case .object(var members) = v,
                  let i = members.firstIndex(where: { $0.0 == "clock" }), let clock = try? WireFormat.clock(members[i].1, "clock") else {
                return (response.status, type, response.body)
            }
            var w = JSONWriter(capacity: 256)
            WireFormat.writeClock(inflated(clock), into: &w)
            members[i].1 = (try? JSONParser.parse(w.bytes)) ?? members[i].1
            v = .object(members)
            return (200, "application/json", JSONWriter.write(v))
        case "/sync/v1/pull":
            guard var m = try? BinaryPage.decode(response.body) else { return (response.status, type, response.body) }
            m.clock = m.clock.map(inflated)
            m.page.coverage = inflated(m.page.coverage)
            m.page.records = m.page.records.map { r in
                guard let d = try? r.decoded() else { return r }
                return EncodedRecord(Record(id: d.id, kind: d.kind, fields: d.fields, deleted: d.deletedRegister, clock: inflated(d.clock)))
            }
            return (200, BinaryPage.mediaType, BinaryPage.encode(m))
        default:
            return (response.status, type, response.body)
        }
    }

    private func inflated(_ c: VectorClock) -> VectorClock {
        var out = c
        out[victim] = claim
        return out
    }
}
