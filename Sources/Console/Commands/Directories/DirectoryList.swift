import SetupLinks

/// `directory list [--tenant T] [--product P]`: the open page's directories, or any
/// (admin view, streamed from the index).
struct DirectoryList: ConsoleCommand {
    /// `directory list [--tenant T] [--product P]`.
    static let configuration = CommandConfiguration(
        "directory list", section: .directories, flags: [tenant, product],
        summary: "list directories (on a setup page: that page's)", example: "directory list --tenant acme")
    private static let tenant = Flag.option("--tenant", "T", "only this tenant (admin)")
    private static let product = Flag.option("--product", "P", "only this product (admin)")

    private let tenant: String?
    private let product: String?

    /// The filters typed.
    init(_ input: ParsedCommand) {
        tenant = input[Self.tenant]
        product = input[Self.product]
    }

    /// Lists the page's directories, or every directory matching the filters.
    func run(in session: ConsoleSession) throws {
        if let page = session.page {
            if tenant != nil || product != nil {
                throw ConsoleError.usage("--tenant and --product are admin filters; a setup page lists its own directories (close it first)")
            }
            let ds = try page.directories()
            if session.json {
                session.emit([("directories", .array(ds.map { .object($0.jsonFields(in: session)) }))])
            } else {
                try Directory.printPageList(ds, in: session)
            }
            return
        }
        let service = session.service
        if session.json {
            session.emit([("directories", .array(try service.directories(tenant: tenant, product: product).map { .object($0.jsonFields(in: session)) }))])
            return
        }
        let first = try service.directoryPage(tenant: tenant, product: product, limit: 100)
        if first.items.isEmpty {
            session.say(tenant != nil || product != nil
                ? "No directories match."
                : "No directories yet. A tenant creates one by opening its setup link: open URL, then directory new")
            return
        }
        var cursor = first.next
        try session.streamTable(headers: ["ID", "Name", "Tenant", "Product", "Type", "Status"], statusColumns: [5],
                                first: first.items.map { $0.row(withTenant: true) }) {
            guard let after = cursor else { return nil }
            let next = try service.directoryPage(tenant: tenant, product: product, after: after, limit: 1000)
            cursor = next.next
            return next.items.map { $0.row(withTenant: true) }
        }
    }
}
