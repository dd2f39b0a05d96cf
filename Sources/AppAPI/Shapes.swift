import Dates
import Events
import Foundation
import JSON
import SetupLinks

/// The objects the app API answers, in Jackson's shapes (its `SetupLink`, `Directory`,
/// `User`, `Group` and `WebhookEventLog` types), member order included.
enum Shapes {
    /// Jackson's dsync setup link: `setupID`, `tenant`, `product`, `service`, `name` (only
    /// when it has one), `validTill` (Unix milliseconds, a number), `url`, `webhook_url`,
    /// `webhook_secret`.
    static func link(_ l: SetupLink, externalURL: String) -> JSONValue {
        var m: [(String, JSONValue)] = [
            ("setupID", .string(l.id)), ("tenant", .string(l.tenant)), ("product", .string(l.product)),
            ("service", .string("dsync")),
        ]
        if let name = l.name { m.append(("name", .string(name))) }
        m += [
            ("validTill", .int(Int64((l.validTill.timeIntervalSince1970 * 1000).rounded()))),
            ("url", .string(l.url(externalURL: externalURL))),
            ("webhook_url", .string(l.webhookURL)), ("webhook_secret", .string(l.webhookSecret)),
        ]
        return .object(m)
    }

    /// Jackson's directory: `id`, `name`, `tenant`, `product`, `type`, `log_webhook_events`,
    /// `webhook` {`endpoint`, `secret`}, `scim` {`path`, `secret`, `endpoint`}, `deactivated`.
    /// As in Jackson, an Entra ID directory's `scim.path` carries `/?aadOptscim062020`, and a
    /// Google directory has an empty `scim.path` and `scim.secret` and no `scim.endpoint`.
    static func directory(_ d: Directory, externalURL: String) -> JSONValue {
        var scim: [(String, JSONValue)] = [
            ("path", .string(d.type.usesSCIM ? d.scimPath + (d.type == .azure ? "/?aadOptscim062020" : "") : "")),
            ("secret", .string(d.scimToken)),
        ]
        if d.type.usesSCIM { scim.append(("endpoint", .string(d.scimEndpoint(externalURL: externalURL)))) }
        return .object([
            ("id", .string(d.id)), ("name", .string(d.name)), ("tenant", .string(d.tenant)), ("product", .string(d.product)),
            ("type", .string(d.type.rawValue)), ("log_webhook_events", .bool(d.logWebhookEvents)),
            ("webhook", .object([("endpoint", .string(d.webhookURL)), ("secret", .string(d.webhookSecret))])),
            ("scim", .object(scim)),
            ("deactivated", .bool(d.deactivated)),
        ])
    }

    /// A user: the `data` of its webhook events (`id`, `email`, `first_name`, `last_name`,
    /// `active`, `roles` when it has some, `raw`), then `directoryId`.
    static func user(data: JSONValue, directory: String) -> JSONValue {
        guard case .object(var m) = data else { return data }
        m.append(("directoryId", .string(directory)))
        return .object(m)
    }

    /// An event as Jackson's event log lists it: `id`, `payload` (the webhook body), then,
    /// once the delivering hub logged the webhook, `webhook_endpoint`, `status_code`,
    /// `delivered`; and `created_at` (ISO 8601 with milliseconds).
    static func writeEvent(_ e: LoggedEvent, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id")
        w.string(e.id)
        w.key("payload")
        w.raw(e.payload)
        if let endpoint = e.webhookEndpoint {
            w.key("webhook_endpoint")
            w.string(endpoint)
        }
        w.key("created_at")
        w.string(DateTime.format(milliseconds: Int64(clamping: e.created)))
        if let status = e.statusCode {
            w.key("status_code")
            w.int(Int64(status))
        }
        if let delivered = e.delivered {
            w.key("delivered")
            w.bool(delivered)
        }
        w.endObject()
    }

    /// An event as the change feed hands it out: `id`, the webhook body's members (`event`,
    /// `tenant`, `product`, `directory_id`, `data`), `created_at`.
    static func writeFeedItem(_ e: LoggedEvent, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id")
        w.string(e.id)
        w.rawMembers(of: e.payload)
        w.key("created_at")
        w.string(DateTime.format(milliseconds: Int64(clamping: e.created)))
        w.endObject()
    }
}
