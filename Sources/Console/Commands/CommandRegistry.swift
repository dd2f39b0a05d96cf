/// Every REPL command, once: help, completion, suggestions, history redaction and
/// one-shot dispatch are all derived from this list.
///
/// Adding a command is one file in `Commands/<Area>/` and one line here; the
/// order is the order `help` lists the commands in (within their sections).
enum CommandRegistry {
    /// The commands.
    static let commands: [any ConsoleCommand.Type] = [
        // Setup links (admin)
        LinkCreate.self,
        LinkList.self,
        LinkShow.self,
        LinkCopy.self,
        LinkUpdate.self,
        LinkRegenerate.self,
        LinkDelete.self,
        // Directories, and the users and groups their identity providers provisioned
        DirectoryList.self,
        DirectoryShow.self,
        DirectoryRename.self,
        DirectoryUsers.self,
        DirectoryGroups.self,
        UserShow.self,
        GroupShow.self,
        DirectoryEvents.self,
        DirectorySyncNow.self,
        // Tenant flow
        OpenPage.self,
        ProviderList.self,
        DirectoryNew.self,
        DirectoryActivate.self,
        DirectoryDeactivate.self,
        DirectoryDelete.self,
        ClosePage.self,
        // App API keys
        ApiKeyCreate.self,
        ApiKeyList.self,
        ApiKeyRevoke.self,
        // Sync and housekeeping
        PeerAdd.self,
        PeerUpdate.self,
        PeerList.self,
        PeerRemove.self,
        SyncPeers.self,
        MemberList.self,
        MemberRetire.self,
        ReplicaStatus.self,
        ConflictList.self,
        ReplicaConfig.self,
        Help.self,
        Quit.self,
    ]

    /// The configurations, in registry order.
    static let configurations: [CommandConfiguration] = commands.map { $0.configuration }

    /// The command whose words start `words`, longest first.
    static func lookup(_ words: [String]) -> (any ConsoleCommand.Type)? {
        var best: (any ConsoleCommand.Type)?
        for c in commands {
            let path = c.configuration.words
            guard words.count >= path.count, Array(words.prefix(path.count)) == path else { continue }
            if best == nil || path.count > best!.configuration.words.count { best = c }
        }
        return best
    }

    /// The command `word` is an alias of (`exit`), if any.
    static func command(aliased word: String) -> (any ConsoleCommand.Type)? {
        commands.first { $0.configuration.aliases.contains(word) }
    }

    /// Every alias, for completion and suggestions.
    static var aliases: [String] { configurations.flatMap(\.aliases) }

    /// Every command name and alias, for suggestions.
    static var names: [String] { configurations.map(\.name) + aliases }

    /// The first word of every command (`link`, `sync`, …), once each for each command, in registry order.
    static var firstWords: [String] { configurations.map { $0.words[0] } }

    /// Command paths and aliases with their flags, for tab completion.
    static var completionTable: [String: [String]] {
        var table: [String: [String]] = [:]
        for c in configurations {
            table[c.name] = c.flags.map(\.name)
            for alias in c.aliases { table[alias] = c.flags.map(\.name) }
        }
        return table
    }

    /// The flags whose values are secrets, over every command.
    static var secretFlags: Set<String> {
        Set(configurations.flatMap { $0.flags.filter(\.secret).map(\.name) })
    }
}
