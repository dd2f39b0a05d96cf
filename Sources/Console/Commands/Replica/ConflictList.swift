import JSON
import Replica
import SetupLinks

/// `conflicts`: concurrent writes of different values that lost, secrets masked.
struct ConflictList: ConsoleCommand {
    /// `conflicts`.
    static let configuration = CommandConfiguration(
        "conflicts", section: .housekeeping, flags: [seen],
        summary: "concurrent writes that lost, with both values and who wrote them; changes a concurrent delete discarded",
        example: "conflicts")
    private static let seen = Flag.toggle("--seen", "mark the changes discarded by concurrent deletes seen (they are then no longer listed)")

    /// One field's conflict as listed: the kept value and the different values that lost.
    struct Row {
        /// The record's kind, as a word.
        var kind: String
        /// The record's id.
        var id: String
        /// The field, by the name a person knows it by.
        var field: String
        /// The value kept on every replica (masked when secret).
        var value: String
        /// The different values that lost (masked when secret).
        var lost: [String]
        /// Whether the field is a secret.
        var secret: Bool
        /// The replica that wrote the kept value.
        var keptBy: ReplicaID
        /// The replicas that wrote the values that lost.
        var lostBy: [ReplicaID]
    }

    private let seen: Bool

    /// Whether `--seen` was typed.
    init(_ input: ParsedCommand) { seen = input[Self.seen] }

    /// Lists the conflicts: kind, id, field, the value kept and those that lost, with who
    /// wrote which; then the changes concurrent deletes discarded, until marked seen.
    func run(in session: ConsoleSession) throws {
        if seen {
            let n = try session.replica.markDiscardedSeen()
            if session.json { session.emit([("result", .string("seen")), ("discarded", .int(Int64(n)))]) } else {
                session.say(n == 0 ? "No discarded changes to mark seen." : "Marked \(Format.count(n, "discarded change")) seen.")
            }
            return
        }
        let rows = try Self.rows(try session.replica.recordsWithConflicts())
        let discarded = try session.replica.discardedChanges()
        let this = session.replica.id
        func who(_ id: ReplicaID) -> String { String(id.hex.prefix(8)) + (id == this ? " (here)" : "") }
        if session.json {
            session.emit([("conflicts", .array(rows.map { row in
                .object([("kind", .string(row.kind)), ("id", .string(row.id)), ("field", .string(row.field)),
                         ("value", .string(row.value)), ("lost", .array(row.lost.map(JSONValue.string))),
                         ("secret", .bool(row.secret)), ("kept_by", .string(row.keptBy.hex)),
                         ("lost_by", .array(row.lostBy.map { .string($0.hex) }))])
            })), ("discarded", .array(discarded.map { e in
                .object(e.change.jsonFields + [("noticed", .string(Format.iso(e.noticed)))])
            }))])
            return
        }
        if rows.isEmpty && discarded.isEmpty {
            session.say("No conflicts: no concurrent writes are waiting to be resolved.")
            return
        }
        if !rows.isEmpty {
            var t = TextTable(headers: ["Kind", "ID", "Field", "Value (kept)", "Written by", "Lost", "Lost written by"],
                              maxCellWidth: ConsoleSession.maxCellWidth)
            for row in rows {
                t.append([row.kind, row.id, row.field, Format.displayIfTimestamp(row.value), who(row.keptBy),
                          row.lost.map(Format.displayIfTimestamp).joined(separator: ", "), row.lostBy.map(who).joined(separator: ", ")])
            }
            session.say(t.render())
            session.say("The kept value won on every replica; writing the field again clears the conflict.")
        }
        if !discarded.isEmpty {
            if !rows.isEmpty { session.say("") }
            session.say("Discarded by a concurrent delete:")
            for e in discarded { session.say("  \(Format.date(e.noticed))  " + e.change.sentence(this: this)) }
            session.say("Delete wins on every replica. Mark these seen with: conflicts --seen")
        }
    }

    /// The conflicts worth showing: a concurrent write of the *same* value is no conflict
    /// (two replicas that created one link with equal values agree on every field but the
    /// random token), and secret fields never show their values.
    ///
    /// SCIM records: a membership's `present` flag is add-wins (an add beside a concurrent
    /// remove keeps the member, by rule, on every replica), so its concurrent values are not
    /// a lost write and are not listed; a user's or group's `key.*` registers mirror their
    /// attribute, so only the attribute is listed, by its SCIM name (`emails`, not `a:emails`).
    static func rows(_ records: [Record]) throws -> [Row] {
        var rows: [Row] = []
        for r in records {
            for c in r.conflicts {
                guard let field = field(r.kind, c.field) else { continue }
                var lost: [String] = []
                var lostBy: [ReplicaID] = []
                for l in c.losers where l.value != c.winner.value && !lost.contains(l.value) {
                    lost.append(l.value)
                    lostBy.append(l.dot.replica)
                }
                guard !lost.isEmpty else { continue }
                let secret = Format.isSecretField(c.field)
                rows.append(Row(kind: r.kind.description, id: r.id, field: field,
                                value: secret ? Format.masked : c.winner.value,
                                lost: secret ? lost.map { _ in Format.masked } : lost, secret: secret,
                                keptBy: c.winner.dot.replica, lostBy: lostBy))
            }
        }
        return rows
    }

    /// The name a conflicting field is listed under, or `nil` when it is not listed (see ``rows(_:)``).
    static func field(_ kind: RecordKind, _ field: String) -> String? {
        switch kind {
        case .membership:
            return field == ScimRecords.presentField ? nil : field
        case .user, .group:
            if field.hasPrefix("key.") { return nil }
            if field.hasPrefix(ScimRecords.attributePrefix) { return String(field.dropFirst(ScimRecords.attributePrefix.count)) }
            if field.hasPrefix(ScimRecords.extensionPrefix) { return String(field.dropFirst(ScimRecords.extensionPrefix.count)) }
            return field
        default:
            return field
        }
    }
}
