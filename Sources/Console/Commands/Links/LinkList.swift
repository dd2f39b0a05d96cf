import SetupLinks

/// `link list [--tenant T] [--product P]`: streamed from the index, a page at a time; the first rows show at once.
struct LinkList: ConsoleCommand {
    /// `link list [--tenant T] [--product P]`.
    static let configuration = CommandConfiguration(
        "link list", section: .links, flags: [tenant, product],
        summary: "list setup links: ID, Tenant, Product, Valid till, Status", example: "link list --tenant acme")
    private static let tenant = Flag.option("--tenant", "T", "only this tenant")
    private static let product = Flag.option("--product", "P", "only this product")

    private let tenant: String?
    private let product: String?

    /// The filters typed.
    init(_ input: ParsedCommand) {
        tenant = input[Self.tenant]
        product = input[Self.product]
    }

    /// Lists the links matching the filters, streamed.
    func run(in session: ConsoleSession) throws {
        let service = session.service
        let now = service.now()
        if session.json {
            session.emit([("links", .array(try service.links(tenant: tenant, product: product).map { .object($0.jsonFields(in: session)) }))])
            return
        }
        // A small first page shows something at once; later pages are larger.
        var page = try service.linkPage(tenant: tenant, product: product, limit: 100)
        if page.items.isEmpty && page.next != nil {
            // Rows skipped by the exact-product check: read on until something shows.
            while page.items.isEmpty, let next = page.next {
                page = try service.linkPage(tenant: tenant, product: product, after: next, limit: 1000)
            }
        }
        if page.items.isEmpty {
            let filtered = tenant != nil || product != nil
            session.say((filtered ? "No setup links match." : "No setup links yet.") + " Create one with: link create --tenant T --product P --webhook-url URL --webhook-secret S")
            return
        }
        func rows(_ links: [SetupLink]) -> [[String]] {
            links.map { [$0.id, $0.tenant, $0.product, Format.date($0.validTill), $0.status(now: now)] }
        }
        var cursor = page.next
        try session.streamTable(headers: ["ID", "Tenant", "Product", "Valid till", "Status"], statusColumns: [4],
                                first: rows(page.items)) {
            guard let after = cursor else { return nil }
            let next = try service.linkPage(tenant: tenant, product: product, after: after, limit: 1000)
            cursor = next.next
            return rows(next.items)
        }
    }
}
