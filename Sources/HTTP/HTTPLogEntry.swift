import Bytes
import Dates
import Foundation

/// One line of the server log: an answered request, or something the server
/// did on its own (a connection cut off at a deadline).
///
/// Never headers (they carry bearer tokens), never bodies, and the path as the
/// route allows it to be shown (`HTTPRoutes.loggedPath`).
public struct HTTPLogEntry: Sendable, CustomStringConvertible {
    /// What happened.
    public enum Event: Sendable {
        /// A request was answered.
        case request(method: String, path: String, status: Int, bytes: Int, milliseconds: Double)
        /// A connection was closed by the server, with the reason.
        case closed(reason: String)
    }

    /// When it happened (wall clock).
    public var time: Date
    /// The client's address and port.
    public var clientAddress: String
    /// What happened.
    public var event: Event
    /// The detail for operators (an internal error's cause), if any.
    public var note: String?

    /// Creates an entry.
    public init(time: Date = Date(), clientAddress: String, event: Event, note: String? = nil) {
        self.time = time
        self.clientAddress = clientAddress
        self.event = event
        self.note = note
    }

    /// The status of a request entry, else `nil`.
    public var status: Int? {
        if case let .request(_, _, status, _, _) = event { return status }
        return nil
    }

    /// `2026-12-01T20:39:01.123Z 127.0.0.1:53122 POST /sync/v1/pull 200 1234B 3.2ms`.
    ///
    /// Formatted by hand (no `String(format:)`): a busy server writes one per request.
    public var description: String {
        var line = Self.timestamp(time) + " " + clientAddress + " "
        switch event {
        case let .request(method, path, status, bytes, milliseconds):
            let tenths = Int((max(0, milliseconds) * 10).rounded())
            line += "\(method) \(path) \(status) \(bytes)B \(tenths / 10).\(tenths % 10)ms"
        case let .closed(reason):
            line += "closed: \(reason)"
        }
        if let note { line += " \(note)" }
        // One entry is one line, whatever a path or note contains, and no byte of it
        // acts on the terminal showing it (ESC, BEL, BS, NUL, U+0085, U+2028, …).
        return ControlEscaping.escape(line)
    }

    /// ISO 8601 UTC with milliseconds (`DateTime`, thread-safe); other lines of
    /// the server log (webhook attempts) use it too.
    public static func timestamp(_ date: Date) -> String { DateTime.format(date, .milliseconds) }
}
