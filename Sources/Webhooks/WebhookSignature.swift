import Bytes
import Crypto

/// The `BoxyHQ-Signature` header of a webhook request, as Jackson writes it:
/// `t=<unix milliseconds>,s=<hex HMAC-SHA256(secret, "<t>.<body>")>`, over the
/// exact bytes of the body sent.
///
/// A receiver checks it by recomputing the HMAC with the secret given at
/// `link create` (and may refuse a `t` too far from its clock: every attempt,
/// retries included, is signed afresh with the time it is sent).
public enum WebhookSignature {
    /// The header's name.
    public static let header = "BoxyHQ-Signature"

    /// The header's value for `body` signed with `secret` at `timestamp` (Unix milliseconds).
    public static func value(secret: String, timestamp: UInt64, body: [UInt8]) -> String {
        "t=\(timestamp),s=\(hexHMAC(secret: secret, timestamp: timestamp, body: body))"
    }

    /// Lowercase hex of HMAC-SHA256(secret, "<timestamp>." + body), computed by libcrypto (`HMACSHA256`).
    public static func hexHMAC(secret: String, timestamp: UInt64, body: [UInt8]) -> String {
        Hex.encode(HMACSHA256.mac(key: Array(secret.utf8), Array("\(timestamp).".utf8), body))
    }
}
