import JSON

/// SCIM attribute names are case-insensitive (RFC 7643 §2.1): these helpers
/// read and edit JSON objects by name without case, keeping the spelling
/// already present.
extension JSONValue {
    /// The value of the member named `name`, compared without case (an exact match first).
    public func member(_ name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        if let exact = members.first(where: { $0.0 == name }) { return exact.1 }
        return members.first { sameName($0.0, name) }?.1
    }

    /// Whether the value counts as unassigned: `null`, an empty array or object, or absent (RFC 7643 §2.5).
    var isUnassigned: Bool {
        switch self {
        case .null: return true
        case .array(let a): return a.isEmpty
        case .object(let o): return o.isEmpty
        default: return false
        }
    }

    /// Whether the value is "present" for the `pr` filter operator: not null, not an empty string, array or object.
    var isPresentValue: Bool {
        switch self {
        case .null: return false
        case .string(let s): return !s.isEmpty
        case .array(let a): return a.contains { $0.isPresentValue }
        case .object(let o): return o.contains { $0.1.isPresentValue }
        default: return true
        }
    }

    /// A short name of the value's JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// An object's members, edited by name without case.
struct ObjectMembers {
    /// The members, in order.
    var members: [(String, JSONValue)]

    /// The members of `value` (none if it is not an object).
    init(_ value: JSONValue?) { members = value?.objectValue ?? [] }

    /// These members.
    init(members: [(String, JSONValue)]) { self.members = members }

    /// The position of the member named `name` (an exact match first, then without case).
    func index(of name: String) -> Int? {
        if let i = members.firstIndex(where: { $0.0 == name }) { return i }
        return members.firstIndex { sameName($0.0, name) }
    }

    /// The member named `name`; setting `nil` removes it, setting a new name appends it.
    subscript(name: String) -> JSONValue? {
        get { index(of: name).map { members[$0].1 } }
        set {
            if let i = index(of: name) {
                if let newValue { members[i] = (members[i].0, newValue) } else { members.remove(at: i) }
            } else if let newValue {
                members.append((name, newValue))
            }
        }
    }

    /// The object without the member `name`.
    func removing(_ name: String) -> JSONValue {
        var copy = self
        copy[name] = nil
        return copy.value
    }

    /// Sets `name`, or removes it when `value` is unassigned.
    mutating func set(_ name: String, _ value: JSONValue?) {
        if let value, !value.isUnassigned { self[name] = value } else { self[name] = nil }
    }

    /// The object.
    var value: JSONValue { .object(members) }
    /// Whether there are no members.
    var isEmpty: Bool { members.isEmpty }
}

/// Structural equality that ignores the order of object members (SCIM objects are unordered).
func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.object(x), .object(y)):
        guard x.count == y.count else { return false }
        for (k, v) in x {
            guard let w = y.first(where: { $0.0 == k })?.1, sameJSON(v, w) else { return false }
        }
        return true
    case let (.array(x), .array(y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameJSON($0, $1) }
    case let (.int(i), .double(d)), let (.double(d), .int(i)):
        return Double(i) == d
    default:
        return a == b
    }
}

/// Whether two names are equal without case, as `a.lowercased() == b.lowercased()`
/// says, without allocating when both are ASCII (attribute names, URNs and object
/// keys nearly always are: these comparisons run for every member looked up).
func sameName(_ a: String, _ b: String) -> Bool {
    // Native strings are contiguous UTF-8: compare the bytes directly.
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in sameASCIIName(x, y) }
    }
    switch fast {
    case .some(.some(.some(let same))): return same
    // Beyond ASCII (or a string without contiguous storage), Unicode case mapping decides.
    default: return a.lowercased() == b.lowercased()
    }
}

/// Whether two UTF-8 names are equal without ASCII case; `nil` when either is not ASCII.
@inline(__always)
private func sameASCIIName(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool? {
    @inline(__always) func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
    if x.count == y.count {
        var differs = false
        for i in 0..<x.count {
            let p = x[i], q = y[i]
            if p >= 0x80 || q >= 0x80 { return nil }
            if lower(p) != lower(q) { differs = true }
        }
        return !differs
    }
    // Lengths differ: ASCII strings then differ; others may not (case mapping can change a length).
    for c in x where c >= 0x80 { return nil }
    for c in y where c >= 0x80 { return nil }
    return false
}
