import Testing
@testable import Console

@Suite struct CompletionTests {
    let commands: [String: [String]] = [
        "link create": ["--tenant", "--product", "--webhook-url", "--webhook-secret", "--name", "--expiry-days", "--regenerate"],
        "link list": ["--tenant", "--product"],
        "link show": [],
        "directory list": ["--tenant", "--product"],
        "help": [],
        "quit": [],
    ]

    @Test func firstWordCompletesCommands() {
        #expect(completions(for: "", commands: commands) == ["directory", "help", "link", "quit"])
        #expect(completions(for: "li", commands: commands) == ["link"])
        #expect(completions(for: "  q", commands: commands) == ["quit"])
        #expect(completions(for: "x", commands: commands) == [])
    }

    @Test func secondWordCompletesSubcommands() {
        #expect(completions(for: "link ", commands: commands) == ["create", "list", "show"])
        #expect(completions(for: "link l", commands: commands) == ["list"])
        #expect(completions(for: "directory ", commands: commands) == ["list"])
    }

    @Test func flagsFollowAWholeCommand() {
        #expect(completions(for: "link list ", commands: commands) == ["--tenant", "--product"])
        #expect(completions(for: "link create --w", commands: commands) == ["--webhook-url", "--webhook-secret"])
        #expect(completions(for: "link show ", commands: commands) == [])
    }

    @Test func usedFlagsAreLeftOut() {
        #expect(completions(for: "link list --tenant acme ", commands: commands) == ["--product"])
        #expect(completions(for: "link list --tenant=acme --", commands: commands) == ["--product"])
        #expect(completions(for: #"link create --name "Acme EU" --n"#, commands: commands) == [])
    }

    @Test func flagValuesAreNotCompleted() {
        #expect(completions(for: "link list --tenant=ac", commands: commands) == [])
    }

    @Test func commandWordsComeBeforeFlags() {
        let table: [String: [String]] = ["peer": ["--json"], "peer add": [], "peer list": []]
        #expect(completions(for: "peer ", commands: table) == ["add", "list", "--json"])
    }

    @Test func contextSplitsFinishedWordsFromTheWordInProgress() {
        let context = LineContext(line: #"link create --name "Acme E"#)
        #expect(context.words == ["link", "create", "--name"])
        #expect(context.currentWord == "Acme E")
        #expect(context.typedCurrentWord == #""Acme E"#)
        let fresh = LineContext(line: "link ")
        #expect(fresh.words == ["link"])
        #expect(fresh.currentWord == "")
        #expect(LineContext(line: "").words == [])
    }

    @Test func typedFormQuotesOnlyWhenNeeded() {
        #expect(LineEditor.typed("create", complete: true) == "create ")
        #expect(LineEditor.typed("Acme EU", complete: true) == "'Acme EU' ")
        #expect(LineEditor.typed("Acme ", complete: false) == "'Acme ")
        #expect(LineEditor.typed("O'Brien", complete: true) == #"'O'\''Brien' "#)
    }

    @Test func candidatesAreLaidOutInColumns() {
        #expect(LineEditor.columns(["create", "list", "show"], width: 80) == "create  list    show")
        #expect(LineEditor.columns(["create", "list", "show"], width: 17) == "create  list\nshow")
        #expect(LineEditor.columns(["create"], width: 3) == "create")
    }
}

import SetupLinks
import Storage

/// TAB on a replica: ids by prefix and peer names (issue 12.7).
@Suite struct ReplicaCompletionTests {
    @Test func idsAndPeerNamesComplete() throws {
        let store = try SetupLinkService.openStore(path: temporaryReplica())
        defer { store.close() }
        let service = try SetupLinkService(store: store)
        let (acme, _) = try service.createLink(tenant: "acme", product: "crm", webhookURL: "https://h/x", webhookSecret: "s")
        let (globex, _) = try service.createLink(tenant: "globex", product: "crm", webhookURL: "https://h/x", webhookSecret: "s")
        let mine = try service.open(acme.token).createDirectory()
        let theirs = try service.open(globex.token).createDirectory()
        try store.peers.add(name: "hub", url: "http://h:8080", token: nil)
        try store.peers.add(name: "hub-eu", url: "http://e:8080", token: nil)
        let session = ConsoleSession(service: service, json: false, io: ConsoleIO(out: { _ in }, confirm: nil))
        #expect(session.completions(for: LineContext(line: "link show " + acme.id.prefix(3))) == [acme.id])
        #expect(session.completions(for: LineContext(line: "link update --name x " + acme.id.prefix(3))) == [acme.id])
        #expect(session.completions(for: LineContext(line: "link update --name " + acme.id.prefix(3))).isEmpty, "a flag's value")
        #expect(session.completions(for: LineContext(line: "directory show " + theirs.id.prefix(4))) == [theirs.id])
        #expect(session.completions(for: LineContext(line: "sync h")) == ["hub", "hub-eu"])
        #expect(session.completions(for: LineContext(line: "peer remove hub-")) == ["hub-eu"])
        #expect(session.completions(for: LineContext(line: "peer add h")).isEmpty, "a new name")
        // On a setup page only that page's directories are offered.
        #expect(session.run(line: "open \(acme.token)") == .ok)
        #expect(session.completions(for: LineContext(line: "directory show ")) == [mine.id])
        #expect(session.completions(for: LineContext(line: "directory show " + theirs.id.prefix(4))).isEmpty)
    }
}
