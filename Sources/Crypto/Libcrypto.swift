import CCrypto

/// Checks the result of a libcrypto call that returns 1 on success, and traps
/// with the call's name and OpenSSL's own reason otherwise.
///
/// Why a trap rather than an error: these calls fail only when the process
/// cannot allocate or libcrypto lacks SHA-256 or HMAC (a broken
/// installation). Going on would hand out a digest, key, token or signature
/// computed over nothing, which is worse than stopping.
@inlinable @inline(__always)
package func expectLibcrypto(_ result: Int32, _ call: StaticString, file: StaticString = #fileID, line: UInt = #line) {
    if result != 1 { libcryptoFailed(call, file: file, line: line) }
}

/// Traps for a libcrypto call that did not give what it promises (a `NULL`
/// context, a short digest), with OpenSSL's reason.
@usableFromInline
package func libcryptoFailed(_ call: StaticString, file: StaticString = #fileID, line: UInt = #line) -> Never {
    var buffer = [CChar](repeating: 0, count: 256)
    let code = ERR_get_error()
    let reason: String
    if code == 0 {
        reason = "no reason given"
    } else {
        ERR_error_string_n(code, &buffer, buffer.count)
        reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    preconditionFailure("libcrypto: \(call) failed: \(reason)", file: file, line: line)
}
