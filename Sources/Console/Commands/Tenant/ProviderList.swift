import JSON
import GoogleSync
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
        // Google only where this file's hub serves with a Google OAuth client.
        let google = try GoogleCredentials.offeredClientID(session.service.store) != nil
        let types = DirectoryType.allCases.filter { $0 != .google || google }
        if session.json {
            var o: [(String, JSONValue)] = [("providers", .array(types.map {
                .object([("id", .string($0.rawValue)), ("label", .string($0.label)),
                         ("documentation", $0.guide.map { .string($0.documentation) } ?? .null)])
            }))]
            if !google { o.append(("google", .string(GoogleCredentials.notOffered))) }
            session.emit(o)
            return
        }
        var t = TextTable(headers: ["ID", "Label"])
        for p in types { t.append([p.rawValue + (p == .azure ? " (default)" : ""), p.label]) }
        session.say(t.render())
        if !google { session.say(GoogleCredentials.notOffered + ".") }
    }
}
