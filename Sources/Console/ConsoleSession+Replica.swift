import JSON
import Foundation
import PeerSync
import Replica
import SetupLinks

extension ConsoleSession {
    /// `status`: replica, counts, digest, and per peer its last sync and unacknowledged changes.
    func status() throws {
        let counts = try replica.counts()
        let digest = try replica.digest()
        let pending = try outbox.pendingCount()
        let peers = try self.peers.all()
        var peerRows: [(PeerService.Peer, Int)] = []
        for p in peers { peerRows.append((p, try self.peers.unacknowledged(by: p))) }
        if json {
            emit([("replica", .string(replica.id.hex)), ("links", .int(Int64(counts.links))),
                  ("directories", .int(Int64(counts.directories))), ("users", .int(Int64(counts.users))),
                  ("groups", .int(Int64(counts.groups))), ("tombstones", .int(Int64(counts.tombstones))),
                  ("digest", .string(digest)), ("clock", .string(try replica.clock().encoded)),
                  ("events_pending", .int(Int64(pending))),
                  ("peers", .array(peerRows.map { p, n in
                      .object([("name", .string(p.name)), ("url", .string(p.url)),
                               ("last_sync", p.lastSync.map { .string(Format.iso($0)) } ?? .null),
                               ("unacknowledged", .int(Int64(n))),
                               ("last_error", p.lastError.map(JSONValue.string) ?? .null)])
                  }))])
            return
        }
        var lines = renderSection(title: "", rows: [
            ("Replica", replica.id.hex), ("Database", replica.path), ("Links", String(counts.links)),
            ("Directories", String(counts.directories)), ("Users", String(counts.users)), ("Groups", String(counts.groups)),
            ("Tombstones", String(counts.tombstones)), ("Digest", digest),
            ("Webhook events", pending == 0 ? "none pending" : "\(pending) pending (see: directory events ID)"),
        ])
        if peerRows.isEmpty {
            lines += "\nPeers        none (add one with: peer add NAME URL --token T)"
        } else {
            var t = TextTable(headers: ["Peer", "URL", "Last sync", "Unacknowledged", "Last error"], maxCellWidth: Self.maxCellWidth)
            for (p, n) in peerRows {
                t.append([p.name, p.url, p.lastSync.map(Format.date) ?? "never", String(n), p.lastError ?? "-"])
            }
            lines += "\n\n" + t.render()
        }
        say(lines)
    }

    /// One field's conflict as listed: the kept value and the different values that lost.
    struct ConflictRow {
        var kind: String
        var id: String
        var field: String
        var value: String
        var lost: [String]
        var secret: Bool
    }

    /// The conflicts worth showing: a concurrent write of the *same* value is no conflict
    /// (two replicas that created one link with equal values agree on every field but the
    /// random token), and secret fields never show their values.
    ///
    /// SCIM records: a membership's `present` flag is add-wins (an add beside a concurrent
    /// remove keeps the member, by rule, on every replica), so its concurrent values are not
    /// a lost write and are not listed; a user's or group's `key.*` registers mirror their
    /// attribute, so only the attribute is listed, by its SCIM name (`emails`, not `a:emails`).
    func conflictRows() throws -> [ConflictRow] {
        var rows: [ConflictRow] = []
        for r in try replica.recordsWithConflicts() {
            for c in r.conflicts {
                guard let field = Self.conflictField(r.kind, c.field) else { continue }
                var lost: [String] = []
                for l in c.losers where l.value != c.winner.value && !lost.contains(l.value) { lost.append(l.value) }
                guard !lost.isEmpty else { continue }
                let secret = Format.isSecretField(c.field)
                rows.append(ConflictRow(kind: r.kind.description, id: r.id, field: field,
                                        value: secret ? Format.masked : c.winner.value,
                                        lost: secret ? lost.map { _ in Format.masked } : lost, secret: secret))
            }
        }
        return rows
    }

    /// The name a conflicting field is listed under, or `nil` when it is not listed (see `conflictRows`).
    static func conflictField(_ kind: RecordKind, _ field: String) -> String? {
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

    /// `conflicts`: concurrent writes of different values, secrets masked.
    func conflicts() throws {
        let rows = try conflictRows()
        if json {
            emit([("conflicts", .array(rows.map { row in
                .object([("kind", .string(row.kind)), ("id", .string(row.id)), ("field", .string(row.field)),
                         ("value", .string(row.value)), ("lost", .array(row.lost.map(JSONValue.string))),
                         ("secret", .bool(row.secret))])
            }))])
            return
        }
        if rows.isEmpty {
            say("No conflicts: no concurrent writes are waiting to be resolved.")
            return
        }
        var t = TextTable(headers: ["Kind", "ID", "Field", "Value (kept)", "Lost"], maxCellWidth: Self.maxCellWidth)
        for row in rows {
            t.append([row.kind, row.id, row.field, Format.displayIfTimestamp(row.value),
                      row.lost.map(Format.displayIfTimestamp).joined(separator: ", ")])
        }
        say(t.render())
        say("The kept value won on every replica; writing the field again clears the conflict.")
    }

    /// The settings `config` knows.
    static let settings = ["default-expiry-days", "external-url"]

    /// `config [KEY [VALUE]]`: this replica's local settings.
    func config(_ c: ParsedCommand) throws {
        guard let key = c.arguments.first else {
            let days = try service.replicaExpiryDays()
            if json {
                emit([("default-expiry-days", .int(Int64(days))), ("external-url", .string(service.externalURL)),
                      ("external-url-source", .string(externalURLSource))])
            } else {
                say(renderSection(title: "", rows: [("default-expiry-days", String(days)),
                                                    ("external-url", "\(service.externalURL) (\(externalURLSource))")]))
            }
            return
        }
        guard Self.settings.contains(key) else {
            let hint = closestMatch(to: key, in: Self.settings).map { " — did you mean \($0)?" } ?? " (settings: \(Self.settings.joined(separator: ", ")))"
            throw ConsoleError.usage("unknown setting \"\(key)\"\(hint)")
        }
        switch key {
        case "default-expiry-days":
            var changed = false
            if c.arguments.count == 2 { changed = try service.setReplicaExpiryDays(try Validation.expiryDays(c.arguments[1])) }
            let days = try service.replicaExpiryDays()
            if json {
                emit([(key, .int(Int64(days)))] + (c.arguments.count == 2 ? [("result", .string(changed ? "set" : "unchanged"))] : []))
            } else {
                say("\(key) = \(days)")
            }
        default:
            try configExternalURL(c)
        }
    }

    /// `config external-url [URL]`: a local setting of this replica (not replicated), used
    /// when neither `--external-url` nor `SETUPLINK_EXTERNAL_URL` is given; `''` removes it.
    private func configExternalURL(_ c: ParsedCommand) throws {
        var note = ""
        var changed = false
        if c.arguments.count == 2 {
            let value = Validation.trimmed(c.arguments[1])
            changed = try service.setStoredExternalURL(value.isEmpty ? nil : value)
            if externalURLSource == "default" || externalURLSource == "config" {
                try service.useExternalURL(value.isEmpty ? SetupLinkService.defaultExternalURL : value)
                externalURLSource = value.isEmpty ? "default" : "config"
            } else {
                note = "stored; this session keeps \(service.externalURL) from \(externalURLSource), which wins over the setting"
            }
        }
        if json {
            var o: [(String, JSONValue)] = [("external-url", .string(service.externalURL)), ("external-url-source", .string(externalURLSource))]
            if c.arguments.count == 2 { o.append(("result", .string(changed ? "set" : "unchanged"))) }
            emit(o)
        } else {
            say("external-url = \(service.externalURL) (\(externalURLSource))" + (note.isEmpty ? "" : "\n" + note))
        }
    }
}
