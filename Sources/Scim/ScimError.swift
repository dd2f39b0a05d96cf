import JSON

/// A SCIM protocol error (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a sentence.
///
/// Every failure a SCIM client can cause is one of these, so a handler turns it
/// into a response with `responseBody` and `status`. Store failures are not
/// `ScimError`s: they stay the store's errors and become a 500 with an id.
public struct ScimError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `scimType` keywords of RFC 7644 §3.12 (Table 9).
    public enum Kind: String, Sendable, CaseIterable {
        /// The filter syntax was invalid or the filter names something it cannot compare.
        case invalidFilter
        /// The filter yields more results than the service provider allows.
        case tooMany
        /// A value is already in use (a `userName` in this directory).
        case uniqueness
        /// The operation would change a read-only or immutable attribute, or remove a required one.
        case mutability
        /// The request body is not a valid message (JSON, `schemas`, structure).
        case invalidSyntax
        /// A PATCH `path` is malformed or names nothing that can be changed.
        case invalidPath
        /// A PATCH target is missing, or its value filter matched nothing.
        case noTarget
        /// A required value is missing or a value has the wrong type.
        case invalidValue
        /// The SCIM version asked for is not supported.
        case invalidVers
        /// The request carries sensitive information where it must not (e.g. in a URL).
        case sensitive
    }

    /// The HTTP status code (400, 401, 404, 409, 412, 413, 500, 501).
    public var status: Int
    /// The `scimType` keyword, for 400 and 409 errors.
    public var kind: Kind?
    /// What was wrong, in one sentence that names the attribute, path or value.
    public var detail: String

    /// An error with an explicit status.
    public init(status: Int, kind: Kind? = nil, _ detail: String) {
        self.status = status
        self.kind = kind
        self.detail = detail
    }

    /// 400 with the given `scimType`.
    public static func bad(_ kind: Kind, _ detail: String) -> ScimError { ScimError(status: 400, kind: kind, detail) }
    /// 400 `invalidFilter`.
    public static func invalidFilter(_ detail: String) -> ScimError { bad(.invalidFilter, detail) }
    /// 400 `invalidPath`.
    public static func invalidPath(_ detail: String) -> ScimError { bad(.invalidPath, detail) }
    /// 400 `invalidValue`.
    public static func invalidValue(_ detail: String) -> ScimError { bad(.invalidValue, detail) }
    /// 400 `invalidSyntax`.
    public static func invalidSyntax(_ detail: String) -> ScimError { bad(.invalidSyntax, detail) }
    /// 400 `noTarget`.
    public static func noTarget(_ detail: String) -> ScimError { bad(.noTarget, detail) }
    /// 400 `mutability`.
    public static func mutability(_ detail: String) -> ScimError { bad(.mutability, detail) }
    /// 409 `uniqueness`.
    public static func uniqueness(_ detail: String) -> ScimError { ScimError(status: 409, kind: .uniqueness, detail) }
    /// 404 without a `scimType`.
    public static func notFound(_ detail: String) -> ScimError { ScimError(status: 404, detail) }
    /// 401 without a `scimType`.
    public static func unauthorized(_ detail: String = "missing or wrong bearer token") -> ScimError {
        ScimError(status: 401, detail)
    }

    /// The message schema of an error response.
    public static let schema = "urn:ietf:params:scim:api:messages:2.0:Error"

    /// The error response body: `schemas`, `status` (a string, as RFC 7644 §3.12 says), `scimType`, `detail`.
    public var responseBody: JSONValue {
        var members: [(String, JSONValue)] = [
            ("schemas", .array([.string(Self.schema)])),
            ("status", .string(String(status))),
        ]
        if let kind { members.append(("scimType", .string(kind.rawValue))) }
        members.append(("detail", .string(detail)))
        return .object(members)
    }

    /// `<status> <scimType>: <detail>`.
    public var description: String {
        "\(status)\(kind.map { " " + $0.rawValue } ?? ""): \(detail)"
    }
}
