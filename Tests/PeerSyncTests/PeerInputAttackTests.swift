import Foundation
import JSON
import Replica
import Storage
import Testing
import HTTP
import TestSupport
@testable import PeerSync

/// A request with a body of any type, as raw HTTP/1.1.
private func request(_ path: String, _ body: [UInt8], type: String = "application/json", accept: String? = nil) -> [UInt8] {
    var head = "POST \(path) HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(testToken)\r\n"
    head += "Content-Type: \(type)\r\nContent-Length: \(body.count)\r\n"
    if let accept { head += "Accept: \(accept)\r\n" }
    return Array((head + "\r\n").utf8) + body
}

/// The hub of each attack: a served replica that wrote one link (its counter is 1).
private func hub() throws -> ServedReplica {
    let served = try ServedReplica()
    try writeLink(served.store, "link-1", ["tenant": "acme", "product": "crm", "token": "tok"])
    return served
}

/// The attacker's replica id.
private let attacker = ReplicaID(high: 0xBAD, low: 0xBAD)

/// A record written by `writer` at `counter`, with `hlc`, and a clock that may claim more.
private func forged(_ id: String, writer: ReplicaID = attacker, counter: UInt64 = 1, hlc: UInt64 = HLC.wallMilliseconds() << 16,
                    clock extra: [(ReplicaID, UInt64)] = []) -> Record {
    var r = Record(id: id, kind: .link)
    r.write(["token": "forged-\(id)"], dot: Dot(replica: writer, counter: counter), hlc: HLC(rawValue: hlc))
    return Record(id: id, kind: .link, fields: r.fields, deleted: r.deletedRegister,
                  clock: r.clock.merged(with: VectorClock(extra)))
}

/// A push body in `encoding`.
private func push(_ page: ChangePage, _ encoding: PageEncoding, clock: VectorClock? = nil) throws -> [UInt8] {
    let m = PageMessage(sender: attacker, clock: clock ?? page.coverage, purgeFloor: nil, page: page)
    return encoding == .binary ? BinaryPage.encode(m) : try WireFormat.encode(m)
}

/// Sends an attack to a real server and checks what every attack must leave behind:
/// the expected status and message, the server alive, the digest unchanged, and a
/// real sync working afterwards.
private func expectSurvives(_ served: ServedReplica, _ bytes: [UInt8], status: Int, message: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
    let before = try served.store.digest()
    let client = try RawClient(port: served.port)
    client.send(bytes)
    let response = try #require(client.readResponse(timeout: .seconds(20)), sourceLocation: sourceLocation)
    #expect(response.status == status, "\(response.body)", sourceLocation: sourceLocation)
    #expect(response.body.contains(message), "error was \(response.body)", sourceLocation: sourceLocation)
    #expect(try served.store.digest() == before, "the replica changed", sourceLocation: sourceLocation)
    let laptop = try temporaryReplica()
    try writeLink(laptop, "after-attack", ["token": "fine"])
    try sync(laptop, with: served)
    #expect(try laptop.digest() == served.store.digest(), "a real sync works afterwards", sourceLocation: sourceLocation)
}

/// Each "with a token" attack of issue 8, sent to a real server, in both encodings.
@Suite struct ServerAttackTests {
    @Test func aPageNested120000DeepGets400() throws {
        let served = try hub()
        let body = Array("{\"replica\":\"\(attacker.hex)\",\"page\":".utf8) + Array(repeating: UInt8(ascii: "["), count: 120_000)
            + Array(repeating: UInt8(ascii: "]"), count: 120_000) + [UInt8(ascii: "}")]
        try expectSurvives(served, request("/sync/v1/push", body), status: 400, message: "nesting deeper than")
        let pull = Array("{\"replica\":\"\(attacker.hex)\",\"clock\":".utf8) + Array(repeating: UInt8(ascii: "["), count: 120_000)
        try expectSurvives(served, request("/sync/v1/pull", pull), status: 400, message: "nesting deeper than")
    }

    @Test(arguments: PageEncoding.allCases)
    func aTimestampFromTheFarFutureGets422(encoding: PageEncoding) throws {
        let served = try hub()
        let page = ChangePage(records: [forged("future", hlc: UInt64(Int64.max))], coverage: vc([(attacker, 1)]),
                              more: false, base: VectorClock())
        try expectSurvives(served, request("/sync/v1/push", try push(page, encoding), type: encoding.mediaType),
                           status: 422, message: "ahead of this replica's clock")
        // Within the skew is fine: a clock a minute fast.
        let soon = ChangePage(records: [forged("soon", hlc: (HLC.wallMilliseconds() + 60_000) << 16)],
                              coverage: vc([(attacker, 1)]), more: false, base: VectorClock())
        let client = try RawClient(port: served.port)
        client.send(request("/sync/v1/push", try push(soon, encoding), type: encoding.mediaType))
        #expect(client.readResponse()?.status == 200)
        // The local HLC was not dragged beyond what was accepted.
        try writeLink(served.store, "later", ["token": "x"])
        let h = try #require(try served.store.record(id: "later")?.maxHLC)
        #expect(h.milliseconds <= HLC.wallMilliseconds() + PeerInput.maxSkew)
    }

    @Test(arguments: PageEncoding.allCases)
    func aCounterNearOverflowGets400(encoding: PageEncoding) throws {
        let served = try hub()
        let page = ChangePage(records: [forged("big")], coverage: vc([(attacker, 1), (served.store.replicaID, UInt64(Int64.max))]),
                              more: false, base: VectorClock())
        try expectSurvives(served, request("/sync/v1/push", try push(page, encoding, clock: vc([(attacker, 1)])), type: encoding.mediaType),
                           status: 400, message: "above the largest accepted")
        let pull = Array("{\"replica\":\"\(attacker.hex)\",\"clock\":{\"\(attacker.hex)\":9223372036854775807}}".utf8)
        try expectSurvives(served, request("/sync/v1/pull", pull, accept: encoding.mediaType), status: 400, message: "above the largest accepted")
        // The next local write works.
        try writeLink(served.store, "next", ["token": "y"])
    }

    @Test(arguments: PageEncoding.allCases)
    func aRecordClockClaimingTheHubsFutureWritesGetsACorrection(encoding: PageEncoding) throws {
        let served = try hub()
        let me = served.store.replicaID
        // The frozen-token attack: a clock claiming 1,000 writes of a hub that has made 1. Refused
        // with 409 and the hub's correction (what it made; the smallest claim it refutes).
        let page = ChangePage(records: [forged("link-1", clock: [(me, 1000)])], coverage: vc([(attacker, 1)]),
                              more: false, base: VectorClock())
        try expectSurvives(served, request("/sync/v1/push", try push(page, encoding), type: encoding.mediaType),
                           status: 409, message: "claims 1000 writes of this replica, which has made 1")
        try expectSurvives(served, request("/sync/v1/push", try push(page, encoding), type: encoding.mediaType),
                           status: 409, message: "\"corrections\":{\"\(me.hex)\":[")
        // The same claim in a coverage, and in a pull's clock.
        let cover = ChangePage(records: [forged("x")], coverage: vc([(attacker, 1), (me, 50)]), more: false, base: VectorClock())
        try expectSurvives(served, request("/sync/v1/push", try push(cover, encoding, clock: vc([(attacker, 1)])), type: encoding.mediaType),
                           status: 409, message: "claims 50 writes of this replica")
        let pull = Array("{\"replica\":\"\(attacker.hex)\",\"clock\":{\"\(me.hex)\":7}}".utf8)
        try expectSurvives(served, request("/sync/v1/pull", pull, accept: encoding.mediaType), status: 409, message: "claims 7 writes of this replica")
        // Later regenerates still reach a laptop.
        let laptop = try temporaryReplica()
        try sync(laptop, with: served)
        try writeLink(served.store, "link-1", ["token": "regenerated"])
        try sync(laptop, with: served)
        #expect(try laptop.record(id: "link-1")?["token"] == "regenerated")
    }

    @Test(arguments: PageEncoding.allCases)
    func aPushWithoutCoverageGets422(encoding: PageEncoding) throws {
        let served = try hub()
        let page = ChangePage(records: [forged("uncovered")], coverage: VectorClock(), more: false, base: VectorClock())
        try expectSurvives(served, request("/sync/v1/push", try push(page, encoding, clock: vc([(attacker, 1)])), type: encoding.mediaType),
                           status: 422, message: "holds no change inside what the page covers")
        #expect(try served.store.record(id: "uncovered") == nil)
    }

    @Test(arguments: PageEncoding.allCases)
    func duplicateIDsInAPageGet422(encoding: PageEncoding) throws {
        let served = try hub()
        let page = ChangePage(records: [forged("twice", counter: 1), forged("twice", counter: 2)],
                              coverage: vc([(attacker, 2)]), more: false, base: VectorClock())
        try expectSurvives(served, request("/sync/v1/push", try push(page, encoding), type: encoding.mediaType),
                           status: 422, message: "duplicate id twice")
    }

    @Test func pullsWithHugeClocksGet400AndStoreNothing() throws {
        let served = try hub()
        var clock = "{"
        for i in 0..<300_000 { clock += (i == 0 ? "" : ",") + "\"\(ReplicaID(high: 1, low: UInt64(i)).hex)\":1" }
        clock += "}"
        let body = Array("{\"replica\":\"\(attacker.hex)\",\"clock\":\(clock)}".utf8)
        let size = { () -> Int in
            let fm = FileManager.default
            return [served.store.path, served.store.path + "-wal"].reduce(0) { $0 + ((try? fm.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        }
        let before = size()
        for _ in 0..<4 {
            try expectSurvives(served, request("/sync/v1/pull", body), status: 400, message: "more than the 4096 accepted")
        }
        // The syncs after each attack write a little; the attack itself stored nothing.
        #expect(size() - before < 1_000_000)
    }
}

/// The same attacks from a fake peer answering a real client: a one-line error, nothing stored.
@Suite struct ClientAttackTests {
    static let peer = ReplicaID(high: 0xFA4E, low: 1)

    /// A fake peer whose summary is honest-looking and whose pull answer is `pull`.
    static func fake(_ pull: @escaping @Sendable () -> (String, [UInt8])) throws -> FakePeer {
        try FakePeer { method, path, _ in
            switch path {
            case "/sync/v1/summary":
                return (200, "application/json", Array("{\"replica\":\"\(peer.hex)\",\"clock\":{\"\(peer.hex)\":1}}".utf8))
            case "/sync/v1/pull":
                let (type, body) = pull()
                return (200, type, body)
            default:
                return (200, "application/json", Array("{\"clock\":{}}".utf8))
            }
        }
    }

    static func answer(_ page: ChangePage, _ encoding: PageEncoding, clock: VectorClock = vc([(peer, 1)])) throws -> (String, [UInt8]) {
        let m = PageMessage(sender: peer, clock: clock, purgeFloor: nil, page: page)
        return (encoding.mediaType, encoding == .binary ? BinaryPage.encode(m) : try WireFormat.encode(m))
    }

    /// Syncs `laptop` with the fake; expects a one-line error containing `message` and no change,
    /// then a real sync with a real hub.
    static func expectRefused(_ laptop: ReplicaStore, _ fake: FakePeer, message: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try laptop.digest()
        do {
            _ = try SyncClient().sync(store: laptop, url: fake.url, token: testToken)
            Issue.record("the sync accepted the answer", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.contains(message), "\(error.description)", sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        }
        #expect(try laptop.digest() == before, sourceLocation: sourceLocation)
        let real = try hub()
        try sync(laptop, with: real)
        #expect(try laptop.digest() == real.store.digest(), sourceLocation: sourceLocation)
    }

    @Test func aPullAnswerNested200000DeepIsAOneLineError() throws {
        let laptop = try temporaryReplica()
        let fake = try Self.fake {
            ("application/json", Array(repeating: UInt8(ascii: "["), count: 200_000) + Array(repeating: UInt8(ascii: "]"), count: 200_000))
        }
        try Self.expectRefused(laptop, fake, message: "nesting deeper than")
    }

    @Test(arguments: PageEncoding.allCases)
    func forgedPullAnswersAreRefused(encoding: PageEncoding) throws {
        let laptop = try temporaryReplica()
        try writeLink(laptop, "mine", ["token": "t"])
        let me = laptop.replicaID
        let p = Self.peer
        let cases: [(ChangePage, VectorClock, String)] = [
            (ChangePage(records: [forged("f", writer: p, hlc: UInt64(Int64.max))], coverage: vc([(p, 1)]), more: false, base: VectorClock()),
             vc([(p, 1)]), "ahead of this replica's clock"),
            (ChangePage(records: [forged("mine", writer: p, clock: [(me, 1 << 40)])], coverage: vc([(p, 1)]), more: false, base: VectorClock()),
             vc([(p, 1)]), "writes of this replica, which has made "),  // 1, or more after the member records of a real sync
            (ChangePage(records: [forged("f", writer: p, clock: [(p, 500)])], coverage: vc([(p, 1)]), more: false, base: VectorClock()),
             vc([(p, 1)]), "writes of the sending replica, which says it has made 1"),
            (ChangePage(records: [forged("f", writer: p)], coverage: VectorClock(), more: false, base: VectorClock()),
             vc([(p, 1)]), "holds no change inside what the page covers"),
            (ChangePage(records: [forged("f", writer: p), forged("f", writer: p)], coverage: vc([(p, 1)]), more: false, base: VectorClock()),
             vc([(p, 1)]), "duplicate id f"),
            (ChangePage(records: [EncodedRecord](), coverage: vc([(p, 1)]), more: false, base: VectorClock()),
             vc([(p, 1), (me, UInt64(Int64.max))]), "above the largest accepted"),
        ]
        for (page, clock, message) in cases {
            let answer = try Self.answer(page, encoding, clock: clock)
            try Self.expectRefused(laptop, try Self.fake { answer }, message: message)
        }
    }
}

/// A clock from pairs (typed, so integer literals are counters).
private func vc(_ pairs: [(ReplicaID, UInt64)]) -> VectorClock { VectorClock(pairs) }
