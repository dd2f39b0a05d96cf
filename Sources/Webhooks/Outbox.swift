import JSON
import Replica
import Scim
import SetupLinks
import Storage

/// Writes the events of accepted SCIM changes to the replica's webhook outbox,
/// inside the change's own transaction.
///
/// The outbox is a local table of the replica file (`LocalTransaction.enqueueEvent`),
/// so a change and its events commit together or not at all, survive `kill -9`
/// together, and are never synced: a replica that receives the change from a
/// peer has no outbox entry for it, and each event leaves from exactly one hub.
public enum Outbox {
    /// The type of `ScimRoutes`' event sink: called in the change's transaction
    /// with the directory and the change's events; throwing rolls the change back.
    public typealias Sink = @Sendable (_ tx: LocalTransaction, _ directory: Directory, _ events: [ScimEvent]) throws -> Void

    /// Writes `events` of `directory` to the outbox in `tx`, as SPEC §6 payloads.
    ///
    /// The directory is read again inside the transaction: a directory that is
    /// deleted or deactivated (whatever the caller saw) enqueues nothing, since a
    /// deactivated directory emits nothing. `tenant`, `product` and
    /// `directory_id` come from the directory; the webhook URL and secret do
    /// not (they are read when the event is sent, so a changed webhook gets the
    /// events still waiting).
    /// - Returns: How many events were enqueued.
    @discardableResult
    public static func enqueue(_ events: [ScimEvent], of directory: Directory, in tx: LocalTransaction) throws -> Int {
        guard !events.isEmpty else { return 0 }
        guard let r = try tx.record(directory.id), let current = Directory.eventScope(of: r) else { return 0 }
        for e in events {
            let body = WebhookPayload.event(e.type, tenant: current.tenant, product: current.product,
                                            directoryID: directory.id, data: e.data)
            try tx.enqueueEvent(directory: directory.id, event: e.type, body: body)
        }
        return events.count
    }

    /// A sink for `ScimRoutes` that enqueues (see `enqueue`) and then wakes
    /// `delivery`, whose senders find the events once the transaction commits.
    public static func sink(waking delivery: WebhookDelivery?) -> Sink {
        { tx, directory, events in
            if try enqueue(events, of: directory, in: tx) > 0 { delivery?.wake(directory: directory.id) }
        }
    }
}
