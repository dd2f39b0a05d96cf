import JSON
import SetupLinks

/// `api-key list`: the app API keys of the replicated system (never the keys themselves).
struct ApiKeyList: ConsoleCommand {
    /// `api-key list`.
    static let configuration = CommandConfiguration(
        "api-key list", section: .appAPI, summary: "list the app API keys (name, product, when made)", example: "api-key list")

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Lists the keys.
    func run(in session: ConsoleSession) throws {
        let keys = try session.service.apiKeys()
        if session.json {
            session.emit([("api_keys", .array(keys.map { k in
                .object([("name", .string(k.name)), ("product", k.product.map { .string($0) } ?? .null),
                         ("created", k.created.map { .string(Format.iso($0)) } ?? .null), ("fingerprint", .string(k.fingerprint))])
            }))])
            return
        }
        guard !keys.isEmpty else {
            session.say("No API keys: the app API answers 401 to everyone. Make one with: api-key create NAME [--product P]")
            return
        }
        var t = TextTable(headers: ["Name", "Product", "Created", "Fingerprint"], maxCellWidth: ConsoleSession.maxCellWidth)
        for k in keys { t.append([k.name, k.product ?? "(every product)", k.created.map(Format.date) ?? "-", k.fingerprint]) }
        session.say(t.render())
    }
}
