import CCrypto

/// HMAC-SHA256 (RFC 2104) through libcrypto's `EVP_MAC` interface: webhook
/// signatures and the setup page's CSRF tokens.
public enum HMACSHA256 {
    /// The 32-byte MAC under `key` of `first` followed by `second`.
    ///
    /// Two parts so a message made of a short prefix and a large body (a
    /// webhook's `"<t>."` and its body of megabytes) is authenticated without
    /// first being copied into one buffer.
    public static func mac(key: [UInt8], _ first: [UInt8], _ second: [UInt8] = []) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        let ok = key.withUnsafeBytes { k in
            first.withUnsafeBytes { a in
                second.withUnsafeBytes { b in
                    mac.withUnsafeMutableBufferPointer { out in
                        setuplink_hmac_sha256_2(k.baseAddress, k.count, a.baseAddress, a.count, b.baseAddress, b.count,
                                                out.baseAddress)
                    }
                }
            }
        }
        expectLibcrypto(ok, "setuplink_hmac_sha256_2 (EVP_MAC HMAC-SHA256)")
        return mac
    }
}
