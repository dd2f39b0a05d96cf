import Fixtures
import Replica
import Testing
@testable import Console

@Suite struct CommandLexerTests {
    @Test func blanksSeparateWords() throws {
        #expect(try CommandLexer.split("  link   list\t--tenant acme  ") == ["link", "list", "--tenant", "acme"])
        #expect(try CommandLexer.split("") == [])
        #expect(try CommandLexer.split("   \t ") == [])
    }

    @Test func doubleQuotesKeepSpaces() throws {
        #expect(try CommandLexer.split(#"link create --name "Acme EU""#) == ["link", "create", "--name", "Acme EU"])
    }

    @Test func singleQuotesAreLiteral() throws {
        #expect(try CommandLexer.split(#"--name 'a "b" \n $x'"#) == ["--name", #"a "b" \n $x"#])
    }

    @Test func flagWithEqualsStaysOneWord() throws {
        #expect(try CommandLexer.split("--name=Acme") == ["--name=Acme"])
        #expect(try CommandLexer.split(#"--name="Acme EU""#) == ["--name=Acme EU"])
    }

    @Test func quotesJoinWithNeighbours() throws {
        #expect(try CommandLexer.split(#"a'b c'"d e"f"#) == ["ab cd ef"])
    }

    @Test func emptyQuotesMakeAnEmptyWord() throws {
        #expect(try CommandLexer.split(#"--name '' x """#) == ["--name", "", "x", ""])
    }

    @Test func backslashEscapesInsideDoubleQuotes() throws {
        #expect(try CommandLexer.split(#""a\"b\\c\$d\`e""#) == [#"a"b\c$d`e"#])
        // Before other characters the backslash stays, as in sh.
        #expect(try CommandLexer.split(#""a\nb""#) == [#"a\nb"#])
    }

    @Test func backslashOutsideQuotesEscapesNextCharacter() throws {
        #expect(try CommandLexer.split(#"Acme\ EU \'x \"y \\z"#) == ["Acme EU", "'x", "\"y", "\\z"])
    }

    @Test func unterminatedDoubleQuoteIsAnError() {
        #expect(throws: LexError(reason: .unterminatedDoubleQuote, column: 8)) {
            try CommandLexer.split(#"--name "Acme EU"#)
        }
        #expect(LexError(reason: .unterminatedDoubleQuote, column: 8).description == "unterminated double quote")
    }

    @Test func unterminatedSingleQuoteIsAnError() {
        #expect(throws: LexError(reason: .unterminatedSingleQuote, column: 3)) {
            try CommandLexer.split("a 'b")
        }
    }

    @Test func escapedQuoteDoesNotCloseDoubleQuote() {
        #expect(throws: LexError(reason: .unterminatedDoubleQuote, column: 1)) {
            try CommandLexer.split(#""abc\""#)
        }
    }

    @Test func trailingBackslashIsAnError() {
        #expect(throws: LexError(reason: .trailingBackslash, column: 6)) {
            try CommandLexer.split(#"link \"#)
        }
    }

    @Test func lineStartingWithHashIsAComment() throws {
        #expect(try CommandLexer.split("# link delete 1") == [])
        #expect(try CommandLexer.split("   #link delete 'unterminated") == [])
    }

    @Test func hashInsideALineIsLiteral() throws {
        #expect(try CommandLexer.split("link show #12 a#b") == ["link", "show", "#12", "a#b"])
        #expect(try CommandLexer.split(#"'#' x"#) == ["#", "x"])
    }

    @Test func quoteLeavesPlainWordsAlone() {
        #expect(CommandLexer.quote("--tenant") == "--tenant")
        #expect(CommandLexer.quote("acme/crm") == "acme/crm")
        #expect(CommandLexer.quote("--name=Acme") == "--name=Acme")
        #expect(CommandLexer.quote("Zürich") == "Zürich")
    }

    @Test func quoteWrapsWordsThatNeedIt() {
        #expect(CommandLexer.quote("Acme EU") == "'Acme EU'")
        #expect(CommandLexer.quote("") == "''")
        #expect(CommandLexer.quote("#1") == "'#1'")
        #expect(CommandLexer.quote(#"O'Brien "Ops" $x"#) == #""O'Brien \"Ops\" \$x""#)
        #expect(CommandLexer.join(["link", "create", "--name", "Acme EU"]) == "link create --name 'Acme EU'")
    }

    @Test func quoteRoundTripsRandomWords() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("quoteRoundTripsRandomWords seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        let alphabet: [Character] = ["a", "Z", "0", " ", "\t", "'", "\"", "\\", "$", "`", "#", "=", "-", "é", "漢", "🙂", "\n"]
        for _ in 0..<500 {
            let length = Int(generator.next() % 8)
            let word = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            #expect(try CommandLexer.split(CommandLexer.quote(word)) == [word], "seed \(seed), word \(word.debugDescription)")
        }
    }
}

