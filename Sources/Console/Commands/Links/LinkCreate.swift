import SetupLinks

/// `link create --tenant T --product P --webhook-url URL --webhook-secret S [--name N] [--expiry-days D] [--regenerate]`:
/// one link per tenant and product.
struct LinkCreate: ConsoleCommand {
    /// `link create --tenant T --product P --webhook-url URL --webhook-secret S [--name N] [--expiry-days D] [--regenerate]`.
    static let configuration = CommandConfiguration(
        "link create", section: .links,
        flags: [tenant, product, webhookURL, webhookSecret, name, expiryDays, regenerate],
        summary: "create the setup link of a tenant and product (one per pair)",
        example: "link create --tenant acme --product crm --webhook-url https://hooks.example.com/dsync --webhook-secret s3cret --name \"Acme EU\"")
    private static let tenant = Flag.required("--tenant", "T", "the tenant (customer); 1-256 characters, no ':'")
    private static let product = Flag.required("--product", "P", "the product; 1-256 characters, no ':'")
    private static let webhookURL = Flag.required("--webhook-url", "URL", "where directory events go: an absolute http(s) URL")
    private static let webhookSecret = Flag.required("--webhook-secret", "S", secret: true, "the webhook signing secret")
    private static let name = Flag.option("--name", "N", "a display name (directories are named after it)")
    private static let expiryDays = Flag.option("--expiry-days", "D", "days the link stays valid (default: the replica's, else 3)")
    private static let regenerate = Flag.toggle("--regenerate", "issue a new token even if a valid link exists")

    private let tenant: String
    private let product: String
    private let webhookURL: String
    private let webhookSecret: String
    private let name: String?
    private let expiryDays: String?
    private let regenerate: Bool

    /// The values typed.
    init(_ input: ParsedCommand) {
        tenant = input[Self.tenant]
        product = input[Self.product]
        webhookURL = input[Self.webhookURL]
        webhookSecret = input[Self.webhookSecret]
        name = input[Self.name]
        expiryDays = input[Self.expiryDays]
        regenerate = input[Self.regenerate]
    }

    /// Creates the link (or finds the live one, or issues it a new token) and shows it.
    func run(in session: ConsoleSession) throws {
        var days: Int?
        if let expiryDays { days = try Validation.expiryDays(expiryDays) }
        let (link, outcome) = try session.service.createLink(
            tenant: tenant, product: product, webhookURL: webhookURL,
            webhookSecret: webhookSecret, name: name, expiryDays: days, regenerate: regenerate)
        if session.json {
            session.emit([("result", .string(outcome.rawValue))] + link.jsonFields(in: session))
            return
        }
        switch outcome {
        case .created: session.say("Created the setup link for \(link.tenant) / \(link.product).")
        case .existing: session.say("A valid setup link for \(link.tenant) / \(link.product) already exists; it is unchanged (use --regenerate for a new token, link update to change it).")
        case .regenerated: session.say("Regenerated the setup link for \(link.tenant) / \(link.product): the old token no longer works.")
        }
        session.say(link.section(in: session))
    }
}
