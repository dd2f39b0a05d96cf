import Events
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
    /// Writes `events` to the outbox in `tx`, as webhook payloads (Webhooks.docc/ReceivingWebhooks.md).
    ///
    /// Each event's directory is read again inside the transaction: a directory
    /// that is deleted or deactivated (whatever the caller saw) enqueues nothing,
    /// since a deactivated directory emits nothing. `tenant`, `product` and
    /// `directory_id` come from the directory; the webhook URL and secret do
    /// not (they are read when the event is sent, so a changed webhook gets the
    /// events still waiting).
    /// - Returns: How many events were enqueued.
    @discardableResult
    public static func enqueue(_ events: [DirectoryEvent], in tx: LocalTransaction) throws -> Int {
        // A change's events are all of one directory: it is read once.
        var scopes: [String: (tenant: String, product: String)?] = [:]
        var enqueued = 0
        for e in events {
            let scope: (tenant: String, product: String)?
            if let known = scopes[e.directory] {
                scope = known
            } else {
                scope = try tx.record(e.directory).flatMap { Directory.eventScope(of: $0) }
                scopes[e.directory] = scope
            }
            guard let scope else { continue }
            let body = WebhookPayload.event(e.name, tenant: scope.tenant, product: scope.product,
                                            directoryID: e.directory, data: e.data)
            try tx.enqueueEvent(directory: e.directory, event: e.name, body: body)
            enqueued += 1
        }
        return enqueued
    }

    /// A sink for `ScimRoutes` that enqueues (see `enqueue`) and then wakes
    /// `delivery`, whose senders find the events once the transaction commits.
    public static func sink(waking delivery: WebhookDelivery?) -> DirectoryEventSink {
        { tx, events in
            guard try enqueue(events, in: tx) > 0 else { return }
            var woken = Set<String>()
            for e in events where woken.insert(e.directory).inserted { delivery?.wake(directory: e.directory) }
        }
    }
}
