import Testing
@testable import SetupPage

@Suite struct HTMLTests {
    @Test func interpolatedStringsAreEscaped() {
        let hostile = "<script>alert(1)</script> & \"quoted\" 'single'"
        let h: HTML = "<p title=\"\(hostile)\">\(hostile)</p>"
        #expect(h.markup == "<p title=\"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;\">"
            + "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;</p>")
    }

    @Test func fragmentsAreInsertedOnceNotEscapedTwice() {
        let inner: HTML = "<b>\("a&b")</b>"
        let outer: HTML = "<p>\(inner)\([inner, inner])</p>"
        #expect(outer.markup == "<p><b>a&amp;b</b><b>a&amp;b</b><b>a&amp;b</b></p>")
    }

    @Test func textWithoutSpecialCharactersIsUnchanged() {
        #expect(HTML.escape("Entra ID SCIM v2.0 – ünïcode 🙂") == "Entra ID SCIM v2.0 – ünïcode 🙂")
        #expect(HTML.escape("") == "")
        #expect(HTML.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
    }
}

@Suite struct SetupPageRoutesTests {
    @Test func theTokenIsTheOneSegmentAfterSetup() {
        #expect(SetupPageRoutes.token("/setup/abc") == "abc")
        #expect(SetupPageRoutes.token("/setup/abc/") == "abc")
        #expect(SetupPageRoutes.token("/setup/abc/x") == nil)
        #expect(SetupPageRoutes.token("/setup/abc//") == nil)
        #expect(SetupPageRoutes.token("/setup/") == nil)
        #expect(SetupPageRoutes.token("/setup") == nil)
        #expect(SetupPageRoutes.token("/setupabc") == nil)
    }
}
