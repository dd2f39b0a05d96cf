import Foundation

/// Checks on user input; each failure names the value and what is wrong with it.
///
/// Text a person types (tenant, product, names, secrets, URLs) is trimmed of
/// surrounding blanks first, so `" acme "` is `acme` and never a second tenant
/// that looks the same; a value that is empty or only blanks is refused.
public enum Validation {
    /// `s` without surrounding whitespace and line breaks.
    public static func trimmed(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Tenant and product: trimmed, then 1–256 characters, no `:`, no control characters.
    /// - Returns: The trimmed value.
    @discardableResult
    public static func tenantOrProduct(_ raw: String, what: String) throws -> String {
        let s = trimmed(raw)
        if s.isEmpty { throw SetupLinkError.invalid("\(what) must not be empty or only blanks") }
        if s.count > 256 { throw SetupLinkError.invalid("\(what) is \(s.count) characters long; at most 256 are allowed") }
        if s.contains(":") { throw SetupLinkError.invalid("\(what) \"\(s)\" must not contain ':'") }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SetupLinkError.invalid("\(what) must not contain control characters")
        }
        return s
    }

    /// A link or directory name: trimmed, then 1–256 characters, no control characters.
    /// - Returns: The trimmed value.
    @discardableResult
    public static func name(_ raw: String) throws -> String {
        let s = trimmed(raw)
        if s.isEmpty { throw SetupLinkError.invalid("name must not be empty or only blanks") }
        if s.count > 256 { throw SetupLinkError.invalid("name is \(s.count) characters long; at most 256 are allowed") }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SetupLinkError.invalid("name must not contain control characters")
        }
        return s
    }

    /// A secret (the webhook signing secret): trimmed, then not empty, at most 1024 characters,
    /// no control characters. The message never repeats the secret.
    /// - Returns: The trimmed value.
    @discardableResult
    public static func secret(_ raw: String, what: String = "webhook secret") throws -> String {
        let s = trimmed(raw)
        if s.isEmpty { throw SetupLinkError.invalid("\(what) must not be empty or only blanks") }
        if s.count > 1024 { throw SetupLinkError.invalid("\(what) is \(s.count) characters long; at most 1024 are allowed") }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SetupLinkError.invalid("\(what) must not contain control characters")
        }
        return s
    }

    /// Whether `s` is an absolute http or https URL with a host and no spaces.
    public static func isHTTPURL(_ s: String) -> Bool {
        guard !s.contains(where: { $0 == " " || $0.isNewline }),
              let c = URLComponents(string: s), let scheme = c.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty else { return false }
        return true
    }

    /// A webhook URL: trimmed, then absolute http(s).
    /// - Returns: The trimmed value.
    @discardableResult
    public static func webhookURL(_ raw: String) throws -> String {
        let s = trimmed(raw)
        guard isHTTPURL(s) else {
            throw SetupLinkError.invalid("webhook URL \"\(s)\" is not an absolute http(s) URL (like https://example.com/hook)")
        }
        return s
    }

    /// Expiry days: a positive whole number, at most 3650.
    @discardableResult
    public static func expiryDays(_ raw: String) throws -> Int {
        let s = trimmed(raw)
        guard let d = Int(s), d > 0 else { throw SetupLinkError.invalid("expiry days \"\(s)\" is not a positive whole number") }
        guard d <= 3650 else { throw SetupLinkError.invalid("expiry days \(d) is more than 3650 (ten years)") }
        return d
    }
}
