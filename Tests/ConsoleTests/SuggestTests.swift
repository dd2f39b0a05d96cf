import Testing
@testable import Console

@Suite struct SuggestTests {
    let commands = ["link", "list", "directory", "providers", "open", "close", "quit", "help", "status"]

    @Test func swappedLettersFindTheCommand() {
        #expect(closestMatch(to: "lnik", in: commands) == "link")
        #expect(closestMatch(to: "lsit", in: commands) == "list")
        #expect(closestMatch(to: "dierctory", in: commands) == "directory")
    }

    @Test func matchingIgnoresCaseAndKeepsCandidateSpelling() {
        #expect(closestMatch(to: "LNIK", in: commands) == "link")
        #expect(closestMatch(to: "lnik", in: ["Link"]) == "Link")
    }

    @Test func nothingCloseGivesNil() {
        #expect(closestMatch(to: "xyzzy", in: commands) == nil)
        #expect(closestMatch(to: "", in: commands) == nil)
        #expect(closestMatch(to: "link", in: []) == nil)
        // Two letters, both wrong: not a typo of a two-letter word.
        #expect(closestMatch(to: "ab", in: ["id"]) == nil)
    }

    @Test func prefixMatchesWin() {
        #expect(closestMatch(to: "prov", in: commands) == "providers")
        // "stat" is one edit from "start" but a prefix of "status".
        #expect(closestMatch(to: "stat", in: ["start", "status"]) == "status")
    }

    @Test func thresholdGrowsWithLength() {
        #expect(closestMatch(to: "dirrectoyr", in: commands) == "directory")
        #expect(closestMatch(to: "quxx", in: ["quit"]) == "quit")
        #expect(closestMatch(to: "qxxx", in: ["quit"]) == nil)
        #expect(closestMatch(to: "qxxx", in: ["quit"], maxDistance: 3) == "quit")
    }

    @Test func tiesGoToTheFirstCandidate() {
        #expect(closestMatch(to: "lis", in: ["lid", "lip"]) == "lid")
    }

    @Test func editDistanceCountsSwapsAsOneEdit() {
        #expect(editDistance(Array("ab"), Array("ba")) == 1)
        #expect(editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(editDistance(Array(""), Array("abc")) == 3)
        #expect(editDistance(Array("ca"), Array("abc")) == 3)
    }
}
