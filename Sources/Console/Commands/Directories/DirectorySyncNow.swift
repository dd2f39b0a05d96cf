import Foundation
import Glibc
import GoogleSync
import JSON
import SetupLinks

/// `directory sync-now ID`: asks the hub serving this replica file to sync a Google
/// directory from Google at once, and waits for the outcome.
///
/// The hub does the sync (it holds the Google client and the refresh token, and its
/// webhook sender delivers the events); this command leaves a request in the file's local
/// settings, which the hub's poller picks up within a second, and reads back the result.
struct DirectorySyncNow: ConsoleCommand {
    /// `directory sync-now ID`.
    static let configuration = CommandConfiguration(
        "directory sync-now", section: .directories, arguments: [id],
        summary: "sync a Google directory from Google now (on the hub that holds its authorization)",
        example: "directory sync-now 6c1e")
    private static let id = Argument.required("ID", completes: .record(.directory))
    /// How long to wait for the hub's answer.
    static let wait: Duration = .seconds(120)

    private let id: String

    /// The id typed.
    init(_ input: ParsedCommand) { id = input[Self.id] }

    /// Requests the sync and prints what it did.
    func run(in session: ConsoleSession) throws {
        let d = try session.directory(id)
        let store = session.service.store
        guard d.type == .google else {
            throw ConsoleError.failed("directory \(d.name) (\(d.id)) is not a Google directory: SCIM directories get their changes from their identity provider")
        }
        guard !d.deactivated else { throw ConsoleError.failed("directory \(d.name) is inactive: activate it first (directory activate \(d.id))") }
        let state = try store.record(id: d.id).map(GoogleDirectoryState.init(record:))
        if state?.needsReauthorization == true {
            throw ConsoleError.failed("directory \(d.name) \(state!.summary)")
        }
        guard let holder = state?.holder, state?.authorizedBy != nil else {
            throw ConsoleError.failed("directory \(d.name) is not authorized yet: open its setup page on the hub and choose Authorize with Google")
        }
        guard holder == store.replicaID.hex, try GoogleCredentials.holds(store, d.id) else {
            throw ConsoleError.failed("this replica does not hold directory \(d.name)'s Google authorization: replica \(holder.prefix(12)) does;"
                                      + " run directory sync-now on that hub's replica file")
        }
        guard Self.isServed(store.path) else {
            throw ConsoleError.failed("no setuplink serve is running on \(store.path): the hub syncs Google directories;"
                                      + " start it (serve --google-client-id ID --google-client-secret-file FILE) and it syncs at once")
        }
        let asked = Date()
        try GoogleCredentials.requestSync(store, d.id, at: asked)
        if !session.json { session.say("Asked the hub to sync \(d.name) from Google…") }
        let deadline = ContinuousClock.now + Self.wait
        while ContinuousClock.now < deadline {
            if Interrupt.isPending { throw ConsoleError.failed("interrupted: the hub still syncs; see directory show \(d.id)") }
            if let last = try GoogleCredentials.lastSync(store, d.id), last.at.timeIntervalSince(asked) >= -0.001 {
                if session.json {
                    session.emit([("result", .string(last.ok ? "synced" : "failed")), ("id", .string(d.id)),
                                  ("summary", .string(last.summary))])
                } else if last.ok {
                    session.say("Synced \(d.name): \(last.summary).")
                }
                if !last.ok { throw ConsoleError.failed("the sync of \(d.name) failed: \(last.summary)") }
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ConsoleError.failed("the hub has not finished syncing \(d.name) after \(Self.wait.components.seconds) s; see directory show \(d.id) later")
    }

    /// Whether a `setuplink serve` holds its lock on the file (`ServeCommand.lockForServing`).
    static func isServed(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}
