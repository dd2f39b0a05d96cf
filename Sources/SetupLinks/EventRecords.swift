import Replica
import Storage

/// The layout of directory event records (kind `event`), declared here beside the other
/// record kinds so their index and rules install with the rest; `Events.EventLog` writes
/// and reads them.
///
/// Fields: `directory` (the directory id), `event` (`user.created`, …), `payload` (the
/// webhook body as sent, a JSON object), `created` (Unix milliseconds); once the
/// delivering hub logged the webhook: `status_code`, `delivered`, `webhook_endpoint`.
public enum EventRecords {
    public static let directoryField = "directory"
    public static let eventField = "event"
    public static let payloadField = "payload"
    public static let createdField = "created"
    public static let statusField = "status_code"
    public static let deliveredField = "delivered"
    public static let endpointField = "webhook_endpoint"

    /// A directory's events, in the order this replica stored them (`IndexCursor.row`).
    public static let index = IndexSpec(name: "event.directory", kind: .event, joining: [directoryField],
                                        missing: .noKeyIfEmpty, trailingSeparator: true)

    /// The largest payload a record may hold (the SCIM body limit is 1 MiB; an event adds
    /// the envelope and, for a membership, the group).
    public static let maxPayloadBytes = 4 * 1024 * 1024

    /// The event names.
    public static let names = ["user.created", "user.updated", "user.deleted", "group.created", "group.updated",
                               "group.deleted", "group.user_added", "group.user_removed"]

    /// The id of the `n`th event of the local transaction `dot`: its replica, counter and
    /// position as fixed-width hex (`<32>-<16>-<8>`). Unique (a dot is used once), and
    /// sorting by it sorts one replica's events in the order it made them.
    public static func id(_ dot: Dot, _ n: Int) -> String {
        func hex(_ v: UInt64, _ width: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return dot.replica.hex + "-" + hex(dot.counter, 16) + "-" + hex(UInt64(n), 8)
    }

    /// Whether `s` has the shape of an event id.
    public static func isID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 58, b[32] == UInt8(ascii: "-"), b[49] == UInt8(ascii: "-") else { return false }
        for (i, c) in b.enumerated() where i != 32 && i != 49 {
            guard (48...57).contains(c) || (97...102).contains(c) else { return false }
        }
        return true
    }
}
