import JSON

/// Writes event bodies exactly as JavaScript's `JSON.stringify` writes the
/// value `JSON.parse` reads from them, so `JSON.stringify(JSON.parse(body))`
/// gives back the very bytes that were signed.
///
/// Why: Jackson signs `JSON.stringify(payload)`, and receivers written for
/// its events (its own example app among them) verify
/// `HMAC(secret, t + "." + JSON.stringify(req.body))` over the body their
/// framework parsed, not over the raw bytes. A body in any other form (a
/// space, a `1.0`, keys in another order) would fail their check although the
/// signature is right. What differs from plain compact JSON:
/// - numbers as JavaScript prints them: `100` for 100.0, `1e-7`, `1e+21`, and
///   integers beyond 2^53 as the double JavaScript would read (`2^63` is
///   `9223372036854776000`);
/// - object members in JavaScript's property order: keys that are array
///   indices ("0" … "4294967294") first, ascending, then the others in
///   document order; a repeated key keeps its first place and its last value;
/// - strings as JSONWriter escapes them, which is what `JSON.stringify` does
///   (`"`, `\`, and control characters; nothing else, not even `/`).
public enum EventJSON {
    /// The bytes of `value` in `JSON.stringify` form.
    public static func write(_ value: JSONValue) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        write(value, into: &w)
        return w.bytes
    }

    /// Appends `value` to a writer, in `JSON.stringify` form.
    public static func write(_ value: JSONValue, into w: inout JSONWriter) {
        switch value {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .int(let i): w.raw(Array(number(i).utf8))
        case .double(let d): w.raw(Array(number(d).utf8))
        case .string(let s): w.string(s)
        case .array(let elements):
            w.beginArray()
            for e in elements { write(e, into: &w) }
            w.endArray()
        case .object(let members):
            w.beginObject()
            for (k, v) in propertyOrder(members) {
                w.key(k)
                write(v, into: &w)
            }
            w.endObject()
        }
    }

    /// The members as a JavaScript object holds them: array-index keys first in
    /// numeric order, then the rest in insertion order; duplicates merged.
    static func propertyOrder(_ members: [(String, JSONValue)]) -> [(String, JSONValue)] {
        guard needsReordering(members) else { return members }
        var order: [String] = []
        var values: [String: JSONValue] = [:]
        for (k, v) in members {
            if values[k] == nil { order.append(k) }
            values[k] = v
        }
        let indices = order.compactMap { k in arrayIndex(k).map { (k, $0) } }.sorted { $0.1 < $1.1 }.map(\.0)
        let names = order.filter { arrayIndex($0) == nil }
        return (indices + names).map { ($0, values[$0]!) }
    }

    /// Whether any key is an array index or repeats (rare: most objects pass as they are).
    static func needsReordering(_ members: [(String, JSONValue)]) -> Bool {
        if members.contains(where: { arrayIndex($0.0) != nil }) { return true }
        // Small objects (nearly all of them) are checked pairwise, without allocating a set.
        if members.count <= 16 {
            for i in members.indices {
                for j in members.index(after: i)..<members.endIndex where members[i].0 == members[j].0 { return true }
            }
            return false
        }
        var seen = Set<String>()
        return members.contains { !seen.insert($0.0).inserted }
    }

    /// The value of `key` as an array index (a canonical decimal below 2^32 − 1), else `nil`.
    static func arrayIndex(_ key: String) -> UInt32? {
        let u = key.utf8
        guard let first = u.first, first >= 0x30, first <= 0x39, u.count <= 10 else { return nil }
        if first == 0x30 { return u.count == 1 ? 0 : nil }
        var n: UInt64 = 0
        for c in u {
            guard c >= 0x30, c <= 0x39 else { return nil }
            n = n * 10 + UInt64(c - 0x30)
        }
        return n < 4_294_967_295 ? UInt32(n) : nil
    }

    /// An integer as JavaScript prints the number it reads: exact up to 2^53,
    /// else the nearest double.
    static func number(_ i: Int64) -> String {
        if i.magnitude <= 1 << 53 { return String(i) }
        return number(Double(i))
    }

    /// A double as JavaScript's `Number.prototype.toString` prints it (ECMA-262
    /// Number::toString): the shortest digits that read back the same, placed
    /// by the decimal exponent. Non-finite values are `null`, as `JSON.stringify` writes them.
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == 0 { return "0" }
        if d < 0 { return "-" + number(-d) }
        // Swift's description holds the shortest round-tripping digits too,
        // in its own layout ("100.0", "1e-07", "1.5e+300"): take them apart.
        let text = d.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var point = 0
        if let dot = mantissa.firstIndex(of: ".") {
            digits = String(mantissa[..<dot]) + String(mantissa[mantissa.index(after: dot)...])
            point = mantissa.distance(from: mantissa.startIndex, to: dot)
        } else {
            digits = String(mantissa)
            point = digits.count
        }
        // value = 0.digits × 10^n
        var n = point + exponent
        while digits.hasPrefix("0") {
            digits.removeFirst()
            n -= 1
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        let k = digits.count
        if k <= n && n <= 21 { return digits + String(repeating: "0", count: n - k) }
        if 0 < n && n <= 21 {
            let i = digits.index(digits.startIndex, offsetBy: n)
            return String(digits[..<i]) + "." + String(digits[i...])
        }
        if -6 < n && n <= 0 { return "0." + String(repeating: "0", count: -n) + digits }
        let e = n - 1
        let sign = e < 0 ? "-" : "+"
        let head = String(digits.prefix(1))
        let tail = k > 1 ? "." + String(digits.dropFirst()) : ""
        return head + tail + "e" + sign + String(e.magnitude)
    }
}
