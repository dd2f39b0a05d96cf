import JSON
import Replica
import SetupLinks

/// `conflicts`: concurrent writes of different values that lost, secrets masked.
struct ConflictList: ConsoleCommand {
    /// `conflicts`.
    static let configuration = CommandConfiguration(
        "conflicts", section: .housekeeping,
        summary: "concurrent writes that lost, with both values", example: "conflicts")

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
    }

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Lists the conflicts: kind, id, field, the value kept and those that lost.
    func run(in session: ConsoleSession) throws {
        let rows = try Self.rows(try session.replica.recordsWithConflicts())
        if session.json {
            session.emit([("conflicts", .array(rows.map { row in
                .object([("kind", .string(row.kind)), ("id", .string(row.id)), ("field", .string(row.field)),
                         ("value", .string(row.value)), ("lost", .array(row.lost.map(JSONValue.string))),
                         ("secret", .bool(row.secret))])
            }))])
            return
        }
        if rows.isEmpty {
            session.say("No conflicts: no concurrent writes are waiting to be resolved.")
            return
        }
        var t = TextTable(headers: ["Kind", "ID", "Field", "Value (kept)", "Lost"], maxCellWidth: ConsoleSession.maxCellWidth)
        for row in rows {
            t.append([row.kind, row.id, row.field, Format.displayIfTimestamp(row.value),
                      row.lost.map(Format.displayIfTimestamp).joined(separator: ", ")])
        }
        session.say(t.render())
        session.say("The kept value won on every replica; writing the field again clears the conflict.")
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
                for l in c.losers where l.value != c.winner.value && !lost.contains(l.value) { lost.append(l.value) }
                guard !lost.isEmpty else { continue }
                let secret = Format.isSecretField(c.field)
                rows.append(Row(kind: r.kind.description, id: r.id, field: field,
                                value: secret ? Format.masked : c.winner.value,
                                lost: secret ? lost.map { _ in Format.masked } : lost, secret: secret))
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
