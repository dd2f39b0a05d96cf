import JSON

/// What `help` prints, built from the registry: every command once, by section,
/// or one command's usage, flags and example.
enum CommandHelp {
    /// What `help [TOPIC]` prints: text, or one JSON object on one line. Needs no replica,
    /// so `setuplink help link create` works before any replica exists.
    static func text(topic: String?, json: Bool) throws -> String {
        if let topic { return try self.topic(topic, json: json) }
        let all = CommandRegistry.configurations
        if json { return list(all) }
        var lines: [String] = []
        let width = all.map(\.name.count).max() ?? 0
        for section in HelpSection.allCases {
            let listed = all.filter { $0.section == section }
            guard !listed.isEmpty else { continue }
            lines.append(section.title + ":")
            for c in listed {
                lines.append("  " + c.name + String(repeating: " ", count: width - c.name.count + 2) + c.summary)
            }
            lines.append("")
        }
        lines.append("IDs may be abbreviated to any unique prefix; TAB completes commands, flags, ids and peer names.")
        lines.append("help COMMAND shows a command's flags and an example, e.g. help link create")
        return lines.joined(separator: "\n")
    }

    /// `{"commands":[{"usage":…,"summary":…},…]}`.
    private static func list(_ configurations: [CommandConfiguration]) -> String {
        Format.jsonLine([("commands", .array(configurations.map {
            .object([("usage", .string($0.usage)), ("summary", .string($0.summary))])
        }))])
    }

    /// The commands of the shell's command line that are not REPL commands: usage, summary, flags, example.
    static let commandLineTopics: [(name: String, usage: String, summary: String, flags: [(String, String)], example: String)] = [
        ("serve", "setuplink [--db PATH] serve [--port 8080] [--bind ADDR] [--token-file FILE] [--tls-cert PEM --tls-key PEM [--tls-priority S]] [--webhook-batch N] [--external-url URL]",
         "serve this replica (from the shell, not the REPL): the peer protocol, every directory's SCIM service, the setup page and the app API on one port, and the webhook sender",
         [("--port N", "the port (default 8080; 0 picks a free one)"),
          ("--bind ADDR", "the address to listen on (default 127.0.0.1; 0.0.0.0 for every address)"),
          ("--token-file FILE", "the peer token, one line (else SETUPLINK_TOKEN, else the token stored with the replica)"),
          ("--tls-cert PEM --tls-key PEM", "serve HTTPS with this certificate and private key"),
          ("--tls-priority S", "the GnuTLS priority string (default: TLS 1.3 and 1.2, forward-secret AEAD suites only)"),
          ("--webhook-batch N", "send webhook events in JSON arrays of up to N (1 to 1000; default one event per request)"),
          ("--external-url URL", "the address tenants and identity providers reach (default: the address served); checked at start"),
          ("--json", "print the start-up banner as one JSON object")],
         "setuplink --db hub.sqlite serve --bind 0.0.0.0 --port 8443 --token-file peer.token --external-url https://hub.example.com:8443"),
        ("serve token", "setuplink [--db PATH] serve token show|rotate",
         "print the peer token stored with the replica, or replace it (a running serve uses the new one within a second)", [],
         "setuplink --db hub.sqlite serve token rotate"),
        ("clone", "setuplink --db NEW clone URL [--token-file F] [--cacert PEM] [--name PEER]",
         "make a new replica file from a hub's snapshot, then sync with the hub (from the shell, not the REPL): for a new replica of a big hub, faster than a first sync and in a third of its memory; the hub's indexes are checked against its records, never taken on its word; cut off, it leaves no replica",
         [("--token-file F", "the hub's peer token, one line (else SETUPLINK_TOKEN); a read-only token may clone"),
          ("--cacert PEM", "the CA of an https:// hub with a private certificate"),
          ("--name PEER", "the name the hub gets as a peer (default: the URL's host)"),
          ("--json", "print the report as one JSON object (phases' seconds, bytes, \"indexes\": checked or rebuilt)")],
         "setuplink --db laptop.sqlite clone https://hub.example.com:8443 --token-file hub.token --name hub"),
        ("backup", "setuplink [--db FILE] backup COPY",
         "write a consistent copy of this replica to the new file COPY, made a new replica (a new id, no peers, tokens or pending events; settings kept, secrets not), while the replica keeps serving", [],
         "setuplink --db hub.sqlite backup /backups/hub-2026-12-06.sqlite"),
        ("init", "setuplink --db PATH init",
         "create a replica file (one-shot commands that only read refuse a file that does not exist)", [],
         "setuplink --db laptop.sqlite init"),
        ("repl", "setuplink [--db PATH] [--json] [repl]",
         "the REPL on the replica (the default with no command; lines may be piped in)", [],
         "setuplink --db laptop.sqlite < Samples/admin.repl"),
    ]

    /// One command's help; a first word alone (`help link`) lists its commands' usage lines.
    private static func topic(_ topic: String, json: Bool) throws -> String {
        let words = topic.split(separator: " ").map(String.init)
        if let t = commandLineTopics.first(where: { $0.name == words.joined(separator: " ") }) {
            if json {
                return Format.jsonLine([("command", .string(t.name)), ("usage", .string(t.usage)), ("summary", .string(t.summary)),
                                        ("flags", .array(t.flags.map { .object([("name", .string($0.0)), ("help", .string($0.1)),
                                                                                ("required", .bool(false))]) })),
                                        ("example", .string(t.example))])
            }
            var lines = ["usage: \(t.usage)", "", t.summary]
            if !t.flags.isEmpty {
                lines.append("")
                let width = t.flags.map(\.0.count).max() ?? 0
                for (f, h) in t.flags { lines.append("  " + f + String(repeating: " ", count: width - f.count + 2) + h) }
            }
            lines += ["", "example: \(t.example)"]
            return lines.joined(separator: "\n")
        }
        let all = CommandRegistry.configurations
        guard let c = all.first(where: { $0.name == topic }) ?? CommandRegistry.lookup(words)?.configuration else {
            let group = all.filter { $0.words[0] == topic }
            if !group.isEmpty {
                if json { return list(group) }
                return group.map { "  \($0.usage)" }.joined(separator: "\n")
            }
            let names = Array(Set(CommandRegistry.names + CommandRegistry.firstWords + commandLineTopics.map(\.name)))
            let hint = closestMatch(to: topic, in: names).map { " — did you mean \"\($0)\"?" } ?? ""
            throw ConsoleError.usage("no help for \"\(topic)\"\(hint)")
        }
        if json {
            return Format.jsonLine([
                ("command", .string(c.name)), ("usage", .string(c.usage)), ("summary", .string(c.summary)),
                ("flags", .array(c.flags.map {
                    .object([("name", .string($0.name)), ("help", .string($0.help)), ("required", .bool($0.required))])
                })),
                ("example", .string(c.example)),
            ])
        }
        var lines = ["usage: \(c.usage)", "", c.summary]
        if !c.flags.isEmpty {
            lines.append("")
            let width = c.flags.map(\.usage.count).max() ?? 0
            for f in c.flags {
                lines.append("  " + f.usage + String(repeating: " ", count: width - f.usage.count + 2) + f.help
                             + (f.required ? " (required)" : ""))
            }
        }
        lines += ["", "example: \(c.example)"]
        return lines.joined(separator: "\n")
    }
}
