import Events
import Foundation
import HTTP
import SetupLinks
import Storage

extension WebhookDelivery {
    /// The header naming the events a request carries, so a receiver can drop
    /// one it already has (delivery is at least once):
    /// `<replica id>:<seq>[,<seq>…]`, unique across hubs.
    public static let eventIDsHeader = "X-Setuplink-Event-Ids"

    /// What an attempt came to.
    enum Outcome {
        /// The receiver answered 2xx.
        case delivered(status: Int)
        /// Anything else: the HTTP status if there was one, and why, in one line.
        case failed(status: Int?, reason: String)
        /// Cut off by `stop()`: not an attempt, the events stay as they were.
        case interrupted
    }

    /// One request carrying `events` (the head of `directory`'s queue, and with
    /// batching the ones after it). The directory is read now, not when the
    /// events were enqueued: its current webhook URL and secret are used, and a
    /// directory deactivated or deleted meanwhile drops its waiting events.
    /// - Returns: Whether the events were delivered (the queue may go on).
    func attempt(directory: String, _ events: [OutboxEvent]) -> Bool {
        guard let head = events.first else { return false }
        let seqs = events.map(\.seq)
        let t = now()
        let current: Directory?
        do {
            current = try store.record(id: directory).flatMap { $0.isLive ? Directory(record: $0) : nil }
        } catch {
            log?("webhooks: cannot read directory \(directory): \(error)")
            return false
        }
        guard let d = current, !d.deactivated else {
            // Decided: a deactivated directory emits nothing, not even what was
            // waiting when it was deactivated (as Jackson drops them); a deleted
            // one has no webhook left to send to. Kept, as `dropped`, for the log.
            let reason = current == nil ? "not sent: the directory was deleted" : "not sent: the directory is deactivated"
            do {
                let n = try store.outbox.finishPending(directory: directory, from: head.seq, status: .dropped, reason: reason, at: t)
                log?("webhooks: directory \(directory): dropped \(n) waiting event(s) (\(reason.dropFirst(10)))")
            } catch {
                log?("webhooks: cannot drop the events of directory \(directory): \(error)")
            }
            return false
        }

        let outcome: Outcome
        let started = ContinuousClock.now
        if d.webhookURL.isEmpty {
            outcome = .failed(status: nil, reason: "the directory has no webhook URL (set one with link update --webhook-url)")
        } else if d.webhookSecret.isEmpty {
            outcome = .failed(status: nil, reason: "the directory has no webhook secret (set one with link update --webhook-secret)")
        } else {
            attemptStarted(directory)
            outcome = send(events, to: d, at: t)
            if case .delivered = outcome { attemptEnded(directory, delivered: true) } else { attemptEnded(directory, delivered: false) }
        }
        let ms = Int((ContinuousClock.now - started) / .milliseconds(1))
        if d.logWebhookEvents { logOutcome(outcome, of: events, to: d) }
        let what = "directory \(d.id) \(events.count == 1 ? head.event : "\(events.count) events") (seq \(head.seq)"
            + (events.count > 1 ? "…\(events.last!.seq))" : ")")

        do {
            switch outcome {
            case .delivered(let status):
                try store.outbox.recordDelivered(seqs, status: status, at: t)
                log?("webhook \(what): delivered, HTTP \(status) in \(ms) ms")
                return true
            case .interrupted:
                log?("webhook \(what): cut off by the stop; it stays pending")
                return false
            case let .failed(status, reason):
                let failures = head.attempts + 1
                let age = t >= head.created ? t - head.created : 0
                if age >= WebhookConfiguration.milliseconds(configuration.giveUpAfter) {
                    try store.outbox.recordGivenUp(seqs, status: status, error: "given up after \(failures) attempts: \(reason)", at: t)
                    log?("webhook \(what): failed (\(reason)); given up after \(failures) attempts")
                    return true
                }
                var random = SystemRandomNumberGenerator()
                let delay = configuration.retryDelay(afterFailures: failures, using: &random)
                let next = t + WebhookConfiguration.milliseconds(delay)
                try store.outbox.recordFailedAttempt(seqs, status: status, error: reason, at: t, nextAttempt: next)
                log?("webhook \(what): attempt \(failures) failed (\(reason)); next in \(Self.seconds(delay))")
                return false
            }
        } catch {
            log?("webhooks: cannot record the attempt for \(what): \(error)")
            return false
        }
    }

    /// Writes an attempt's outcome into the events' records (the directory logs webhook
    /// events: Jackson's `log_webhook_events`), so every hub's event list shows it.
    private func logOutcome(_ outcome: Outcome, of events: [OutboxEvent], to d: Directory) {
        let (status, delivered): (Int?, Bool)
        switch outcome {
        case .delivered(let s): (status, delivered) = (s, true)
        case .failed(let s, _): (status, delivered) = (s, false)
        case .interrupted: return
        }
        let ids = events.compactMap(\.eventID)
        guard !ids.isEmpty else { return }
        do {
            try store.write { tx in
                for id in ids { try EventLog.recordDelivery(eventID: id, status: status, delivered: delivered, endpoint: d.webhookURL, in: tx) }
            }
        } catch {
            log?("webhooks: cannot log the outcome in the events of directory \(d.id): \(error)")
        }
    }

    /// Signs and posts the events; never throws.
    private func send(_ events: [OutboxEvent], to d: Directory, at t: UInt64) -> Outcome {
        let body = configuration.batchSize == nil ? events[0].body : EventPayload.batch(events.map(\.body))
        let headers = [
            "Content-Type": "application/json",
            WebhookSignature.header: WebhookSignature.value(secret: d.webhookSecret, timestamp: t, body: body),
            "User-Agent": "setuplink-webhooks",
            Self.eventIDsHeader: store.replicaID.hex + ":" + events.map { String($0.seq) }.joined(separator: ","),
        ]
        var client = HTTPClient(connectTimeout: configuration.connectTimeout, timeout: configuration.timeout,
                                maxResponseBytes: configuration.maxResponseBytes)
        // Jackson's senders never wait for 100 Continue, and receivers need not answer it.
        client.expectContinue = false
        // Lets `stop()` cut a request short instead of waiting out its timeout.
        client.monitor = { [weak self] _ in !(self?.isStopping ?? true) }
        do {
            let r = try client.send(method: "POST", url: d.webhookURL, headers: headers, body: body)
            switch r.status {
            case 200..<300:
                return .delivered(status: r.status)
            case 300..<400:
                let location = r.headers["location"].map { " to \(Self.excerpt(Array($0.utf8), limit: 200))" } ?? ""
                return .failed(status: r.status, reason: "HTTP \(r.status): redirect\(location) not followed (events go to the webhook URL only)")
            default:
                let text = Self.excerpt(r.body, limit: 200)
                return .failed(status: r.status, reason: "HTTP \(r.status)" + (text.isEmpty ? "" : ": \(text)"))
            }
        } catch {
            if case .cancelled = error, isStopping { return .interrupted }
            return .failed(status: nil, reason: error.reason)
        }
    }

    /// The start of a receiver's text as one printable line.
    static func excerpt(_ bytes: [UInt8], limit: Int) -> String {
        var s = String(decoding: bytes.prefix(limit * 4), as: UTF8.self)
        s = String(s.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        s = s.trimmingCharacters(in: .whitespaces)
        return s.count > limit ? String(s.prefix(limit)) + "…" : s
    }

    /// `1.5 s`, `600 s`.
    static func seconds(_ d: Duration) -> String {
        let ms = WebhookConfiguration.milliseconds(d)
        return ms % 1000 == 0 ? "\(ms / 1000) s" : String(format: "%.1f s", Double(ms) / 1000)
    }
}
