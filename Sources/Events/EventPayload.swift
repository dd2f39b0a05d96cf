import JSON

/// The body of a webhook request (Webhooks.docc/ReceivingWebhooks.md): one event, or with batching an
/// array of events, in `JSON.stringify` form (see `EventJSON`).
public enum EventPayload {
    /// One event: `{"event","tenant","product","directory_id","data"}`.
    public static func event(_ type: String, tenant: String, product: String, directoryID: String,
                             data: JSONValue) -> [UInt8] {
        EventJSON.write(.object([
            ("event", .string(type)),
            ("tenant", .string(tenant)),
            ("product", .string(product)),
            ("directory_id", .string(directoryID)),
            ("data", data),
        ]))
    }

    /// A batch: the events' bodies as one JSON array, in order (each body is
    /// already in `JSON.stringify` form, so the array is too).
    public static func batch(_ bodies: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(bodies.reduce(2) { $0 + $1.count + 1 })
        for (i, b) in bodies.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += b
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
