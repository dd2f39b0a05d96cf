import GoogleSync
import SetupLinks

/// `directory new [--type TYPE] [--name N]`: a tenant creates a directory on the open setup page.
struct DirectoryNew: ConsoleCommand {
    /// `directory new [--type TYPE] [--name N]`.
    static let configuration = CommandConfiguration(
        "directory new", section: .directories, flags: [type, name],
        summary: "create a directory on the open setup page", example: "directory new --type okta-scim-v2 --name \"Acme Okta\"")
    private static let type = Flag.option("--type", "TYPE", "the provider type (default azure-scim-v2; see: providers)")
    private static let name = Flag.option("--name", "N", "the directory's name (default: the link's name, else scim-TENANT-PRODUCT)")

    private let type: String?
    private let name: String?

    /// The type and name typed.
    init(_ input: ParsedCommand) {
        type = input[Self.type]
        name = input[Self.name]
    }

    /// Creates the directory and prints what to give the identity provider.
    func run(in session: ConsoleSession) throws {
        let page = try session.requirePage()
        var kind = DirectoryType.azure
        if let t = type {
            guard let parsed = DirectoryType(rawValue: Validation.trimmed(t)) else {
                let hint = closestMatch(to: t, in: DirectoryType.allCases.map(\.rawValue)).map { " — did you mean \($0)?" } ?? ""
                throw ConsoleError.usage("unknown provider type \"\(t)\"\(hint) (see: providers)")
            }
            kind = parsed
        }
        let d = try page.createDirectory(type: kind, name: name)
        if session.json { session.emit([("result", .string("created"))] + d.jsonFields(in: session)) } else {
            if d.type.usesSCIM {
                session.say("Created a directory of type \(d.type.label). Give your identity provider these values:")
            } else {
                session.say("Created a Google directory. It has no SCIM endpoint: a Google Workspace administrator authorizes it on the setup page"
                            + " (Authorize with Google), then the hub syncs its users and groups.")
                if try GoogleCredentials.offeredClientID(session.service.store) == nil {
                    session.say("Note: " + GoogleCredentials.notOffered + "; it syncs once a hub with Google configured serves its setup page.")
                }
            }
            session.say(d.section(in: session))
            if let guide = d.type.guide {
                session.say("\nIn \(guide.provider): the SCIM endpoint goes in “\(guide.endpointField)”, the SCIM token in “\(guide.tokenField)”"
                            + " (steps: \(guide.documentation)).")
            }
        }
    }
}
