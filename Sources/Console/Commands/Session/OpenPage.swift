import SetupLinks

/// `open URL|TOKEN`: enters a tenant's setup page; commands then act on its directories.
struct OpenPage: ConsoleCommand {
    /// `open URL|TOKEN`.
    static let configuration = CommandConfiguration(
        "open", section: .tenantPage, arguments: [link],
        summary: "open the setup page of a link (tenant flow)", example: "open http://localhost:8080/setup/9b1d…")
    private static let link = Argument.required("URL|TOKEN")

    private let link: String

    /// The URL or token typed.
    init(_ input: ParsedCommand) { link = input[Self.link] }

    /// Opens the page and lists its directories.
    func run(in session: ConsoleSession) throws {
        let p = try session.service.open(link)
        session.page = p
        let ds = try p.directories()
        if session.json {
            session.emit([("page", .object(p.link.jsonFields(in: session))), ("directories", .array(ds.map { .object($0.jsonFields(in: session)) }))])
            return
        }
        session.say("Setup page of \(p.link.tenant) / \(p.link.product)" + (p.link.name.map { " (\($0))" } ?? "")
                    + ", valid till \(Format.date(p.link.validTill)).")
        try Directory.printPageList(ds, in: session)
    }
}
