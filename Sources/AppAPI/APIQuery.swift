import Bytes
import Foundation
import Storage

/// The query parameters of one app API request: the first value of each name (Jackson
/// reads one; a repeated name is not an error), and the checks every route shares.
struct APIQuery {
    private let pairs: [(name: String, value: String)]

    init(_ pairs: [(name: String, value: String)]) { self.pairs = pairs }

    /// The first value of `name`, if present (even empty).
    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// The value of `name` when present and not empty.
    func nonEmpty(_ name: String) -> String? { self[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The most rows one page returns.
    static let maxPageLimit = 1000
    /// Rows per page when the request does not say (Jackson's default).
    static let defaultPageLimit = 50

    /// Paging as Jackson reads it: `pageOffset` (else `offset`) rows to skip, `pageLimit`
    /// (else `limit`) rows at most (absent or 0: the default, 50), and `pageToken`, which
    /// continues where the previous page ended (it wins over the offset).
    func paging() throws(APIError) -> Paging {
        func number(_ primary: String, _ alternate: String) throws(APIError) -> Int? {
            let (name, raw): (String, String?) = self[primary] != nil ? (primary, self[primary]) : (alternate, self[alternate])
            guard let raw, !raw.isEmpty else { return nil }
            guard raw.utf8.count <= 12, let n = Int(raw), n >= 0 else {
                throw .badRequest("\(name) must be a whole number (0 or more), not \"\(raw.prefix(40))\"")
            }
            return n
        }
        let offset = try number("pageOffset", "offset") ?? 0
        var limit = try number("pageLimit", "limit") ?? 0
        if limit == 0 { limit = Self.defaultPageLimit }
        guard limit <= Self.maxPageLimit else {
            throw .badRequest("pageLimit must be at most \(Self.maxPageLimit) (it was \(limit)); page through with pageOffset or pageToken")
        }
        var token: IndexCursor?
        if let raw = nonEmpty("pageToken") {
            guard let t = PageToken.decode(raw) else {
                throw .badRequest("pageToken is not one this server issued; use the pageToken of the previous page, or leave it out")
            }
            token = t
        }
        return Paging(offset: offset, limit: limit, token: token)
    }

    /// `name` as a boolean query value, if present: `true` or `false`.
    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let raw = self[name] else { return nil }
        switch raw.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .badRequest("\(name) must be true or false, not \"\(raw.prefix(40))\"")
        }
    }
}

/// One page asked for: rows to skip, rows at most, or where the previous page ended.
struct Paging {
    var offset: Int
    var limit: Int
    var token: IndexCursor?
}

/// `pageToken`: where a page ended in an index (its key and row), opaque to clients:
/// base64url of `<key>` NUL NUL `<row>`. A token names a position, not a secret: a forged
/// one only pages through what the key may see anyway.
enum PageToken {
    static func encode(_ c: IndexCursor, key: String) -> String {
        Base64URL.encode(Array(key.utf8) + [0, 0] + Array(String(c.row).utf8))
    }

    static func decode(_ s: String) -> IndexCursor? {
        guard s.utf8.count <= 2048, let bytes = Base64URL.decode(s) else { return nil }
        // The key's parts are joined by single NULs; the row follows the last double NUL.
        var split: Int?
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0 && bytes[i + 1] == 0 { split = i; break }
            i -= 1
        }
        guard let split, let row = Int64(String(decoding: bytes[(split + 2)...], as: UTF8.self)), row > 0,
              let key = String(validating: bytes[..<split], as: UTF8.self) else { return nil }
        return IndexCursor(key: key, row: row)
    }
}
