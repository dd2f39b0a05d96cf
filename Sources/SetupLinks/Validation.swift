import Foundation

/// Checks on user input; each failure names the value and what is wrong with it.
public enum Validation {
    /// Tenant and product: 1–256 characters, no `:`, no control characters.
    public static func tenantOrProduct(_ s: String, what: String) throws {
        if s.isEmpty { throw SetupLinkError.invalid("\(what) must not be empty") }
        if s.count > 256 { throw SetupLinkError.invalid("\(what) is \(s.count) characters long; at most 256 are allowed") }
        if s.contains(":") { throw SetupLinkError.invalid("\(what) \"\(s)\" must not contain ':'") }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SetupLinkError.invalid("\(what) must not contain control characters")
        }
    }

    /// A link name: at most 256 characters, no control characters.
    public static func name(_ s: String) throws {
        if s.count > 256 { throw SetupLinkError.invalid("name is \(s.count) characters long; at most 256 are allowed") }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SetupLinkError.invalid("name must not contain control characters")
        }
    }

    /// Whether `s` is an absolute http or https URL with a host and no spaces.
    public static func isHTTPURL(_ s: String) -> Bool {
        guard !s.contains(where: { $0 == " " || $0.isNewline }),
              let c = URLComponents(string: s), let scheme = c.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty else { return false }
        return true
    }

    /// A webhook URL: absolute http(s).
    public static func webhookURL(_ s: String) throws {
        guard isHTTPURL(s) else {
            throw SetupLinkError.invalid("webhook URL \"\(s)\" is not an absolute http(s) URL (like https://example.com/hook)")
        }
    }

    /// Expiry days: a positive whole number, at most 3650.
    @discardableResult
    public static func expiryDays(_ s: String) throws -> Int {
        guard let d = Int(s), d > 0 else { throw SetupLinkError.invalid("expiry days \"\(s)\" is not a positive whole number") }
        guard d <= 3650 else { throw SetupLinkError.invalid("expiry days \(d) is more than 3650 (ten years)") }
        return d
    }
}
