import JSON
import SetupLinks

/// `link update ID [--name N] [--webhook-url URL] [--webhook-secret S]`: a new webhook
/// URL or secret reaches the link's directories too.
struct LinkUpdate: ConsoleCommand {
    /// `link update ID [--name N] [--webhook-url URL] [--webhook-secret S]`.
    static let configuration = CommandConfiguration(
        "link update", section: .links, arguments: [id], flags: [name, webhookURL, webhookSecret],
        summary: "change a setup link's name, webhook URL or webhook secret", example: "link update 3f2a --name \"Acme EU\"")
    private static let id = Argument.required("ID", completes: .record(.link))
    private static let name = Flag.option("--name", "N", "a new display name (new directories are named after it)")
    private static let webhookURL = Flag.option("--webhook-url", "URL",
                                        "a new webhook URL, for the link's directories too (waiting events go there)")
    private static let webhookSecret = Flag.option("--webhook-secret", "S", secret: true,
                                           "a new webhook signing secret, for the link's directories too")

    private let id: String
    private let name: String?
    private let webhookURL: String?
    private let webhookSecret: String?

    /// The id and new values typed.
    init(_ input: ParsedCommand) {
        id = input[Self.id]
        name = input[Self.name]
        webhookURL = input[Self.webhookURL]
        webhookSecret = input[Self.webhookSecret]
    }

    /// Changes what was given and says what changed.
    func run(in session: ConsoleSession) throws {
        guard name != nil || webhookURL != nil || webhookSecret != nil else {
            throw ConsoleError.usage("link update needs at least one of --name, --webhook-url, --webhook-secret (usage: \(Self.configuration.usage))")
        }
        let (l, changed, directories) = try session.service.updateLink(id: id, name: name, webhookURL: webhookURL,
                                                                       webhookSecret: webhookSecret)
        if session.json {
            session.emit([("result", .string(changed.isEmpty ? "unchanged" : "updated")), ("changed", .array(changed.map(JSONValue.string))),
                          ("directories", .array(directories.map(JSONValue.string)))] + l.jsonFields(in: session))
            return
        }
        if changed.isEmpty {
            session.say("The setup link for \(l.tenant) / \(l.product) already has these values; nothing changed.")
        } else {
            let names = changed.map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: ", ")
            session.say("Updated the setup link for \(l.tenant) / \(l.product): \(names).")
            if !directories.isEmpty {
                session.say("The webhook of its \(directories.count == 1 ? "directory" : "\(directories.count) directories") changed too:"
                            + " events not yet delivered go to the new URL, signed with the new secret.")
            }
            session.say(l.section(in: session))
        }
    }
}
