import JSON

/// One operation of a PATCH request (RFC 7644 §3.5.2).
public struct PatchOperation: Sendable, Equatable {
    /// `add`, `remove` or `replace` (sent in any case: Entra ID writes `Replace`).
    public enum Op: String, Sendable {
        /// Add values or attributes.
        case add
        /// Remove values or attributes.
        case remove
        /// Replace values or attributes.
        case replace
    }

    /// What to do.
    public var op: Op
    /// Where; `nil` means "the attributes named in `value`" (add, replace).
    public var path: PatchPath?
    /// The value, `nil` when absent.
    public var value: JSONValue?

    /// An operation.
    public init(op: Op, path: PatchPath?, value: JSONValue?) {
        self.op = op
        self.path = path
        self.value = value
    }

    /// `urn:ietf:params:scim:api:messages:2.0:PatchOp`.
    public static let schema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

    /// The most operations one request may carry.
    public static let maxOperations = 10_000

    /// The operations of a PATCH request body, checked: `schemas` (when present), `Operations`,
    /// each `op`, each `path` (400 `invalidPath`), `value` where required,
    /// `path` for `remove` (400 `noTarget`).
    public static func parseRequest(_ body: JSONValue, for schema: ResourceSchema) throws(ScimError) -> [PatchOperation] {
        guard case .object = body else {
            throw ScimError.invalidSyntax("the PATCH body must be a JSON object, not \(body.typeName)")
        }
        try Normalizer.checkSchemas(body, required: Self.schema)
        guard let opsValue = body.member("Operations") else {
            throw ScimError.invalidSyntax("the PATCH body has no \"Operations\"")
        }
        guard case .array(let ops) = opsValue, !ops.isEmpty else {
            throw ScimError.invalidSyntax("\"Operations\" must be a non-empty array")
        }
        guard ops.count <= maxOperations else {
            throw ScimError.invalidSyntax("a PATCH may carry at most \(maxOperations) operations")
        }
        var out: [PatchOperation] = []
        out.reserveCapacity(ops.count)
        for (k, o) in ops.enumerated() {
            guard case .object = o else { throw ScimError.invalidSyntax("Operations[\(k)] must be an object") }
            guard let opName = o.member("op")?.stringValue, let op = Op(rawValue: opName.lowercased()) else {
                throw ScimError.invalidSyntax("Operations[\(k)].op must be \"add\", \"remove\" or \"replace\"")
            }
            var path: PatchPath?
            if let p = o.member("path"), p != .null {
                guard case .string(let text) = p else { throw ScimError.invalidPath("Operations[\(k)].path must be a string") }
                if !text.isEmpty { path = try PatchPath.parse(text, for: schema) }
            }
            let value = o.member("value")
            switch op {
            case .remove:
                guard path != nil else { throw ScimError.noTarget("Operations[\(k)]: remove needs a \"path\"") }
            case .add, .replace:
                guard let value, value != .null || path != nil else {
                    throw ScimError.invalidValue("Operations[\(k)]: \(op.rawValue) needs a \"value\"")
                }
                if path == nil {
                    guard case .object = value else {
                        throw ScimError.invalidValue("Operations[\(k)]: \(op.rawValue) without a path needs an object value")
                    }
                }
            }
            out.append(PatchOperation(op: op, path: path, value: value))
        }
        return out
    }
}

/// A change to a group's members that a PATCH (or PUT) asks for.
///
/// Members are separate records, never part of the group's attribute object,
/// so the engine describes member changes and the flow applies them to the
/// membership records (see `ScimGroupFlows`).
public enum MemberOp: Sendable, Equatable {
    /// Add these member objects (each has a string `value`).
    case add([JSONValue])
    /// Remove the members with these values.
    case remove([String])
    /// Remove the members that match this filter (over member objects).
    case removeMatching(ScimFilter)
    /// Remove every member.
    case removeAll
}
