/// A parsed JSON document, or a value to be written as JSON.
///
/// Objects keep their members in document order as an array of key/value
/// pairs; duplicate keys are preserved as they appear. Equality is structural
/// and order-sensitive: two objects are equal only if they have the same
/// members in the same order. `.int(1)` and `.double(1)` are different values.
public enum JSONValue: Sendable, Equatable {
    /// The JSON literal `null`.
    case null
    /// The JSON literals `true` and `false`.
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int64`.
    case int(Int64)
    /// Any other number: one with a fraction or exponent, or an integer too
    /// large for `Int64`. Always finite when produced by the parser.
    case double(Double)
    /// A string, with escapes decoded.
    case string(String)
    /// An array of values.
    case array([JSONValue])
    /// An object, as its members in document order.
    case object([(String, JSONValue)])

    /// Structural, order-sensitive equality.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case let (.bool(a), .bool(b)):
            return a == b
        case let (.int(a), .int(b)):
            return a == b
        case let (.double(a), .double(b)):
            return a == b
        case let (.string(a), .string(b)):
            return a == b
        case let (.array(a), .array(b)):
            return a == b
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            for index in a.indices where a[index].0 != b[index].0 || a[index].1 != b[index].1 {
                return false
            }
            return true
        default:
            return false
        }
    }

    /// The value of the first member named `key`, or `nil` if there is none or
    /// this is not an object. Searches linearly.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (name, value) in members where name == key {
            return value
        }
        return nil
    }

    /// The string, if this is `.string`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is `.int`.
    public var int64Value: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The integer, if this is a non-negative `.int`.
    public var uint64Value: UInt64? {
        if case .int(let i) = self, i >= 0 { return UInt64(i) }
        return nil
    }

    /// The number as a `Double`, if this is `.double` or `.int` (which may round).
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// The Boolean, if this is `.bool`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is `.array`.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members in document order, if this is `.object`.
    public var objectValue: [(String, JSONValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value written as compact JSON.
    public var description: String {
        String(decoding: JSONWriter.write(self), as: UTF8.self)
    }
}
