import Testing
@testable import Console

@Suite struct TextTableTests {
    @Test func columnsArePaddedToTheWidestCell() {
        let table = TextTable(
            headers: ["ID", "Tenant", "Product", "Valid till", "Status"],
            rows: [
                ["1", "acme", "crm", "2025-07-01", "active"],
                ["12345", "Acme EU Holding", "hr", "2025-12-31", "expired"],
            ])
        #expect(table.render() == """
            ID     Tenant           Product  Valid till  Status
            1      acme             crm      2025-07-01  active
            12345  Acme EU Holding  hr       2025-12-31  expired
            """)
    }

    @Test func underlineMatchesColumnWidths() {
        let table = TextTable(headers: ["ID", "Name"], rows: [["1", "acme"]], underline: true)
        #expect(table.render() == """
            ID  Name
            --  ----
            1   acme
            """)
    }

    @Test func noLineEndsInSpaces() {
        let table = TextTable(headers: ["Name", "Note"], rows: [["a very long name", ""], ["b", "x"]])
        #expect(table.render() == """
            Name              Note
            a very long name
            b                 x
            """)
    }

    @Test func headersOnlyWhenThereAreNoRows() {
        #expect(TextTable(headers: ["ID", "Tenant"]).render() == "ID  Tenant")
        #expect(TextTable(headers: []).render() == "")
    }

    @Test func shortRowsGetEmptyCells() {
        var table = TextTable(headers: ["A", "B", "C"])
        table.append(["1"])
        table.append(["1", "2", "3", "4"])
        #expect(table.render() == "A  B  C\n1\n1  2  3  4")
    }

    @Test func rightAlignedColumnsPadOnTheLeft() {
        let table = TextTable(headers: ["Peer", "Pulled"], rows: [["eu", "7"], ["us", "1234"]],
                              alignments: [.left, .right])
        #expect(table.render() == """
            Peer  Pulled
            eu         7
            us      1234
            """)
    }

    @Test func widthCountsGraphemesAndWideCharacters() {
        #expect(displayWidth("e\u{301}te\u{301}") == 3)
        #expect(displayWidth("漢字") == 4)
        #expect(displayWidth("🙂") == 2)
        #expect(displayWidth("👩‍👩‍👧") == 2)
        let table = TextTable(headers: ["Name", "X"], rows: [["漢字", "1"], ["Zürich", "2"]])
        #expect(table.render() == """
            Name    X
            漢字    1
            Zürich  2
            """)
    }

    @Test func lineBreaksInCellsBecomeSpaces() {
        let table = TextTable(headers: ["A", "B"], rows: [["x\ny", "z"]])
        #expect(table.render() == "A    B\nx y  z")
    }

    @Test func sectionPadsLabels() {
        let text = renderSection(title: "Directory", rows: [
            ("ID", "d-1"),
            ("SCIM Endpoint", "https://example.com/scim/v2"),
            ("SCIM Token", "abc"),
        ])
        #expect(text == """
            Directory
            ID             d-1
            SCIM Endpoint  https://example.com/scim/v2
            SCIM Token     abc
            """)
    }

    @Test func sectionWithoutTitleAndWithMultilineValue() {
        let text = renderSection(title: "", rows: [("Note", "first\nsecond"), ("Empty", "")])
        #expect(text == "Note   first\n       second\nEmpty")
    }
}
