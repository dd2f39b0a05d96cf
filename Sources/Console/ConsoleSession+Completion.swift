import Replica
import SetupLinks

extension ConsoleSession {
    /// TAB completion on the replica: command words and flags (from the registry), then
    /// what the positional argument being typed names, as its command declares: link and
    /// directory ids by prefix (on a setup page only that page's directories), user and
    /// group ids, peer names, and command names for `help`.
    public func completions(for context: LineContext) -> [String] {
        var out = Console.completions(for: context, commands: CommandRegistry.completionTable)
        guard !context.currentWord.hasPrefix("-"), let configuration = CommandRegistry.lookup(context.words)?.configuration,
              let index = configuration.positionalIndex(context.words),
              let kind = configuration.argumentKind(at: index) else { return out }
        let typed = context.currentWord
        switch kind {
        case .record(.directory) where page != nil:
            out += ((try? page!.directories()) ?? []).map(\.id).filter { $0.hasPrefix(typed.lowercased()) }
        case .record(let k) where page != nil && (k == .user || k == .group):
            // On a setup page, only that page's directories' users and groups.
            let mine = Set(((try? page!.directories()) ?? []).map(\.id))
            out += ((try? service.idCompletions(kind: k, prefix: typed)) ?? []).filter { id in
                (try? replica.record(id: id)).flatMap { $0.flatMap(ScimRecords.directory(of:)) }.map(mine.contains) ?? false
            }
        case .record(let k):
            out += (try? service.idCompletions(kind: k, prefix: typed)) ?? []
        case .peer:
            out += ((try? peers.all()) ?? []).map(\.name).filter { $0.hasPrefix(typed) }
        case .command:
            if context.words.count == 1 { out += Set(CommandRegistry.firstWords).sorted().filter { $0.hasPrefix(typed) } }
        }
        return out
    }
}
