import Foundation
import SetupLinks

/// The token and CA certificate flags of `peer add`, `peer update` and `sync`, and
/// what makes a peer's name and URL.
enum PeerCredentials {
    /// `--token T` or `--token-file FILE` (not both), or `nil` if neither is given.
    static func token(_ given: String?, file: String?) throws -> String? {
        switch (given, file) {
        case (.some, .some): throw ConsoleError.usage("give --token or --token-file, not both")
        case (.some(let t), nil):
            let token = Validation.trimmed(t)
            guard !token.isEmpty else { throw ConsoleError.usage("--token must not be empty or only blanks") }
            return token
        case (nil, .some(let file)): return try ServeCommand.readTokenFile(file)
        case (nil, nil): return nil
        }
    }

    /// The PEM text of `--cacert FILE`, checked to hold a certificate; `nil` if not given.
    static func caCertificate(_ file: String?) throws -> String? {
        guard let file else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConsoleError.failed("cannot read the CA certificate \(file)")
        }
        let pem = String(decoding: data, as: UTF8.self)
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw ConsoleError.failed("\(file) is not a PEM certificate (no BEGIN CERTIFICATE line)")
        }
        return pem
    }

    /// `SETUPLINK_TOKEN`, when set and not empty.
    static var environmentToken: String? {
        let token = ProcessInfo.processInfo.environment["SETUPLINK_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        return token?.isEmpty == false ? token : nil
    }

    /// Whether `s` can name a peer: 1-64 letters, digits, `-`, `_` or `.`.
    static func validPeerName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
            && !s.contains("://")
    }

    /// A peer URL, trimmed and without trailing slashes, or a usage error.
    static func peerURL(_ raw: String) throws -> String {
        let url = Validation.trimmed(raw)
        guard Validation.isHTTPURL(url) else {
            throw ConsoleError.usage("peer URL \"\(url)\" is not an absolute http(s) URL (like http://hub.example.com:8080)")
        }
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    /// `no peer named "hb" — did you mean "hub"? (see: peer list)`.
    static func noPeer(_ name: String, in session: ConsoleSession) throws -> ConsoleError {
        let hint = closestMatch(to: name, in: try session.peers.all().map(\.name)).map { " — did you mean \"\($0)\"?" } ?? ""
        return ConsoleError.failed("no peer named \"\(name)\"\(hint) (see: peer list)")
    }
}
