import SetupLinks

/// `providers`: the directory types a tenant can create, id and label.
struct ProviderList: ConsoleCommand {
    /// `providers`.
    static let configuration = CommandConfiguration(
        "providers", section: .tenantPage,
        summary: "list directory types: id and label", example: "providers")

    /// Takes nothing.
    init(_ input: ParsedCommand) {}

    /// Prints the types, the default marked.
    func run(in session: ConsoleSession) throws {
        if session.json {
            session.emit([("providers", .array(DirectoryType.allCases.map { .object([("id", .string($0.rawValue)), ("label", .string($0.label))]) }))])
            return
        }
        var t = TextTable(headers: ["ID", "Label"])
        for p in DirectoryType.allCases { t.append([p.rawValue + (p == .azure ? " (default)" : ""), p.label]) }
        session.say(t.render())
    }
}
