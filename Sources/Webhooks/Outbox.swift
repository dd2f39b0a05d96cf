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
/// (The events themselves are also replicated records, `EventLog`: the outbox
/// entry names its record, so the sender can log the delivery in it.)
public enum Outbox {
    /// Writes `events` (already logged by `EventLog`) to the outbox in `tx`.
    ///
    /// A directory without a webhook (one made through the app API without
    /// `webhook_url`) enqueues nothing: its events are in the change feed only. The
    /// webhook URL and secret are read when an event is sent, so a changed webhook
    /// gets the events still waiting.
    /// - Returns: How many events were enqueued.
    @discardableResult
    public static func enqueue(_ events: [LoggedEvent], in tx: LocalTransaction) throws -> Int {
        var hooked: [String: Bool] = [:]
        var enqueued = 0
        for e in events {
            let has: Bool
            if let known = hooked[e.directory] {
                has = known
            } else {
                has = try tx.record(e.directory).flatMap { Directory(record: $0) }.map { !$0.webhookURL.isEmpty } ?? false
                hooked[e.directory] = has
            }
            guard has else { continue }
            try tx.enqueueEvent(directory: e.directory, event: e.name, body: e.payload, eventID: e.id)
            enqueued += 1
        }
        return enqueued
    }

    /// What the logged events go to: the outbox (see `enqueue`), then a wake-up of
    /// `delivery`, whose senders find the events once the transaction commits.
    public static func consumer(waking delivery: WebhookDelivery?) -> LoggedEventSink {
        { tx, events in
            guard try enqueue(events, in: tx) > 0 else { return }
            var woken = Set<String>()
            for e in events where woken.insert(e.directory).inserted { delivery?.wake(directory: e.directory) }
        }
    }

    /// A sink for `ScimRoutes`: each change's events are logged as records (`EventLog`),
    /// then enqueued and `delivery` woken.
    public static func sink(waking delivery: WebhookDelivery?) -> DirectoryEventSink {
        EventLog.sink(then: [consumer(waking: delivery)])
    }
}

extension Outbox {
    /// Logs `events` (`EventLog.append`) and enqueues them, in `tx`.
    /// - Returns: How many events were enqueued.
    @discardableResult
    public static func enqueue(_ events: [DirectoryEvent], in tx: LocalTransaction) throws -> Int {
        try enqueue(EventLog.append(events, in: tx), in: tx)
    }
}
