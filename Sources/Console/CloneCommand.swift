import Foundation
import Glibc
import HTTP
import JSON
import PeerSync
import Replica
import SetupLinks
import Storage

/// `setuplink --db NEW clone URL`: a new replica made from a hub's snapshot
/// (`GET /sync/v1/snapshot`) instead of paging its every record (PeerSync.docc/SyncingPeers.md).
///
/// Not a REPL command: the REPL has a replica open already, and clone makes the file.
/// Everything happens in `NEW.partial` (downloaded, checked, given its own id, the hub added
/// as a peer, caught up by a normal sync); only then is it renamed to `NEW`. So a clone cut
/// off at any point (Ctrl-C, kill -9, a lost connection) leaves no replica, at most
/// `NEW.partial`, which the next clone removes. A clone running holds an flock on `NEW.partial`:
/// a second clone into `NEW` meanwhile is refused and leaves it alone.
enum CloneCommand {
    static let usage = "usage: setuplink --db NEW clone URL [--token-file F] [--cacert PEM] [--name PEER]"

    static func run(options: SetupLinkCLI.Options, arguments: [String]) -> Int32 {
        var options = options
        var url: String?, tokenFile: String?, cacertFile: String?, name: String?
        var args = arguments[...]
        while let a = args.popFirst() {
            if let problem = SetupLinkCLI.takeGlobal(a, &args, &options) {
                if !problem.isEmpty { return SetupLinkCLI.usageError(problem) }
            } else if ["--token-file", "--cacert", "--name"].contains(a) {
                guard let v = args.popFirst(), !v.isEmpty else { return SetupLinkCLI.usageError("\(a) needs a value; \(usage)") }
                switch a {
                case "--token-file": tokenFile = v
                case "--cacert": cacertFile = v
                default: name = v
                }
            } else if a.hasPrefix("-") {
                return SetupLinkCLI.usageError("unknown flag \(a) for clone; \(usage)")
            } else if url == nil {
                url = a
            } else {
                return SetupLinkCLI.usageError("clone takes one URL, the hub to clone; \(usage)")
            }
        }
        guard let url, !url.isEmpty else { return SetupLinkCLI.usageError("clone needs the hub's URL; \(usage)") }
        do {
            let report = try clone(options: options, url: url, tokenFile: tokenFile, cacertFile: cacertFile, name: name)
            if options.json {
                REPL.writeLine(Format.jsonLine([
                    ("clone", .string(options.db)), ("replica", .string(report.replica.hex)), ("source", .string(report.source.hex)),
                    ("peer", .string(report.peer)), ("url", .string(report.url)),
                    ("snapshot_bytes", .int(Int64(report.download.fileBytes))), ("bytes_received", .int(Int64(report.download.bytesReceived))),
                    ("caught_up", .int(Int64(report.caughtUp))), ("resynced", .bool(report.resynced)), ("indexes", .string(report.derived.rawValue)),
                    ("download_seconds", .double(report.seconds.download)), ("check_seconds", .double(report.seconds.check)),
                    ("sync_seconds", .double(report.seconds.sync)),
                ]))
            } else {
                REPL.writeLine("Cloned \(report.url) into \(options.db): replica \(report.replica.hex), a snapshot of"
                               + " \(Format.bytes(report.download.fileBytes)) (checked; its indexes \(report.derived == .checked ? "checked against its records and kept" : "built again from its records")), then \(Format.count(report.caughtUp, "change"))"
                               + " caught up by sync\(report.resynced ? " (and a resync: the hub had purged deletes meanwhile)" : "").")
                REPL.writeLine("Peer \(report.peer) is the hub; sync again with: setuplink --db \(options.db) sync \(report.peer)")
            }
            return 0
        } catch let e as ConsoleError {
            if case .usage(let m) = e { return SetupLinkCLI.usageError(m) }
            SetupLinkCLI.commandLineError("clone: \(e)")
            return 1
        } catch {
            SetupLinkCLI.commandLineError("clone: \(error)")
            return 1
        }
    }

    struct Report {
        var url: String
        var peer: String
        var source: ReplicaID
        var replica: ReplicaID
        var download: SnapshotDownload
        var caughtUp: Int
        var resynced: Bool
        /// Whether the hub's indexes were found true and kept, or built again.
        var derived: DerivedData
        /// Where the time went: the download, the checks and new id, the catch-up sync.
        var seconds: (download: Double, check: Double, sync: Double)
    }

    static func clone(options: SetupLinkCLI.Options, url rawURL: String, tokenFile: String?, cacertFile: String?,
                      name: String?) throws -> Report {
        let url = try PeerCredentials.peerURL(rawURL)
        let token = try PeerCredentials.token(nil, file: tokenFile) ?? PeerCredentials.environmentToken
        let cacert = try PeerCredentials.caCertificate(cacertFile)
        let peer = name ?? URLComponents(string: url)?.host.map { String($0.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }.prefix(64)) } ?? "hub"
        guard PeerCredentials.validPeerName(peer) else {
            throw ConsoleError.usage("peer name \"\(peer)\" must be 1-64 letters, digits, '-', '_' or '.' (give --name PEER)")
        }
        let db = options.db, fm = FileManager.default
        if fm.fileExists(atPath: db) {
            throw ConsoleError.failed("\(db) exists: clone makes a new replica file (remove it, or give another --db; to bring an existing replica up to date use sync)")
        }
        let folder = (db as NSString).deletingLastPathComponent
        if !folder.isEmpty, !fm.fileExists(atPath: folder) { throw ConsoleError.failed("the folder \(folder) does not exist") }
        let partial = db + ".partial"
        let leftovers = [partial, partial + "-wal", partial + "-shm", partial + "-journal"]
        // One clone into NEW at a time: each holds an flock on NEW.partial from making it to
        // installing it (a second one used to remove the first's file under it, and each then
        // failed with a wrong sentence). The descriptor stays open until every SQLite connection
        // to the file is closed: closing one drops the POSIX locks SQLite holds on the file.
        // Never through a symbolic link (one planted in a shared folder would have this clone
        // truncate and write the file it points to): a link there is removed, and a new file made.
        var fd = open(partial, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 && errno == ELOOP {
            unlink(partial)
            fd = open(partial, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }
        guard fd >= 0 else { throw ConsoleError.failed("cannot create \(partial): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var held = stat(), named = stat()
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, fstat(fd, &held) == 0, lstat(partial, &named) == 0,
              held.st_ino == named.st_ino, held.st_dev == named.st_dev else {
            throw ConsoleError.failed("another clone into \(db) is running (it holds \(partial)); nothing was done")
        }
        // A file this user's clone made: not another's, nor a second name of some other file.
        guard held.st_mode & S_IFMT == S_IFREG, held.st_nlink == 1, held.st_uid == getuid() else {
            throw ConsoleError.failed("\(partial) is not a file a clone made (another user's, or a link to another file); remove it and clone again")
        }
        // What a clone cut off left (no process holds it): started again from nothing.
        guard ftruncate(fd, 0) == 0 else { throw ConsoleError.failed("cannot write \(partial): \(String(cString: strerror(errno)))") }
        for f in leftovers.dropFirst() { unlink(f) }
        var done = false
        defer { if !done { for f in leftovers { unlink(f) } } }

        var http = HTTPClient(connectTimeout: .seconds(10), timeout: .seconds(24 * 3600), caCertificatePEM: cacert)
        let terminal = isatty(STDERR_FILENO) == 1 && !options.json
        // A hub that stops sending in the middle of the snapshot (a connection gone dead, or a
        // hostile drip of nothing) would hold the clone for the whole day-long limit: once bytes
        // have come, `stallSeconds` without a new one end it. Waiting for the first byte is not
        // limited (the hub is making the copy; the progress line says so).
        let stallSeconds = ProcessInfo.processInfo.environment["SETUPLINK_CLONE_STALL_SECONDS"].flatMap { Double($0) } ?? 120
        nonisolated(unsafe) var last = -1
        nonisolated(unsafe) var moved = (bytes: 0, at: 0.0)
        nonisolated(unsafe) var stalled = false
        http.monitor = { t in
            if t.bytesReceived != moved.bytes {
                moved = (t.bytesReceived, t.seconds)
            } else if t.bytesReceived > 0, t.seconds - moved.at >= stallSeconds {
                stalled = true
                return false
            }
            let second = Int(t.seconds)
            if terminal, second != last {
                last = second
                let what = t.bytesReceived > 0 ? "receiving \(Format.bytes(t.bytesReceived))" : "waiting for the hub to make the snapshot"
                FileHandle.standardError.write(Data("\r\u{1B}[K\(url): \(what) (\(second) s; Ctrl-C cancels)".utf8))
            }
            return true
        }
        let started = Date()
        let download: SnapshotDownload
        do {
            download = try SyncClient(http: http).downloadSnapshot(url: url, token: token, to: fd)
            guard fsync(fd) == 0 else { throw ConsoleError.failed("cannot write \(partial): \(String(cString: strerror(errno)))") }
        } catch SyncError.cancelled where stalled {
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            throw ConsoleError.failed("the hub sent nothing for \(Int(stallSeconds)) s in the middle of the snapshot (\(Format.bytes(moved.bytes)) received); nothing was installed")
        } catch {
            // The error on a line of its own, not after the progress line.
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            throw error
        }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let downloaded = Date()
        let ids: (source: ReplicaID, replica: ReplicaID, derived: DerivedData)
        do {
            ids = try ReplicaStore.adoptSnapshot(at: partial, indexes: SetupLinkService.indexes)
        } catch let e as StoreError {
            // Said of the snapshot, not of the temporary file it was in (removed now).
            let what = String(describing: e).replacingOccurrences(of: "; it was left unchanged", with: "")
                .replacingOccurrences(of: partial, with: "the snapshot \(url) sent")
            throw ConsoleError.failed("\(what); nothing was installed")
        }
        let checked = Date()

        // Opened the usual way (a snapshot of an older version is migrated), the hub added as a peer,
        // and caught up: what changed while the snapshot was made and downloaded.
        let store = try SetupLinkService.openStore(path: partial)
        var caughtUp = 0, resynced = false
        do {
            defer { store.close() }
            let snapshotClock = try store.clock()
            try store.peers.add(name: peer, url: url, token: token, cacert: cacert)
            http.monitor = nil
            let client = SyncClient(http: HTTPClient(caCertificatePEM: cacert))
            // A read-only token may pull, not push: the sync keeps its pull (all a clone needs) and
            // succeeds, saying the push was refused.
            func catchUp() throws -> (pulled: Int, floor: VectorClock) {
                let report = try client.sync(store: store, url: url, token: token, peerName: peer)
                return (report.pulled, report.peerPurgeFloor)
            }
            var round = try catchUp()
            caughtUp = round.pulled
            // A delete purged by the hub before it knew this replica never comes as a tombstone: resync then.
            if try store.needsResyncAfterClone(snapshot: snapshotClock, peerFloor: round.floor) {
                round = try catchUp()
                resynced = true
                caughtUp += round.pulled
            }
        }
        if fm.fileExists(atPath: partial + "-wal") {
            throw ConsoleError.failed("\(partial) is still open elsewhere; nothing was installed")
        }
        // No clobbering: link fails if NEW appeared meanwhile.
        guard link(partial, db) == 0 else {
            let e = errno
            throw ConsoleError.failed(e == EEXIST ? "\(db) appeared while cloning; nothing was installed (the clone is removed)"
                                                  : "cannot create \(db): \(String(cString: strerror(e)))")
        }
        unlink(partial)
        done = true
        return Report(url: url, peer: peer, source: ids.source, replica: ids.replica, download: download, caughtUp: caughtUp, resynced: resynced, derived: ids.derived,
                      seconds: (downloaded.timeIntervalSince(started), checked.timeIntervalSince(downloaded), Date().timeIntervalSince(checked)))
    }
}
