import CCrypto

/// Compares two byte strings in time that depends only on their lengths,
/// never on where they first differ (libcrypto's `CRYPTO_memcmp`).
///
/// A wrong guess that shares a long prefix with the secret takes as long as
/// one that shares nothing. `CRYPTO_memcmp` compares equal lengths only, so a
/// length mismatch compares `a` with itself instead and fails: the time still
/// depends on the lengths alone, never on content.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    let sameLength = a.count == b.count
    let difference = a.withUnsafeBytes { x in
        (sameLength ? b : a).withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) }
    }
    return sameLength && difference == 0
}
