/// Compares two byte strings in time that depends only on their lengths,
/// never on where they first differ.
///
/// Every position up to the longer length is visited and differences are
/// OR-ed together, so a wrong guess that shares a long prefix with the secret
/// takes as long as one that shares nothing. A length mismatch is folded into
/// the same accumulator instead of returning early; the loop length reveals
/// only the longer of the two lengths, never any content.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    let count = max(a.count, b.count)
    var difference: UInt = UInt(bitPattern: a.count ^ b.count)
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            for i in 0..<count {
                // Missing bytes read as 0; the length check above already failed.
                let left: UInt8 = i < x.count ? x[i] : 0
                let right: UInt8 = i < y.count ? y[i] : 0
                difference |= UInt(left ^ right)
            }
        }
    }
    return difference == 0
}

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
