import JSON
import SetupLinks

/// `member list`: the replicas of the replicated system, and what each holds back from purging.
struct MemberList: ConsoleCommand {
    /// `member list`.
    static let configuration = CommandConfiguration(
        "member list", section: .housekeeping,
        summary: "list the replicas that hold state, and the tombstones each keeps from being purged", example: "member list")

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Lists the members: id, last heard of, retired or not, tombstones waiting for it.
    func run(in session: ConsoleSession) throws {
        let members = try session.replica.members()
        if session.json {
            session.emit([("members", .array(members.map { m in
                .object([("id", .string(m.replica.hex)), ("self", .bool(m.isSelf)),
                         ("last_seen", m.lastSeen.map { .string(Format.iso($0)) } ?? .null),
                         ("retired", m.retired.map { .int(Int64($0)) } ?? .null),
                         ("holds_back", .int(Int64(m.holdsBack)))])
            }))])
            return
        }
        var t = TextTable(headers: ["ID", "Last seen", "Holds back", "State"], maxCellWidth: ConsoleSession.maxCellWidth)
        for m in members {
            let state = m.isSelf ? "this replica" : m.retired.map { "retired (writes up to \($0) kept)" } ?? "member"
            let seen = m.isSelf ? "-" : m.lastSeen.map(Format.date) ?? "never"
            t.append([m.replica.hex, seen, m.isSelf || m.retired != nil ? "-" : "\(m.holdsBack) tombstone\(m.holdsBack == 1 ? "" : "s")", state])
        }
        session.say(t.render())
        if let worst = members.filter({ !$0.isSelf && $0.retired == nil && $0.holdsBack > 0 }).max(by: { $0.holdsBack < $1.holdsBack }) {
            session.say("A member gone for good keeps tombstones for ever; retire it with: member retire \(worst.replica.hex.prefix(8))")
        }
    }
}
