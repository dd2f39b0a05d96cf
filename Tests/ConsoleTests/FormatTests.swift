import Foundation
import Testing
@testable import Console

/// Issue 12.12: one date format, human sizes, colour rules, truncated cells; and history redaction.
@Suite struct FormatTests {
    @Test func datesHaveOneTableFormatAndISOInJSON() {
        let d = Date(timeIntervalSince1970: 1_796_240_645)   // 2026-12-02 19:44:05 UTC
        #expect(Format.date(d) == "2026-12-02 19:44 UTC")
        #expect(Format.iso(d) == "2026-12-02T19:44:05Z")
        #expect(Format.displayIfTimestamp("2026-12-02T19:44:05Z") == "2026-12-02 19:44 UTC")
        #expect(Format.displayIfTimestamp("acme") == "acme")
    }

    @Test func sizesAreHumanInBinaryUnits() {
        #expect(Format.bytes(812) == "812 B")
        #expect(Format.bytes(1536) == "1.5 KiB")
        #expect(Format.bytes(51_094_100) == "48.7 MiB")
        #expect(Format.bytes(52_323_942) == "49.9 MiB")
        #expect(Format.bytes(3 * 1024 * 1024 * 1024) == "3.0 GiB")
    }

    @Test func colourOnlyOnATerminalWithoutNoColor() {
        #expect(!Style.wanted(fd: -1, environment: [:]), "not a terminal")
        #expect(!Style.wanted(fd: STDIN_FILENO, environment: ["NO_COLOR": "1"]))
        #expect(Style(enabled: true).status("active") == "\u{1B}[32mactive\u{1B}[0m")
        #expect(Style(enabled: false).status("expired") == "expired")
        #expect(Style(enabled: true).status("acme") == "acme")
    }

    @Test func longCellsEndInAnEllipsisAndColumnsStayAligned() {
        var t = TextTable(headers: ["ID", "Name"], maxCellWidth: 10)
        t.append(["1", String(repeating: "x", count: 30)])
        t.append(["2", "short"])
        #expect(t.render() == """
            ID  Name
            1   xxxxxxxxx…
            2   short
            """)
        #expect(truncated("日本語テキスト", to: 5) == "日本…")
        #expect(truncated("abc", to: 3) == "abc")
        // Colour is applied after measuring, so styled cells keep the columns straight.
        var c = TextTable(headers: ["S", "X"])
        c.append(["active", "1"])
        c.style = { column, cell in column == 0 ? Style(enabled: true).status(cell) : cell }
        #expect(c.render().split(separator: "\n")[1] == "\u{1B}[32mactive\u{1B}[0m  1")
    }

    @Test func historyKeepsCommandsButNotSecrets() {
        #expect(SecretRedaction.redact("link list") == "link list")
        #expect(SecretRedaction.redact("link create --tenant a --webhook-secret 'my secret' --name x")
                == "link create --tenant a --webhook-secret REDACTED --name x")
        #expect(SecretRedaction.redact("peer add hub http://h --token=abc") == "peer add hub http://h --token=REDACTED")
        #expect(SecretRedaction.redact("sync hub --scim-token x --token y") == "sync hub --scim-token REDACTED --token REDACTED")
        #expect(SecretRedaction.redact("link create --webhook-secret \"unterminated") == nil)
        #expect(SecretRedaction.redact("open $(link copy 33) --token x") == nil)
    }

    @Test func argumentsAreCountedPastFlagsAndTheirValues() throws {
        let update = try #require(CommandRegistry.lookup(["link", "update"])).configuration
        #expect(update.positionalIndex(["link", "update"]) == 0)
        #expect(update.positionalIndex(["link", "update", "--name"]) == nil, "a flag's value")
        #expect(update.positionalIndex(["link", "update", "--name", "x"]) == 0)
        #expect(update.positionalIndex(["link", "update", "33"]) == 1)
        let rename = try #require(CommandRegistry.lookup(["directory", "rename"])).configuration
        #expect(rename.argumentKind(at: 0) == .record(.directory))
        #expect(rename.argumentKind(at: 1) == nil)
        #expect(try #require(CommandRegistry.lookup(["sync"])).configuration.argumentKind(at: 0) == .peer)
        #expect(try #require(CommandRegistry.lookup(["peer", "add"])).configuration.argumentKind(at: 0) == nil)
    }
}
