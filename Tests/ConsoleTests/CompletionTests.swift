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
