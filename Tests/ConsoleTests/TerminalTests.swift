import Testing
@testable import Console

@Suite struct TerminalTests {
    /// Runs `confirm` with `answer` as the typed line and returns the result and what was written.
    func ask(_ answer: String?) -> (Bool, String) {
        var written = ""
        let result = Terminal.confirm("Delete link 4f1c?", input: { answer }, output: { written += $0 })
        return (result, written)
    }

    @Test func yesAnswersConfirm() {
        for answer in ["y", "Y", "yes", "YES", "Yes", "  y  ", "\tyes"] {
            #expect(ask(answer).0, "answer \(answer.debugDescription)")
        }
    }

    @Test func anythingElseMeansNo() {
        for answer in ["", "n", "no", "yess", "ye", "sure", "y y"] {
            #expect(!ask(answer).0, "answer \(answer.debugDescription)")
        }
    }

    @Test func endOfInputMeansNo() {
        let (result, written) = ask(nil)
        #expect(!result)
        #expect(written == "Delete link 4f1c? [y/N] \n")
    }

    @Test func questionShowsTheDefault() {
        #expect(ask("y").1 == "Delete link 4f1c? [y/N] ")
    }

    @Test func readsExactlyOneLine() {
        var lines = ["n", "y"]
        let result = Terminal.confirm("Sure?", input: { lines.isEmpty ? nil : lines.removeFirst() }, output: { _ in })
        #expect(!result)
        #expect(lines == ["y"])
    }
}
