import JSON
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
            session.emit([("providers", .array(session.service.offeredTypes.map {
                .object([("id", .string($0.rawValue)), ("label", .string($0.label)),
                         ("documentation", $0.guide.map { .string($0.documentation) } ?? .null)])
            }))])
            return
        }
        var t = TextTable(headers: ["ID", "Label"])
        for p in session.service.offeredTypes { t.append([p.rawValue + (p == .azure ? " (default)" : ""), p.label]) }
        session.say(t.render())
        if !session.service.googleConfigured {
            session.say("Google Workspace is not offered: this hub has no Google connection configured.")
        }
    }
}
