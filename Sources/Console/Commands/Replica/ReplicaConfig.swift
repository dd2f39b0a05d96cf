import JSON
import SetupLinks

/// `config [KEY [VALUE]]`: this replica's local settings (not replicated).
struct ReplicaConfig: ConsoleCommand {
    /// `config [KEY] [VALUE]`.
    static let configuration = CommandConfiguration(
        "config", section: .housekeeping, arguments: [key, value],
        summary: "show or set this replica's settings (default-expiry-days, external-url, max-directories-per-link)", example: "config default-expiry-days 7")
    private static let key = Argument.optional("KEY")
    private static let value = Argument.optional("VALUE")

    /// The settings `config` knows.
    static let settings = ["default-expiry-days", "external-url", "max-directories-per-link"]

    private let key: String?
    private let value: String?

    /// The setting and value typed, if any.
    init(_ input: ParsedCommand) {
        key = input[Self.key]
        value = input[Self.value]
    }

    /// Shows every setting, or shows or sets one.
    func run(in session: ConsoleSession) throws {
        let service = session.service
        guard let key else {
            let days = try service.replicaExpiryDays()
            let quota = try service.maxDirectoriesPerLink()
            if session.json {
                session.emit([("default-expiry-days", .int(Int64(days))), ("external-url", .string(service.externalURL)),
                              ("external-url-source", .string(session.externalURLSource)),
                              ("max-directories-per-link", .int(Int64(quota)))])
            } else {
                session.say(renderSection(title: "", rows: [("default-expiry-days", String(days)),
                                                            ("external-url", "\(service.externalURL) (\(session.externalURLSource))"),
                                                            ("max-directories-per-link", String(quota))]))
            }
            return
        }
        guard Self.settings.contains(key) else {
            let hint = closestMatch(to: key, in: Self.settings).map { " — did you mean \($0)?" } ?? " (settings: \(Self.settings.joined(separator: ", ")))"
            throw ConsoleError.usage("unknown setting \"\(key)\"\(hint)")
        }
        switch key {
        case "default-expiry-days":
            var changed = false
            if let value { changed = try service.setReplicaExpiryDays(try Validation.expiryDays(value)) }
            let days = try service.replicaExpiryDays()
            if session.json {
                session.emit([(key, .int(Int64(days)))] + (value != nil ? [("result", .string(changed ? "set" : "unchanged"))] : []))
            } else {
                session.say("\(key) = \(days)")
            }
        case "max-directories-per-link":
            var changed = false
            if let value {
                guard let limit = Int(Validation.trimmed(value)) else {
                    throw ConsoleError.usage("max-directories-per-link must be a whole number from 1 to 10000, not \(value)")
                }
                changed = try service.setMaxDirectoriesPerLink(limit)
            }
            let limit = try service.maxDirectoriesPerLink()
            if session.json {
                session.emit([(key, .int(Int64(limit)))] + (value != nil ? [("result", .string(changed ? "set" : "unchanged"))] : []))
            } else {
                session.say("\(key) = \(limit)")
            }
        default:
            try externalURL(in: session)
        }
    }

    /// `config external-url [URL]`: a local setting of this replica (not replicated), used
    /// when neither `--external-url` nor `SETUPLINK_EXTERNAL_URL` is given; `''` removes it.
    private func externalURL(in session: ConsoleSession) throws {
        let service = session.service
        var note = ""
        var changed = false
        if let value {
            let value = Validation.trimmed(value)
            changed = try service.setStoredExternalURL(value.isEmpty ? nil : value)
            if ["default", "config", "serve"].contains(session.externalURLSource) {
                try service.useExternalURL(value.isEmpty ? SetupLinkService.defaultExternalURL : value)
                session.externalURLSource = value.isEmpty ? "default" : "config"
            } else {
                note = "stored; this session keeps \(service.externalURL) from \(session.externalURLSource), which wins over the setting"
            }
        }
        if session.json {
            var o: [(String, JSONValue)] = [("external-url", .string(service.externalURL)),
                                            ("external-url-source", .string(session.externalURLSource))]
            if value != nil { o.append(("result", .string(changed ? "set" : "unchanged"))) }
            session.emit(o)
        } else {
            session.say("external-url = \(service.externalURL) (\(session.externalURLSource))" + (note.isEmpty ? "" : "\n" + note))
        }
    }
}
