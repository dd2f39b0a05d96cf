import Foundation
import Hub
import JSON
import Storage

/// `setuplink serve peer-token create NAME [--read-only] | list | revoke NAME`: the
/// credentials other replicas sync with this hub by (Hub.docc/Serve.md, "Peer tokens").
enum PeerTokenCommand {
    static let usage = "usage: setuplink serve peer-token create NAME [--read-only] | list | revoke NAME"

    static func run(options: SetupLinkCLI.Options, arguments: [String]) -> Int32 {
        var options = options
        var words: [String] = []
        var readOnly = false
        var args = arguments[...]
        while let a = args.popFirst() {
            if let problem = SetupLinkCLI.takeGlobal(a, &args, &options) {
                if !problem.isEmpty { return SetupLinkCLI.usageError(problem) }
            } else if a == "--read-only" {
                readOnly = true
            } else if a.hasPrefix("-") {
                let hint = closestMatch(to: a, in: ["--read-only", "--db"]).map { " — did you mean \($0)?" } ?? ""
                return SetupLinkCLI.usageError("unknown flag \(a) for serve peer-token\(hint); \(usage)")
            } else {
                words.append(a)
            }
        }
        guard let action = words.first else { return SetupLinkCLI.usageError("serve peer-token needs create, list or revoke; \(usage)") }
        switch (action, words.count) {
        case ("create", 2), ("revoke", 2):
            let name = words[1]
            guard PeerCredentials.validPeerName(name) else {
                return SetupLinkCLI.usageError("peer token name \"\(name)\" must be 1-64 letters, digits, '-', '_' or '.'")
            }
            if action == "create" && name == PeerTokenStore.defaultName {
                return SetupLinkCLI.usageError("\"default\" names the serve token (serve token show|rotate); give the peer its own name")
            }
        case ("list", 1): break
        case ("create", _), ("revoke", _): return SetupLinkCLI.usageError("serve peer-token \(action) needs one NAME; \(usage)")
        case ("list", _): return SetupLinkCLI.usageError("serve peer-token list takes no arguments")
        default:
            let hint = closestMatch(to: action, in: ["create", "list", "revoke"]).map { " — did you mean \($0)?" } ?? ""
            return SetupLinkCLI.usageError("unknown action \(action) for serve peer-token\(hint); \(usage)")
        }
        if readOnly && action != "create" { return SetupLinkCLI.usageError("--read-only goes with serve peer-token create") }
        // Listing and revoking read an existing replica: a mistyped --db is refused, not created.
        if action != "create", !FileManager.default.fileExists(atPath: options.db) {
            SetupLinkCLI.commandLineError(SetupLinkCLI.noReplica(options.db))
            return 1
        }
        guard let service = SetupLinkCLI.openService(options) else { return 1 }
        let store = service.store
        defer { store.close() }
        func emit(_ o: [(String, JSONValue)]) { REPL.writeLine(String(decoding: JSONWriter.write(.object(o)), as: UTF8.self)) }
        do {
            switch action {
            case "create":
                let name = words[1]
                let token = try store.peerTokens.create(name: name, readOnly: readOnly)
                if options.json {
                    emit([("name", .string(name)), ("read_only", .bool(readOnly)), ("token", .string(token))])
                } else {
                    // The token alone on stdout (`… create laptop > laptop.token` makes its token file).
                    REPL.writeLine(token)
                    FileHandle.standardError.write(Data(("(shown once, only its hash is stored; give it to \(name), which adds this hub with:"
                                                         + " peer add NAME URL --token-file FILE\(readOnly ? "; read-only: it may pull, not push" : ""))\n").utf8))
                }
            case "revoke":
                let name = words[1]
                if name == PeerTokenStore.defaultName {
                    try StoredPeerToken.revoke(store)
                    if options.json { emit([("name", .string(name)), ("result", .string("revoked"))]) } else {
                        REPL.writeLine("Revoked the default credential: the serve token is refused (within a second on a running serve)"
                                       + " until: setuplink serve token rotate")
                    }
                } else {
                    guard try store.peerTokens.revoke(name: name) else {
                        let names = try store.peerTokens.all().map(\.name)
                        let hint = closestMatch(to: name, in: names).map { " — did you mean \"\($0)\"?" } ?? ""
                        SetupLinkCLI.printError("no peer token named \"\(name)\"\(hint) (see: setuplink serve peer-token list)")
                        return 1
                    }
                    if options.json { emit([("name", .string(name)), ("result", .string("revoked"))]) } else {
                        REPL.writeLine("Revoked peer token \(name): its next request is refused (401); other peers are not affected.")
                    }
                }
            default:
                let all = try store.peerTokens.all()
                let defaultState = try StoredPeerToken.isRevoked(store) ? "revoked" : "active"
                if options.json {
                    emit([("default", .string(defaultState)),
                          ("tokens", .array(all.map { c in
                              .object([("name", .string(c.name)), ("read_only", .bool(c.readOnly)),
                                       ("created", .string(Format.iso(c.created))),
                                       ("last_used", c.lastUsed.map { .string(Format.iso($0)) } ?? .null)])
                          }))])
                } else {
                    var t = TextTable(headers: ["Name", "Created", "Last used", "Access"], maxCellWidth: ConsoleSession.maxCellWidth)
                    t.append([PeerTokenStore.defaultName, "-", "-", defaultState == "revoked" ? "revoked" : "read-write (the serve token)"])
                    for c in all {
                        t.append([c.name, Format.date(c.created), c.lastUsed.map(Format.date) ?? "never", c.readOnly ? "read-only" : "read-write"])
                    }
                    REPL.writeLine(t.render())
                }
            }
            return 0
        } catch {
            SetupLinkCLI.printError("\(error)")
            return 1
        }
    }
}
