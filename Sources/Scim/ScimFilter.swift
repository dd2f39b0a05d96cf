import Dates
import JSON
import SetupLinks

/// A comparison operator of RFC 7644 §3.4.2.2 (`pr` is `ScimFilter.present`).
public enum ScimFilterOperator: String, Sendable, CaseIterable {
    /// Equal.
    case eq
    /// Not equal.
    case ne
    /// Contains (strings).
    case co
    /// Starts with (strings).
    case sw
    /// Ends with (strings).
    case ew
    /// Greater than.
    case gt
    /// Greater than or equal.
    case ge
    /// Less than.
    case lt
    /// Less than or equal.
    case le
}

/// A parsed, type-checked SCIM filter (RFC 7644 §3.4.2.2) over one resource type.
///
/// Build one with `ScimFilter.parse(_:for:)`: attribute names are resolved
/// against the schema (case-insensitively), each comparison is checked against
/// the attribute's type, and every problem is a 400 `invalidFilter`. Evaluate
/// with `matches(_:)`; ask `indexHints` which index lookups can answer it.
public indirect enum ScimFilter: Sendable, Equatable {
    /// `attrPath op value`. The literal is already converted to the attribute's type
    /// (a boolean for boolean attributes, a number, a string, or `null`).
    case compare(AttributePath, ScimFilterOperator, JSONValue)
    /// `attrPath pr`.
    case present(AttributePath)
    /// Every term matches.
    case and([ScimFilter])
    /// Some term matches.
    case or([ScimFilter])
    /// The term does not match.
    case not(ScimFilter)
    /// `attrPath[filter]`: some element of the (multi-valued complex) attribute
    /// matches the inner filter, whose paths name the element's sub-attributes.
    case valuePath(AttributePath, ScimFilter)

    /// The longest filter accepted, in UTF-8 bytes (a filter is attacker input).
    public static let maxLength = 16_384
    /// The deepest nesting of parentheses, `not` and value paths accepted.
    public static let maxDepth = 32
    /// The most comparisons one filter may hold.
    public static let maxTerms = 256

    /// Parses and type-checks `text` for resources of `schema`.
    public static func parse(_ text: String, for schema: ResourceSchema) throws(ScimError) -> ScimFilter {
        var p = try FilterParser(text, schema: schema, errorKind: .invalidFilter)
        return try p.parseWholeFilter()
    }

    // MARK: Evaluation

    /// Whether `resource` (a SCIM resource as JSON, with canonical member names) matches.
    public func matches(_ resource: JSONValue) -> Bool {
        switch self {
        case .compare(let path, let op, let literal):
            return Self.compare(path.values(in: resource), op, literal, path.leaf)
        case .present(let path):
            return path.values(in: resource).contains { $0.isPresentValue }
        case .and(let terms):
            return terms.allSatisfy { $0.matches(resource) }
        case .or(let terms):
            return terms.contains { $0.matches(resource) }
        case .not(let inner):
            return !inner.matches(resource)
        case .valuePath(let path, let inner):
            return path.values(in: resource).contains { inner.matches($0) }
        }
    }

    /// Whether the filter reads the attribute `name` (a core attribute, compared without case),
    /// so a caller knows to materialize it (e.g. a group's `members`) before evaluating.
    public func mentions(_ name: String) -> Bool {
        let folded = name.lowercased()
        switch self {
        case .compare(let p, _, _), .present(let p):
            return p.extensionURN == nil && p.attribute?.lowercased() == folded
        case .valuePath(let p, _):
            return p.extensionURN == nil && p.attribute?.lowercased() == folded
        case .and(let t), .or(let t):
            return t.contains { $0.mentions(name) }
        case .not(let inner):
            return inner.mentions(name)
        }
    }

    /// Whether `values` (an attribute's values) satisfy `op literal` for an attribute defined by `def`.
    static func compare(_ values: [JSONValue], _ op: ScimFilterOperator, _ literal: JSONValue,
                        _ def: AttributeDefinition?) -> Bool {
        if case .null = literal {
            // `eq null` asks for an unassigned attribute, `ne null` for an assigned one.
            let assigned = values.contains { $0.isPresentValue }
            return op == .eq ? !assigned : assigned
        }
        if op == .ne { return !values.contains { satisfies($0, .eq, literal, def) } }
        return values.contains { satisfies($0, op, literal, def) }
    }

    private static func satisfies(_ value: JSONValue, _ op: ScimFilterOperator, _ literal: JSONValue,
                                  _ def: AttributeDefinition?) -> Bool {
        switch def?.type ?? .string {
        case .boolean:
            guard let a = booleanValue(value), case .bool(let b) = literal else { return false }
            return op == .eq && a == b
        case .integer, .decimal:
            return ordered(numberOrder(value, literal), op)
        case .dateTime:
            guard case .string(let s) = value, let a = DateTime.milliseconds(s),
                  case .string(let l) = literal, let b = DateTime.milliseconds(l) else { return false }
            return ordered(a < b ? -1 : (a == b ? 0 : 1), op)
        case .string, .reference, .binary, .complex:
            guard case .string(var a) = value, case .string(var b) = literal else { return false }
            if !(def?.caseExact ?? false) {
                a = ScimKeys.fold(a)
                b = ScimKeys.fold(b)
            }
            switch op {
            case .eq: return a == b
            case .ne: return a != b
            case .co: return b.isEmpty || a.contains(b)
            case .sw: return a.hasPrefix(b)
            case .ew: return a.hasSuffix(b)
            case .gt: return a > b
            case .ge: return a >= b
            case .lt: return a < b
            case .le: return a <= b
            }
        }
    }

    private static func booleanValue(_ v: JSONValue) -> Bool? {
        switch v {
        case .bool(let b): return b
        case .string(let s): return Normalizer.booleanString(s)
        default: return nil
        }
    }

    /// -1, 0, 1 comparing two JSON numbers, `nil` if either is not a number.
    private static func numberOrder(_ a: JSONValue, _ b: JSONValue) -> Int? {
        if case .int(let x) = a, case .int(let y) = b { return x < y ? -1 : (x == y ? 0 : 1) }
        guard let x = a.doubleValue, let y = b.doubleValue else { return nil }
        return x < y ? -1 : (x == y ? 0 : 1)
    }

    private static func ordered(_ order: Int?, _ op: ScimFilterOperator) -> Bool {
        guard let order else { return false }
        switch op {
        case .eq: return order == 0
        case .ne: return order != 0
        case .gt: return order > 0
        case .ge: return order >= 0
        case .lt: return order < 0
        case .le: return order <= 0
        case .co, .sw, .ew: return false
        }
    }
}

/// An exact index lookup that finds every resource a filter can match (or more).
public enum ScimIndexHint: Sendable, Equatable, Hashable {
    /// The resource with this id.
    case id(String)
    /// Users whose folded `userName` is this (see `ScimKeys.fold`).
    case userName(String)
    /// Resources whose `externalId` is exactly this.
    case externalId(String)
    /// Groups whose folded `displayName` is this.
    case displayName(String)
    /// Groups that have a member with this `value`.
    case member(String)
}

extension ScimFilter {
    /// Index lookups whose union holds every resource the filter can match, or
    /// `nil` when the filter needs a scan.
    ///
    /// Recognized: `id eq`, `externalId eq`, `userName eq` (users), `displayName eq`
    /// (groups), `members[value eq …]` and `members.value eq` (groups); under
    /// `and` the first such term is used, under `or` every branch must have one.
    /// The caller still evaluates the whole filter on each candidate.
    public func indexHints(for schema: ResourceSchema) -> [ScimIndexHint]? {
        switch self {
        case .compare(let path, .eq, .string(let v)) where path.extensionURN == nil:
            switch (path.attribute, path.subAttribute) {
            case ("id", nil): return [.id(v)]
            case ("externalId", nil): return [.externalId(v)]
            case ("userName", nil) where schema.name == "User": return [.userName(ScimKeys.fold(v))]
            case ("displayName", nil) where schema.name == "Group": return [.displayName(ScimKeys.fold(v))]
            case ("members", "value") where schema.name == "Group": return [.member(v)]
            default: return nil
            }
        case .valuePath(let path, let inner) where path.extensionURN == nil && path.attribute == "members"
            && schema.name == "Group":
            return inner.memberValueHints()
        case .and(let terms):
            // The most selective lookup first: an id, then unique keys, then the rest.
            let plans = terms.compactMap { $0.indexHints(for: schema) }
            return plans.min { rank($0) < rank($1) }
        case .or(let terms):
            var out: [ScimIndexHint] = []
            for t in terms {
                guard let h = t.indexHints(for: schema) else { return nil }
                for x in h where !out.contains(x) { out.append(x) }
            }
            return out
        default:
            return nil
        }
    }

    private func rank(_ hints: [ScimIndexHint]) -> Int {
        hints.map { h -> Int in
            switch h {
            case .id: return 0
            case .userName: return 1
            case .externalId: return 2
            case .displayName: return 3
            case .member: return 4
            }
        }.max().map { $0 + 10 * hints.count } ?? Int.max
    }

    /// Inside `members[…]`: `value eq "x"`, possibly `or`-ed.
    private func memberValueHints() -> [ScimIndexHint]? {
        switch self {
        case .compare(let p, .eq, .string(let v)) where p.attribute == "value":
            return [.member(v)]
        case .or(let terms):
            var out: [ScimIndexHint] = []
            for t in terms {
                guard let h = t.memberValueHints() else { return nil }
                out += h
            }
            return out
        case .and(let terms):
            return terms.lazy.compactMap { $0.memberValueHints() }.first
        default:
            return nil
        }
    }
}
