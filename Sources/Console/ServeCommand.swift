import JSON
import Dispatch
import Foundation
import Glibc
import PeerSync
import SetupLinks
import Storage

/// `setuplink serve --port P [--bind ADDR] [--token SECRET] [--db FILE]`: serves the replica to peers.
///
/// With no `--token`, the token stored with the replica is used; the first
/// time, one is generated from the CSPRNG, stored, and printed once. The sync
/// routes are never served without a token. SIGINT or SIGTERM stops
/// accepting, lets requests in flight finish, closes the replica, exits 0.
enum ServeCommand {
    static let usage = "usage: setuplink serve --port P [--bind ADDR] [--token SECRET] [--db FILE]"

    static func run(options: SetupLinkCLI.Options, arguments: [String]) -> Int32 {
        var options = options
        var port: UInt16?
        var bind = "127.0.0.1"
        var token: String?
        var args = arguments[...]
        while let a = args.popFirst() {
            let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0]
            func value() -> String? { parts.count == 2 ? parts[1] : args.popFirst() }
            switch name {
            case "--port":
                guard let v = value(), let p = UInt16(v) else {
                    return SetupLinkCLI.usageError("--port needs a number from 0 to 65535 (0 picks a free port); \(usage)")
                }
                port = p
            case "--bind":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("--bind needs an address, like 127.0.0.1 or 0.0.0.0") }
                bind = v
            case "--token":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("--token needs a secret") }
                token = v
            case "--db":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("--db needs a file path") }
                options.db = v
            default:
                let hint = closestMatch(to: name, in: ["--port", "--bind", "--token", "--db"]).map { " — did you mean \($0)?" } ?? ""
                return SetupLinkCLI.usageError("unknown flag \(name) for serve\(hint); \(usage)")
            }
        }
        guard let port else { return SetupLinkCLI.usageError("serve needs --port P (0 picks a free port); \(usage)") }
        guard let service = SetupLinkCLI.openService(options) else { return 1 }
        let store = service.store
        var generated = false
        do {
            if token == nil {
                if let stored = try store.setting("serve-token") {
                    token = stored
                } else {
                    token = Secrets.linkToken()
                    try store.setSetting("serve-token", token)
                    generated = true
                }
            }
        } catch {
            SetupLinkCLI.printError("\(error)")
            return 1
        }
        let server = SyncServer(store: store, token: token!,
                                configuration: HTTPServerConfiguration(bindAddress: bind, port: port),
                                accessLog: { entry in FileHandle.standardError.write(Data("\(entry)\n".utf8)) })
        let bound: UInt16
        do { bound = try server.start() } catch {
            SetupLinkCLI.printError("\(error)")
            store.close()
            return 1
        }
        let host = bind.contains(":") ? "[\(bind)]" : bind
        if options.json {
            var o: [(String, JSONValue)] = [("listening", .string("http://\(host):\(bound)")), ("port", .int(Int64(bound))),
                                            ("replica", .string(store.replicaID.hex))]
            if generated { o.append(("token", .string(token!))) }
            REPL.writeLine(String(decoding: JSONWriter.write(.object(o)), as: UTF8.self))
        } else {
            REPL.writeLine("setuplink serving replica \(store.replicaID.hex) (\(store.path))")
            REPL.writeLine("listening on http://\(host):\(bound)")
            if generated {
                REPL.writeLine("token: \(token!)")
                REPL.writeLine("(generated and stored with the replica; it is shown only now; peers use: peer add NAME URL --token TOKEN)")
            } else if arguments.contains(where: { $0.hasPrefix("--token") }) == false {
                REPL.writeLine("using the token stored with this replica when it was first served")
            }
        }
        // Stop on SIGINT/SIGTERM: handled on a dispatch queue, not in a signal handler.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let stopped = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "setuplink.signals")
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler { stopped.signal() }
            s.resume()
            return s
        }
        stopped.wait()
        FileHandle.standardError.write(Data("stopping: finishing requests in flight\n".utf8))
        server.stop()
        store.close()
        withExtendedLifetime(sources) {}
        return 0
    }
}
