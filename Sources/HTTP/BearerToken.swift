import Crypto

/// Whether an `Authorization` header value is `Bearer <secret>`.
///
/// The scheme name is matched case-insensitively (RFC 9110); the token is
/// compared with `constantTimeEquals`. A missing header, another scheme or an
/// empty secret never match.
public func bearerTokenMatches(authorization: String?, secret: String) -> Bool {
    guard !secret.isEmpty, let authorization else { return false }
    let value = authorization.trimmingASCIIWhitespace()
    let scheme = "bearer "
    guard value.utf8.count > scheme.utf8.count,
          value.utf8.prefix(scheme.utf8.count).map(asciiLowercased).elementsEqual(scheme.utf8)
    else { return false }
    let token = Array(value.utf8.dropFirst(scheme.utf8.count)).trimmingLeadingSpaces()
    return constantTimeEquals(token, Array(secret.utf8))
}

/// The token of an `Authorization: Bearer <token>` header value, or `nil` for a
/// missing header, another scheme or an empty token.
public func bearerToken(authorization: String?) -> [UInt8]? {
    guard let authorization else { return nil }
    let value = authorization.trimmingASCIIWhitespace()
    let scheme = "bearer "
    guard value.utf8.count > scheme.utf8.count,
          value.utf8.prefix(scheme.utf8.count).map(asciiLowercased).elementsEqual(scheme.utf8)
    else { return nil }
    let token = Array(value.utf8.dropFirst(scheme.utf8.count)).trimmingLeadingSpaces()
    return token.isEmpty ? nil : token
}

extension HTTPHead {
    /// The bearer token this request carries, if any (see `bearerToken(authorization:)`).
    public var bearerToken: [UInt8]? { HTTP.bearerToken(authorization: header("authorization")) }
}

extension HTTPRequest {
    /// Whether this request carries `Authorization: Bearer <secret>`, compared
    /// in constant time.
    public func hasBearerToken(_ secret: String) -> Bool {
        head.hasBearerToken(secret)
    }
}

/// ASCII lowercase of one byte; other bytes unchanged.
func asciiLowercased(_ byte: UInt8) -> UInt8 {
    (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
}

extension [UInt8] {
    /// Drops leading spaces and tabs.
    fileprivate func trimmingLeadingSpaces() -> [UInt8] {
        Array(drop { $0 == 0x20 || $0 == 0x09 })
    }
}
