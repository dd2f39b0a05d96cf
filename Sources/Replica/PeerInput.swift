import Foundation

/// Why a peer's page, clock or record was refused before anything was stored:
/// the field at fault and what is wrong with it.
public struct PeerInputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path of the field, e.g. `page.records[3].clock`.
    public var field: String
    /// What is wrong, e.g. `claims 1000 writes of this replica, which has made 5`.
    public var reason: String
    /// When the refusal is a claim about a replica's writes that is a lie (about
    /// the receiver itself, or a known lie after a correction): whose writes, and
    /// the counter claimed. The protocol answers it with a correction instead
    /// of a dead end (Replica.docc/Corrections.md).
    public var lie: ClaimedCounter?

    /// Creates an error about `field`.
    public init(field: String, reason: String, lie: ClaimedCounter? = nil) {
        self.field = field
        self.reason = reason
        self.lie = lie
    }

    /// `page.records[3].clock: …`.
    public var description: String { "\(field): \(reason)" }
}

/// A counter claimed of a replica's writes.
public struct ClaimedCounter: Equatable, Sendable {
    /// Whose writes.
    public var replica: ReplicaID
    /// How many were claimed.
    public var counter: UInt64

    /// A claim.
    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }
}

/// The checks every replica makes on what a peer sends, before storing it
/// (Contract.md §2: a peer's input never poisons the others). Pure: the receiver's
/// state comes in as values, so the server (pushes, pull clocks) and the
/// client (pull answers) apply the same rules whatever the encoding.
///
/// What can be checked, and why these rules are sound (an honest peer never
/// trips them):
/// - **Counters** are at most `maxCounter` (2^53 − 1). A replica takes one
///   counter per local transaction, so an honest counter never comes near it
///   (a million writes a second for 285 years), every later `+ 1` stays far
///   from overflow, and it is exact in JSON readers that use doubles.
/// - **Clock sizes** are at most `maxClockEntries` (4,096 replicas). A clock
///   has one entry per replica that ever wrote; the bound keeps what a pull
///   records per client, and every page, small.
/// - **Timestamps** are at most `maxSkew` (5 minutes, the tolerance Kerberos
///   uses) ahead of the receiver's wall clock. A timestamp from the future
///   would beat every concurrent write until then and, since a merge raises
///   the local HLC to the largest timestamp seen, drag the receiver's own
///   writes into the future with it; an honest peer is ahead only by its
///   clock's error. A peer whose clock is further ahead is told so.
/// - **Only a replica knows its own counter.** No clock may claim writes of
///   the receiver beyond the receiver's counter, nor writes of the sender
///   beyond the sender's counter as it declares it in the same message. Such
///   a claim would cover that replica's future writes: a record whose clock
///   claims them ignores them forever (the frozen-token attack), and a page
///   coverage claiming them makes the receiver never ask for them. Claims
///   about a third replica cannot be refuted by anyone but that replica: they
///   are bounded by `maxCounter`, and refused by that replica when they reach it,
///   with a `Correction` that then travels; a receiver holding a correction
///   refuses the claims it refutes (`corrections`) the same way. Such
///   refusals carry the claim (`PeerInputError.lie`): the protocol answers
///   them with the correction, and the peer drops the lie, instead of a dead end.
/// - **Every record is covered**: it holds a dot inside the range its page
///   covers (`base[o] < counter <= coverage[o]` for some replica `o`), which
///   is how `cutPage` chooses records. A record the page does not cover would
///   be stored without the receiver's clock ever covering it, and so never
///   passed on.
/// - **Ids are unique in a page**: two states of one record in one page mean
///   the page was not cut from one snapshot.
///
/// A record clock's entries beyond the dots it holds are legitimate (a
/// record absorbed a write that a later one overwrote), so "claims dots its
/// versions do not carry" is refuted only where a replica's own counter is
/// known, as above; the encoding itself guarantees every dot held is covered.
public struct PeerInput: Sendable {
    /// The largest counter accepted in any clock or dot.
    public static let maxCounter: UInt64 = 1 << 53 - 1
    /// The most entries accepted in any clock.
    public static let maxClockEntries = 4096
    /// How far ahead of the receiver's wall clock a timestamp may be, in milliseconds.
    public static let maxSkew: UInt64 = 5 * 60 * 1000

    /// The receiving replica.
    public var receiver: ReplicaID
    /// The receiver's own counter (its last local transaction).
    public var receiverCounter: UInt64
    /// The receiver's wall clock, in milliseconds since 1970.
    public var now: UInt64
    /// The sending replica, when it said who it is.
    public var sender: ReplicaID?
    /// The sender's own counter, as the sender declared it (its clock's own entry).
    public var senderCounter: UInt64?
    /// What the receiver knows of lies told about third replicas: a claim that
    /// one of them refutes is refused like a lie about the receiver itself.
    public var corrections = Corrections()

    /// The checks of one message received by `receiver`.
    public init(receiver: ReplicaID, receiverCounter: UInt64, now: UInt64, sender: ReplicaID? = nil, senderCounter: UInt64? = nil,
                corrections: Corrections = Corrections()) {
        self.receiver = receiver
        self.receiverCounter = receiverCounter
        self.now = now
        self.sender = sender
        self.senderCounter = senderCounter
        self.corrections = corrections
    }

    /// Checks a clock's size and counters alone (no receiver needed): what a
    /// decoder can refuse before building anything else.
    public static func checkShape(_ clock: VectorClock, field: @autoclosure () -> String) throws(PeerInputError) {
        guard clock.entries.count <= maxClockEntries else {
            throw PeerInputError(field: field(), reason: "has \(clock.entries.count) entries, more than the \(maxClockEntries) accepted")
        }
        for e in clock.entries where e.counter > maxCounter {
            throw PeerInputError(field: "\(field()).\(e.replica.hex)", reason: "counter \(e.counter) is above the largest accepted, \(maxCounter)")
        }
    }

    /// Checks any clock a peer sends: its shape, and that it claims no writes of
    /// the receiver or of the sender beyond their counters.
    public func check(clock: VectorClock, field: @autoclosure () -> String) throws(PeerInputError) {
        try Self.checkShape(clock, field: field())
        let mine = clock[receiver]
        if mine > receiverCounter {
            throw PeerInputError(field: "\(field()).\(receiver.hex)",
                                 reason: "claims \(mine) writes of this replica, which has made \(receiverCounter)",
                                 lie: ClaimedCounter(replica: receiver, counter: mine))
        }
        if let e = corrections.firstLie(in: clock) {
            let c = corrections[e.replica]!
            throw PeerInputError(field: "\(field()).\(e.replica.hex)",
                                 reason: "claims \(e.counter) writes of replica \(e.replica.hex), which said it had made \(c.made) "
                                    + "and that claims of \(c.lie) or more are false",
                                 lie: ClaimedCounter(replica: e.replica, counter: e.counter))
        }
        if let sender, let senderCounter, sender != receiver {
            let theirs = clock[sender]
            if theirs > senderCounter {
                throw PeerInputError(field: "\(field()).\(sender.hex)",
                                     reason: "claims \(theirs) writes of the sending replica, which says it has made \(senderCounter)")
            }
        }
    }

    /// Checks a page's own clocks and that its ids are unique (the records are checked one by one with `check(record:…)`).
    public func check(page: ChangePage, field: String = "page") throws(PeerInputError) {
        try check(clock: page.base, field: "\(field).base")
        try check(clock: page.coverage, field: "\(field).coverage")
        if let p = page.partial {
            try check(clock: VectorClock([(p.replica, p.counter)]), field: "\(field).partial")
            guard p.counter > page.coverage[p.replica], p.records <= page.records.count else {
                throw PeerInputError(field: "\(field).partial", reason: "the change it ends inside is already covered, or longer than the page")
            }
        }
        var seen = Set<String>(minimumCapacity: page.records.count)
        for (i, r) in page.records.enumerated() where !seen.insert(r.id).inserted {
            throw PeerInputError(field: "\(field).records[\(i)].id", reason: "duplicate id \(r.id) in one page")
        }
    }

    /// Checks one record of `page`, given the facts read from its encoding.
    public func check(record facts: RecordFacts, of page: ChangePage, at index: Int, field: String = "page") throws(PeerInputError) {
        // Named only when refused: building the name for every record cost more than the checks.
        func f() -> String { "\(field).records[\(index)]" }
        try check(clock: facts.clock, field: "\(f()).clock")
        let ms = facts.maxHLC.milliseconds
        if ms > now &+ Self.maxSkew {
            throw PeerInputError(field: f(), reason: "a timestamp is \(Self.describe(ms - now)) ahead of this replica's clock "
                                 + "(at most \(Self.describe(Self.maxSkew)) is accepted); check the clock of the replica that wrote it")
        }
        let partial = page.partial.flatMap { index >= page.records.count - $0.records ? $0.dot : nil }
        let covered = facts.dots.contains { d in
            (d.counter > page.base[d.replica] && d.counter <= page.coverage[d.replica]) || d == partial
        }
        if !covered {
            throw PeerInputError(field: f(), reason: "holds no change inside what the page covers (base to coverage), "
                                 + "so it would be stored but never passed on")
        }
    }

    /// A duration in milliseconds as a person reads it.
    static func describe(_ ms: UInt64) -> String {
        if ms >= 2 * 86_400_000 { return "\(ms / 86_400_000) days" }
        if ms >= 2 * 3_600_000 { return "\(ms / 3_600_000) hours" }
        if ms >= 120_000 { return "\(ms / 60_000) minutes" }
        return "\(ms / 1000) seconds"
    }
}
