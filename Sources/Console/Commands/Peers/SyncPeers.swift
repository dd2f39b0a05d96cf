import Foundation
import JSON
import PeerSync
import SetupLinks

/// `sync [NAME|URL] [--token T | --token-file F] [--cacert PEM]`: pull then push; with no
/// argument, every known peer in turn, one line each. On a terminal a status line says
/// which peer and what it waits for; Ctrl-C cancels (what was already received is kept).
struct SyncPeers: ConsoleCommand {
    /// `sync [NAME|URL] [--token T] [--token-file FILE] [--cacert PEM]`.
    static let configuration = CommandConfiguration(
        "sync", section: .housekeeping, arguments: [target], flags: [token, tokenFile, cacert],
        summary: "pull then push changes with a peer (all known peers without NAME); prints pulled, pushed, conflicts", example: "sync hub")
    private static let target = Argument.optional("NAME|URL", completes: .peer)
    private static let token = Flag.option("--token", "T", secret: true,
                                           "the bearer token (for a URL, or to override the peer's; else SETUPLINK_TOKEN)")
    private static let tokenFile = Flag.option("--token-file", "FILE", "read the bearer token from FILE")
    private static let cacert = Flag.option("--cacert", "PEM", "trust this CA certificate for an https:// URL (or instead of the peer's)")

    private let target: String?
    private let token: String?
    private let tokenFile: String?
    private let cacert: String?

    /// The peer or URL and the credentials typed.
    init(_ input: ParsedCommand) {
        target = input[Self.target]
        token = input[Self.token]
        tokenFile = input[Self.tokenFile]
        cacert = input[Self.cacert]
    }

    /// From how many records a first sync hints at `clone` (`SETUPLINK_CLONE_HINT_RECORDS`
    /// changes it, for tests).
    static var cloneHintRecords: Int {
        ProcessInfo.processInfo.environment["SETUPLINK_CLONE_HINT_RECORDS"].flatMap { Int($0) } ?? 100_000
    }

    /// Syncs with the peer or URL given, or with every known peer.
    func run(in session: ConsoleSession) throws {
        guard let target = self.target.map(Validation.trimmed) else {
            let peers = try session.peers.all()
            guard !peers.isEmpty else { throw ConsoleError.failed("no peers to sync with (add one with: peer add NAME URL \(session.tokenFlag))") }
            if token != nil || tokenFile != nil || cacert != nil {
                throw ConsoleError.usage("--token, --token-file and --cacert need a peer name or URL")
            }
            try syncAll(peers.map { SyncRun.Target(name: $0.name, url: $0.url, token: $0.token ?? PeerCredentials.environmentToken,
                                                   cacert: $0.cacert) }, in: session)
            return
        }
        let t: SyncRun.Target
        if let peer = try session.peers.named(target) {
            // A token or CA given here wins; then the peer's stored ones; SETUPLINK_TOKEN last.
            t = SyncRun.Target(name: peer.name, url: peer.url,
                               token: try PeerCredentials.token(token, file: tokenFile) ?? peer.token ?? PeerCredentials.environmentToken,
                               cacert: try PeerCredentials.caCertificate(cacert) ?? peer.cacert)
        } else if target.contains("://") {
            t = SyncRun.Target(name: nil, url: target,
                               token: try PeerCredentials.token(token, file: tokenFile) ?? PeerCredentials.environmentToken,
                               cacert: try PeerCredentials.caCertificate(cacert))
        } else {
            throw ConsoleError.failed(try Self.unknownPeerMessage(target, in: session))
        }
        let heldBefore = (try? session.service.store.countsByKind().reduce(0) { $0 + $1.live + $1.tombstones }) ?? 0
        let (report, seconds) = try SyncRun.sync(t, in: session)
        if session.json {
            session.emit(SyncRun.json(t, report, seconds: seconds))
        } else {
            let who = t.name.map { "\"\($0)\" (\(t.url))" } ?? t.url
            session.say("Synced with \(who): " + SyncRun.summary(report))
            // A first sync of a big hub: say once that a clone makes such a replica faster.
            if heldBefore < 1_000, report.pulled >= Self.cloneHintRecords {
                session.say("  (a new replica of a hub this size is made faster, and in a third of the memory, by: setuplink --db NEW clone \(t.url))")
            }
        }
        SyncRun.tellDiscarded(report, in: session)
    }

    /// Why `target` is neither a peer nor a URL, with the fix that fits what was typed.
    static func unknownPeerMessage(_ target: String, in session: ConsoleSession) throws -> String {
        let names = try session.peers.all().map(\.name)
        if let near = closestMatch(to: target, in: names) {
            return "no peer named \"\(target)\" — did you mean \"\(near)\"? (see: peer list)"
        }
        // `host:port` or `host/path` is an address typed without its scheme, not a peer name.
        if target.contains(":") || target.contains("/") || target.split(separator: ".").count == 4 {
            return "\"\(target)\" is not a peer name; to sync with an address give a URL: sync http://\(target)"
        }
        if PeerCredentials.validPeerName(target) {
            return "no peer named \"\(target)\" (add it with: peer add \(target) URL \(session.tokenFlag), or give a URL)"
        }
        return "no peer named \"\(target)\" (see: peer list, or give a URL like http://hub.example.com:8080)"
    }

    /// Every known peer in turn: one line (or one JSON entry) per peer; fails if any failed.
    private func syncAll(_ targets: [SyncRun.Target], in session: ConsoleSession) throws {
        var entries: [JSONValue] = []
        var failed: [String] = []
        let width = targets.map { ($0.name ?? $0.url).count }.max() ?? 0
        for t in targets {
            let label = t.name ?? t.url
            let pad = String(repeating: " ", count: width - label.count + 2)
            do {
                let (report, seconds) = try SyncRun.sync(t, in: session)
                entries.append(.object(SyncRun.json(t, report, seconds: seconds)))
                if !session.json { session.say(label + pad + SyncRun.summary(report)) }
                SyncRun.tellDiscarded(report, in: session)
            } catch {
                failed.append(label)
                let message = "\(error)"
                entries.append(.object([("peer", t.name.map(JSONValue.string) ?? .null), ("url", .string(t.url)), ("error", .string(message))]))
                if !session.json { session.say(label + pad + session.io.style.status("failed") + ": " + message) }
            }
            if session.io.interrupted() { break }
        }
        if session.json { session.emit([("peers", .array(entries)), ("failed", .int(Int64(failed.count)))]) }
        if !failed.isEmpty {
            throw ConsoleError.failed("\(failed.count) of \(targets.count) peers failed: \(failed.joined(separator: ", "))")
        }
    }
}
