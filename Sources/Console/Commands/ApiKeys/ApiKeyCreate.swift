import JSON
import SetupLinks

/// `api-key create NAME [--product P]`: makes an app API key and prints it, once.
struct ApiKeyCreate: ConsoleCommand {
    /// `api-key create NAME [--product P]`.
    static let configuration = CommandConfiguration(
        "api-key create", section: .appAPI, arguments: [name], flags: [product],
        summary: "make an app API key (printed once; replicated: it works on every hub after sync)",
        example: "api-key create billing-app --product crm")
    private static let name = Argument.required("NAME")
    private static let product = Flag.option("--product", "P", "limit the key to one product's links, directories and data")

    private let name: String
    private let product: String?

    /// The name, and the product if given.
    init(_ input: ParsedCommand) {
        name = input[Self.name]
        product = input[Self.product]
    }

    /// Makes the key and shows it with how to use it.
    func run(in session: ConsoleSession) throws {
        let (key, secret) = try session.service.createApiKey(name: name, product: product)
        if session.json {
            session.emit([("result", .string("created")), ("name", .string(key.name)), ("key", .string(secret)),
                          ("product", key.product.map { .string($0) } ?? .null)])
            return
        }
        session.say("""
            Created API key \(key.name)\(key.product.map { " (product \($0) only)" } ?? " (every product)").
            Key: \(secret)
            It is shown this once and stored only as its SHA-256: keep it in your app's secrets.
            Use it as: Authorization: Api-Key <key>  (for example: curl -H "Authorization: Api-Key \(secret.prefix(8))…" \(session.service.externalURL)/api/v1/dsync/setuplinks/product?product=…)
            """)
    }
}
