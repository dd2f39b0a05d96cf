import Bytes
import JSON
import Foundation
import Glibc
import GoogleSync
import HTTP
import Hub
import PeerSync
import SetupLinks
import Storage
import Webhooks

/// `setuplink serve [--port 8080] [--bind ADDR] [--token-file F] [--tls-cert PEM --tls-key PEM [--tls-priority S]] [--webhook-batch N]`
/// serves the replica and delivers its webhook outbox; `setuplink serve token show|rotate`
/// prints or replaces the stored peer token.
///
/// The peer token comes from `--token-file`, else `SETUPLINK_TOKEN`, else the
/// token stored with the replica (generated, stored and printed once the first
/// time). It is never taken from the command line, which every user can read
/// with `ps`. SIGINT or SIGTERM refuses new requests (503), lets requests in flight
/// finish, closes the replica, exits 0.
enum ServeCommand {
    static let usage = "usage: setuplink serve [--port 8080] [--bind ADDR] [--token-file FILE] [--tls-cert PEM --tls-key PEM [--tls-priority GNUTLS-PRIORITIES]] [--webhook-batch N] [--external-url URL] [--db FILE] [--json]"
        + " [--google-client-id ID --google-client-secret-file FILE [--google-poll-seconds 600]] [--follow NAME…] [--metrics-token-file FILE]"
        + " | setuplink serve token show|rotate | setuplink serve peer-token create NAME [--read-only]|list|revoke NAME"
    static let defaultPort: UInt16 = 8080
    static let flags = ["--port", "--bind", "--token-file", "--tls-cert", "--tls-key", "--tls-priority", "--webhook-batch", "--db", "--json", "--external-url",
                        "--google-client-id", "--google-client-secret-file", "--google-poll-seconds",
                        "--google-auth-url", "--google-token-url", "--google-api-url", "--follow", "--metrics-token-file"]
    /// The largest `--webhook-batch`.
    static let maxWebhookBatch = 1000

    static func run(options: SetupLinkCLI.Options, arguments: [String]) -> Int32 {
        if arguments.first == "token" { return token(options: options, arguments: Array(arguments.dropFirst())) }
        if arguments.first == "peer-token" { return PeerTokenCommand.run(options: options, arguments: Array(arguments.dropFirst())) }
        // Before any thread starts, so every thread (libmicrohttpd's too) leaves them to sigwait.
        Hub.blockStopSignals()
        var options = options
        var port = defaultPort
        var bind = "127.0.0.1"
        var tokenFile: String?
        var certificate: String?, key: String?, tlsPriority: String?
        var webhooks = WebhookConfiguration()
        var googleFlags: [String: String] = [:]
        var follow: [String] = []
        var metricsTokenFile: String?
        var args = arguments[...]
        while let a = args.popFirst() {
            let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts.first ?? a
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
                return SetupLinkCLI.usageError(tokenOnCommandLine)
            case "--token-file":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("--token-file needs a file path") }
                tokenFile = v
            case "--tls-cert":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("--tls-cert needs a PEM file") }
                certificate = v
            case "--tls-key":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("--tls-key needs a PEM file") }
                key = v
            case "--tls-priority":
                guard let v = value(), !v.isEmpty else {
                    return SetupLinkCLI.usageError("--tls-priority needs a GnuTLS priority string, like \(HTTPServerConfiguration.defaultTLSPriority)")
                }
                tlsPriority = v
            case "--webhook-batch":
                guard let v = value(), let n = Int(v), (1...maxWebhookBatch).contains(n) else {
                    return SetupLinkCLI.usageError("--webhook-batch needs a number of events from 1 to \(maxWebhookBatch)"
                                                   + " (each request then carries a JSON array of up to that many)")
                }
                webhooks.batchSize = n
            case "--follow":
                // `--follow a b`, `--follow a,b` or `--follow a --follow b`.
                var names: [String] = []
                if parts.count == 2 { names = [parts[1]] }
                while parts.count < 2, let next = args.first, !next.hasPrefix("-") { names.append(args.removeFirst()) }
                let split = names.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
                guard !split.isEmpty else { return SetupLinkCLI.usageError("--follow needs the names of peers to follow (see: setuplink peer list)") }
                follow += split
            case "--metrics-token-file":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("--metrics-token-file needs a file path") }
                metricsTokenFile = v
            case "--metrics-token":
                return SetupLinkCLI.usageError("--metrics-token on the command line is visible to every user of this machine (ps);"
                                               + " put it in a file and give --metrics-token-file FILE")
            case "--db", "--external-url":
                // Global flags are read after the command too (`serve --external-url https://hub.example.com`).
                if let error = SetupLinkCLI.applyGlobal(name, value: value(), to: &options) { return SetupLinkCLI.usageError(error) }
            case "--json":
                options.json = true
            case "--google-client-secret":
                return SetupLinkCLI.usageError("--google-client-secret on the command line is visible to every user of this machine (ps);"
                                               + " put the secret in a file and give --google-client-secret-file FILE, or set \(GoogleConfiguration.Environment.clientSecret)")
            case "--google-client-id", "--google-client-secret-file", "--google-poll-seconds", "--google-auth-url", "--google-token-url", "--google-api-url":
                guard let v = value(), !v.isEmpty else { return SetupLinkCLI.usageError("\(name) needs a value") }
                googleFlags[name] = v
            default:
                let hint = closestMatch(to: name, in: flags).map { " — did you mean \($0)?" } ?? ""
                return SetupLinkCLI.usageError("unknown flag \(name) for serve\(hint); \(usage)")
            }
        }
        guard (certificate == nil) == (key == nil) else {
            return SetupLinkCLI.usageError("--tls-cert and --tls-key go together (the certificate and its private key, PEM)")
        }
        guard tlsPriority == nil || certificate != nil else {
            return SetupLinkCLI.usageError("--tls-priority applies to HTTPS: give --tls-cert and --tls-key with it")
        }
        var configuration = HTTPServerConfiguration(bindAddress: bind, port: port)
        if let tlsPriority { configuration.tlsPriority = tlsPriority }
        if let certificate, let key {
            do { configuration.tls = try TLSIdentity(certificateFile: certificate, keyFile: key) } catch {
                SetupLinkCLI.commandLineError(error.description)
                return 1
            }
        }
        let fixedToken: (token: String, from: String)?
        do { fixedToken = try tokenFromFileOrEnvironment(tokenFile) } catch {
            SetupLinkCLI.commandLineError("\(error)")
            return 1
        }
        var metricsToken: String?
        if let metricsTokenFile {
            do { metricsToken = try readTokenFile(metricsTokenFile) } catch {
                SetupLinkCLI.commandLineError("--metrics-token-file: \(error)")
                return 1
            }
            if metricsToken == fixedToken?.token {
                SetupLinkCLI.commandLineError("the metrics token must differ from the peer token (whoever reads metrics could then sync)")
                return 1
            }
        }

        let google: GoogleConfiguration?
        do { google = try googleConfiguration(googleFlags) } catch {
            if case .usage(let m) = error { return SetupLinkCLI.usageError(m) }
            SetupLinkCLI.commandLineError("\(error)")
            return 1
        }

        let isNew = !FileManager.default.fileExists(atPath: options.db)
        guard let (service, urlSource) = SetupLinkCLI.openSession(options) else { return 1 }
        let store = service.store
        // A serve that fails before it listens leaves no file it created (a busy port, a bad
        // flag caught late): nothing was served from it, and its token was never shown.
        func abandon() {
            store.close()
            if isNew { for suffix in ["", "-wal", "-shm", "-journal"] { unlink(options.db + suffix) } }
        }
        guard let servingLock = lockForServing(store.path) else {
            abandon()
            return 1
        }
        defer { close(servingLock) }
        // What a server killed while making a snapshot for a clone left (a copy as big as the
        // replica): only the one server of this file makes them, so none is in use now.
        for suffix in [".snapshot", ".snapshot.partial", ".snapshot.partial-wal", ".snapshot.partial-shm", ".snapshot.partial-journal"] {
            unlink(store.path + suffix)
        }
        do {
            let known = Set(try store.peers.all().map(\.name))
            for name in follow where !known.contains(name) {
                let hint = closestMatch(to: name, in: known.sorted()).map { " — did you mean \($0)?" } ?? ""
                SetupLinkCLI.commandLineError("--follow \(name): no peer named \"\(name)\"\(hint) (add it first: setuplink peer add \(name) URL --token-file F)")
                abandon()
                return 2
            }
        } catch {
            SetupLinkCLI.commandLineError("\(error)")
            abandon()
            return 1
        }
        var generated: String?
        if fixedToken == nil {
            do {
                let stored = try StoredPeerToken.ensure(store)
                if stored.generated { generated = stored.token }
            } catch {
                SetupLinkCLI.commandLineError("\(error)")
                abandon()
                return 1
            }
        }
        let hub: Hub
        do {
            hub = try Hub(service: service, token: fixedToken.map { .fixed($0.token) } ?? .stored, configuration: configuration,
                          webhooks: webhooks, google: google, follow: Set(follow), metricsToken: metricsToken,
                          log: { entry in FileHandle.standardError.write(Data("\(entry)\n".utf8)) },
                          webhookLog: { line in
                              // One line, with no control character (a receiver's error text is remote data).
                              let text = "\(HTTPLogEntry.timestamp(Date())) \(line)".escapingControlCharacters
                              FileHandle.standardError.write(Data((text + "\n").utf8))
                          },
                          followLog: { line in
                              // One line, with no control character (a peer's error text is remote data).
                              let text = "\(HTTPLogEntry.timestamp(Date())) \(line)".escapingControlCharacters
                              FileHandle.standardError.write(Data((text + "\n").utf8))
                          })
        } catch {
            SetupLinkCLI.commandLineError("\(error)")
            abandon()
            return 1
        }
        // Whether this file's hub offers Google (`providers`, `directory new` read it).
        do { try GoogleCredentials.setOfferedClientID(store, google?.clientID) } catch {
            SetupLinkCLI.commandLineError("\(error)")
            abandon()
            return 1
        }
        let bound: UInt16
        do { bound = try hub.start() } catch {
            SetupLinkCLI.commandLineError("\(error)")
            abandon()
            return 1
        }
        let host = bind.contains(":") ? "[\(bind)]" : bind
        let url = "\(configuration.tls == nil ? "http" : "https")://\(host):\(bound)"
        // Links and SCIM endpoints are built from the external URL: without one configured, the
        // address this server listens on (never a port it does not serve).
        let configured = urlSource != "default" && urlSource != "serve"
        let external = externalURL(configured: configured ? service.externalURL : nil, source: urlSource,
                                   listening: url, bind: bind, scheme: configuration.tls == nil ? "http" : "https", port: bound)
        if !configured {
            try? service.useExternalURL(external.url)
            // A REPL or one-shot on this file then builds links from it too (until one is configured).
            try? store.settings.set(servedURLSetting, to: external.url)
        }
        if options.json {
            var o: [(String, JSONValue)] = [("listening", .string(url)), ("port", .int(Int64(bound))),
                                            ("external_url", .string(external.url)), ("external_url_from", .string(external.from)),
                                            ("replica", .string(store.replicaID.hex)), ("new_replica", .bool(isNew)),
                                            ("webhook_batch", webhooks.batchSize.map { .int(Int64($0)) } ?? .null)]
            if let generated { o.append(("token", .string(generated))) }
            o.append(("following", .array(hub.follower.following.map(JSONValue.string))))
            o.append(("metrics", .bool(metricsToken != nil)))
            REPL.writeLine(String(decoding: JSONWriter.write(.object(o)), as: UTF8.self))
        } else {
            REPL.writeLine("setuplink serving \(isNew ? "new replica" : "replica") \(store.replicaID.hex) (\(store.path)\(isNew ? ", created now" : ""))")
            REPL.writeLine("listening on \(url)")
            REPL.writeLine("external URL \(external.url) (\(external.from)): setup links and SCIM endpoints use it")
            REPL.writeLine("webhooks: sending the outbox's events " + (webhooks.batchSize.map { "in batches of up to \($0) (JSON arrays)" } ?? "one per request"))
            let following = hub.follower.following
            REPL.writeLine("following: " + (following.isEmpty ? "no peer (peer update NAME --follow, or serve --follow NAME)" : following.joined(separator: ", ")))
            if metricsToken != nil { REPL.writeLine("metrics: GET \(url)/metrics with the metrics token") }
            if let google {
                REPL.writeLine("google: Google Workspace directories offered; authorized ones synced every \(google.pollInterval.components.seconds) s;"
                               + " redirect URI \(service.externalURL)\(GoogleConfiguration.callbackPath)")
            } else {
                REPL.writeLine("google: not offered (no --google-client-id)")
            }
            if let generated {
                REPL.writeLine("token: \(generated)")
                REPL.writeLine("(generated and stored with the replica; show it again with: setuplink serve token show;"
                               + " a peer puts it in a file and runs: setuplink peer add NAME URL --token-file FILE,"
                               + " or in its REPL: peer add NAME URL --token TOKEN)")
            } else if let fixedToken {
                REPL.writeLine("using the peer token from \(fixedToken.from)")
            } else {
                REPL.writeLine("using the token stored with this replica (show it with: setuplink serve token show)")
            }
        }
        if configured {
            checkExternalURL(service.externalURL, replica: store.replicaID.hex, source: external.from,
                             caCertificate: certificate.flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self) })
        } else if bind == "0.0.0.0" || bind == "::" {
            warn("no external URL is configured and this server listens on every address: links use \(external.url);"
                 + " give the address tenants and identity providers reach with --external-url URL (or config external-url URL)")
        }
        let signal = Hub.waitForStopSignal()
        FileHandle.standardError.write(Data("stopping (\(signal == SIGINT ? "SIGINT" : "SIGTERM")): finishing requests in flight\n".utf8))
        hub.stop()
        store.close()
        return 0
    }

    /// The local setting that remembers where `serve` served this file without a configured
    /// external URL: the REPL and one-shot commands on the file use it when nothing else is set.
    static let servedURLSetting = "served-external-url"

    /// The external URL in force and where it came from, in words: the one configured, or
    /// (none configured) the address this server listens on (the host name for every address).
    static func externalURL(configured: String?, source: String, listening: String, bind: String, scheme: String,
                            port: UInt16) -> (url: String, from: String) {
        if let configured {
            let from = switch source {
            case "--external-url": "from --external-url"
            case "SETUPLINK_EXTERNAL_URL": "from SETUPLINK_EXTERNAL_URL"
            default: "from this replica's config external-url"
            }
            return (configured, from)
        }
        if bind == "0.0.0.0" || bind == "::" {
            var name = [CChar](repeating: 0, count: 256)
            let host = gethostname(&name, name.count) == 0
                ? String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
            return ("\(scheme)://\(host.isEmpty ? "localhost" : host):\(port)",
                    "none configured: this machine's name and the port served; set one with --external-url")
        }
        return (listening, "none configured: the address this server listens on; set one with --external-url")
    }

    /// Checks in the background that `url` reaches this server: its `/healthz` must answer with
    /// this replica's id. Warns on standard error when it answers another id, or nothing.
    static func checkExternalURL(_ url: String, replica: String, source: String, caCertificate: String?) {
        let thread = Thread {
            var client = HTTPClient(connectTimeout: .seconds(3), timeout: .seconds(5), maxResponseBytes: 64 * 1024)
            var problem: String?
            do {
                var response = try? client.send(method: "GET", url: url + "/healthz")
                if response == nil, let caCertificate {
                    // A self-signed or private-CA certificate: trust this server's own.
                    client.caCertificatePEM = caCertificate
                }
                if response == nil { response = try client.send(method: "GET", url: url + "/healthz") }
                let body = response.flatMap { try? JSONParser.parse($0.body) }
                let answered = body?["replica"]?.stringValue
                if response?.status != 200 || answered == nil {
                    problem = "\(url)/healthz answered \(response.map { "HTTP \($0.status)" } ?? "nothing"), not a setuplink hub"
                } else if answered != replica {
                    problem = "\(url)/healthz answers replica \(answered!), not this one (\(replica)): it reaches another server"
                }
            } catch {
                problem = "\(url)/healthz did not answer: \(error)"
            }
            if let problem {
                warn("the external URL (\(source)) does not reach this server: \(problem);"
                     + " links and SCIM endpoints built from it will not work")
            } else {
                FileHandle.standardError.write(Data("external URL checked: \(url) reaches this server\n".utf8))
            }
        }
        thread.start()
    }

    /// `warning: …` on standard error.
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// One `serve` per replica file: an exclusive `flock` on the replica file itself,
    /// held until the process ends (the kernel drops it on `kill -9` too). A second
    /// server on the file would send every webhook event of the shared outbox again.
    /// (SQLite locks the file with `fcntl`, which `flock` does not touch on Linux; a
    /// replica in WAL mode cannot live on a network file system, where they would.)
    /// Returns the descriptor that holds the lock, or `nil` with the error printed.
    static func lockForServing(_ path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            SetupLinkCLI.commandLineError("cannot open \(path) to serve it: \(String(cString: strerror(errno)))")
            return nil
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            close(fd)
            SetupLinkCLI.commandLineError(e == EWOULDBLOCK
                ? "another setuplink serve is already serving \(path): one server per replica file (a second would send its webhook events twice)"
                : "cannot lock \(path) for serving: \(String(cString: strerror(e)))")
            return nil
        }
        return fd
    }

    /// The Google configuration of `serve`'s flags, else the environment; `nil` without a client id.
    static func googleConfiguration(_ flags: [String: String],
                                    environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConsoleError) -> GoogleConfiguration? {
        typealias Env = GoogleConfiguration.Environment
        let id = flags["--google-client-id"] ?? environment[Env.clientID].flatMap { $0.isEmpty ? nil : $0 }
        var secret: String?
        if let file = flags["--google-client-secret-file"] {
            guard let data = FileManager.default.contents(atPath: file) else { throw .failed("cannot read the Google client secret file \(file)") }
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard secret?.isEmpty == false, secret?.contains(where: \.isNewline) == false else {
                throw .failed("the Google client secret file \(file) must hold one line")
            }
        } else if let env = environment[Env.clientSecret], !env.isEmpty {
            secret = env.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let id else {
            if let given = flags.keys.sorted().first { throw .usage("\(given) needs --google-client-id ID (or \(Env.clientID)): the OAuth client of a web application") }
            return nil
        }
        guard id.utf8.count <= 512, !id.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw .usage("--google-client-id must be one word (the OAuth client id, like 1234-abc.apps.googleusercontent.com)")
        }
        guard let secret else {
            throw .usage("--google-client-id needs the client secret: --google-client-secret-file FILE or \(Env.clientSecret)")
        }
        var c = GoogleConfiguration(clientID: id, clientSecret: secret)
        for (flag, env, path) in [("--google-auth-url", Env.authorizationURL, \GoogleConfiguration.authorizationURL),
                                  ("--google-token-url", Env.tokenURL, \GoogleConfiguration.tokenURL),
                                  ("--google-api-url", Env.apiBaseURL, \GoogleConfiguration.apiBaseURL)] {
            guard let v = flags[flag] ?? environment[env].flatMap({ $0.isEmpty ? nil : $0 }) else { continue }
            guard Validation.isHTTPURL(v) else { throw .usage("\(flag) must be an absolute http(s) URL, not \(v.prefix(100))") }
            c[keyPath: path] = v
        }
        if let v = flags["--google-poll-seconds"] {
            guard let n = Int(v), (1...86_400).contains(n) else {
                throw .usage("--google-poll-seconds needs a number of seconds from 1 to 86400 (default 600)")
            }
            c.pollInterval = .seconds(n)
        }
        return c
    }

    static let tokenOnCommandLine = "--token on the command line is visible to every user of this machine (ps);"
        + " put the token in a file and give --token-file FILE, or set SETUPLINK_TOKEN"

    /// The token from `--token-file` or `SETUPLINK_TOKEN`, with where it came from; `nil` if neither is given.
    static func tokenFromFileOrEnvironment(_ file: String?,
                                           environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConsoleError) -> (token: String, from: String)? {
        if let file {
            let token = try readTokenFile(file)
            var info = stat()
            if stat(file, &info) == 0, info.st_mode & 0o077 != 0 {
                FileHandle.standardError.write(Data("warning: the token file \(file) can be read by other users (chmod 600 \(file))\n".utf8))
            }
            return (token, "--token-file \(file)")
        }
        if let env = environment["SETUPLINK_TOKEN"] {
            let token = env.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw .usage("SETUPLINK_TOKEN is set but empty") }
            return (token, "SETUPLINK_TOKEN")
        }
        return nil
    }

    /// Reads a token file: one line, surrounding whitespace ignored.
    static func readTokenFile(_ path: String) throws(ConsoleError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .failed("cannot read the token file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .failed("the token file \(path) is empty") }
        guard !token.contains(where: \.isNewline) else { throw .failed("the token file \(path) has more than one line") }
        return token
    }

    /// `serve token show|rotate`.
    static func token(options: SetupLinkCLI.Options, arguments: [String]) -> Int32 {
        var options = options
        var action: String?
        var args = arguments[...]
        while let a = args.popFirst() {
            if let problem = SetupLinkCLI.takeGlobal(a, &args, &options) {
                if !problem.isEmpty { return SetupLinkCLI.usageError(problem) }
            } else if action == nil, a == "show" || a == "rotate" {
                action = a
            } else {
                let hint = closestMatch(to: a, in: ["show", "rotate"]).map { " — did you mean \($0)?" } ?? ""
                return SetupLinkCLI.usageError("unknown argument \(a) for serve token\(hint); usage: setuplink serve token show|rotate")
            }
        }
        guard let action else { return SetupLinkCLI.usageError("serve token needs show or rotate") }
        // Showing reads: a mistyped --db is refused, not made into an empty replica.
        if action == "show", !FileManager.default.fileExists(atPath: options.db) {
            SetupLinkCLI.commandLineError(SetupLinkCLI.noReplica(options.db))
            return 1
        }
        guard let service = SetupLinkCLI.openService(options) else { return 1 }
        defer { service.store.close() }
        do {
            let token: String
            if action == "show" {
                guard let stored = try StoredPeerToken.current(service.store) else {
                    SetupLinkCLI.commandLineError("no peer token is stored with this replica yet: serve generates one when it first starts,"
                                            + " or run: setuplink serve token rotate")
                    return 1
                }
                token = stored
            } else {
                token = try StoredPeerToken.rotate(service.store)
            }
            if options.json {
                REPL.writeLine(String(decoding: JSONWriter.write(.object([("token", .string(token))])), as: UTF8.self))
            } else {
                // The token alone on stdout, so `serve token show > peer.token` makes a token file;
                // what to do next goes to stderr.
                REPL.writeLine(token)
                if action == "rotate" {
                    FileHandle.standardError.write(Data(("(the old token stops working; a running serve uses the new one within a second;"
                                                         + " update peers with: peer update NAME --token-file FILE)\n").utf8))
                }
            }
            return 0
        } catch {
            SetupLinkCLI.commandLineError("\(error)")
            return 1
        }
    }
}
