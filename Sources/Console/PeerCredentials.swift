import Foundation
import SetupLinks

/// The token and CA certificate flags of `peer add`, `peer update` and `sync`.
enum PeerCredentials {
    /// `--token T` or `--token-file FILE` (not both), or `nil` if neither is given.
    static func token(_ c: ParsedCommand) throws -> String? {
        switch (c["--token"], c["--token-file"]) {
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
    static func caCertificate(_ c: ParsedCommand) throws -> String? {
        guard let file = c["--cacert"] else { return nil }
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
}
