import JSON
import Testing
@testable import Scim

/// The filter language of RFC 7644 §3.4.2.2: grammar, precedence, operators,
/// value paths, URNs, case rules, type checks, errors and hostile input.
@Suite struct ScimFilterTests {
    static func json(_ s: String) -> JSONValue { try! JSONParser.parse(Array(s.utf8)) }

    static let user = json("""
    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
     "id":"2819c223-7f76-453a-919d-413861904646","externalId":"Ext-42","userName":"Bjensen@Example.com",
     "name":{"familyName":"Jensen","givenName":"Barbara"},"displayName":"Babs Jensen","title":"Tour Guide",
     "active":true,
     "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","manager":{"value":"m-1"}},
     "meta":{"resourceType":"User","created":"2011-08-01T18:29:49.793Z","lastModified":"2011-08-01T18:29:49.793Z"}}
    """)

    func matches(_ filter: String, _ resource: JSONValue = ScimFilterTests.user) throws -> Bool {
        try ScimFilter.parse(filter, for: ScimSchemas.userResource).matches(resource)
    }

    func rejects(_ filter: String, containing fragment: String = "") {
        do {
            _ = try ScimFilter.parse(filter, for: ScimSchemas.userResource)
            Issue.record("accepted \(filter)")
        } catch {
            #expect(error.status == 400)
            #expect(error.kind == .invalidFilter)
            #expect(fragment.isEmpty || error.detail.contains(fragment), "\(error.detail)")
        }
    }

    @Test func everyOperatorOnStrings() throws {
        #expect(try matches(#"title eq "Tour Guide""#))
        #expect(try !matches(#"title eq "Tour""#))
        #expect(try matches(#"title ne "Tour""#))
        #expect(try !matches(#"title ne "tour guide""#))  // case-insensitive attribute
        #expect(try matches(#"title co "our G""#))
        #expect(try matches(#"title sw "Tour""#))
        #expect(try matches(#"title ew "Guide""#))
        #expect(try !matches(#"title ew "Tour""#))
        #expect(try matches(#"title gt "Tour""#))
        #expect(try matches(#"title ge "Tour Guide""#))
        #expect(try matches(#"title lt "Z""#))
        #expect(try matches(#"title le "tour guide""#))
        #expect(try !matches(#"title lt "A""#))
        #expect(try matches("title pr"))
        #expect(try !matches("nickName pr"))
    }

    @Test func caseRulesFollowTheSchema() throws {
        // userName and displayName compare without case; id and externalId exactly.
        #expect(try matches(#"userName eq "bjensen@example.com""#))
        #expect(try matches(#"USERNAME EQ "BJENSEN@EXAMPLE.COM""#))
        #expect(try matches(#"displayName eq "babs jensen""#))
        #expect(try matches(#"externalId eq "Ext-42""#))
        #expect(try !matches(#"externalId eq "ext-42""#))
        #expect(try !matches(#"id eq "2819C223-7F76-453A-919D-413861904646""#))
        #expect(try matches(#"id eq "2819c223-7f76-453a-919d-413861904646""#))
        #expect(try matches(#"ExternalID Eq "Ext-42""#))
    }

    @Test func precedenceNotAndOr() throws {
        // and binds tighter than or: false and false or true == true.
        #expect(try matches(#"title eq "x" and title eq "y" or userName pr"#))
        // true or (false and false) == true; with parentheses the other way: (true or false) and false == false.
        #expect(try matches(#"userName pr or title eq "x" and title eq "y""#))
        #expect(try !matches(#"(userName pr or title eq "x") and title eq "y""#))
        #expect(try !matches(#"not (userName pr)"#))
        #expect(try matches(#"not (title eq "x") and not(nickName pr)"#))
        #expect(try matches(#"((((userName pr))))"#))
        #expect(try matches(#"userName pr AND title pr Or nickName pr"#))
    }

    @Test func subAttributesAndMultiValuedAttributes() throws {
        #expect(try matches(#"name.familyName eq "jensen""#))
        #expect(try matches(#"emails.value eq "babs@jensen.org""#))
        #expect(try matches(#"emails co "jensen.org""#))  // a complex attribute compares its value
        #expect(try matches(#"emails.type eq "home""#))
        #expect(try !matches(#"emails.type eq "other""#))
        #expect(try matches("emails pr"))
        #expect(try matches(#"emails.primary eq true"#))
    }

    @Test func valuePaths() throws {
        #expect(try matches(#"emails[type eq "work" and value co "@example.com"]"#))
        #expect(try !matches(#"emails[type eq "home" and value co "@example.com"]"#))
        #expect(try matches(#"emails[type eq "home" or primary eq true] and userName pr"#))
        #expect(try matches(#"emails[not (type eq "work")]"#))
        // The form some clients send: the sub-attribute after the brackets.
        #expect(try matches(#"emails[type eq "work"].value eq "bjensen@example.com""#))
        #expect(try !matches(#"emails[type eq "home"].value eq "bjensen@example.com""#))
    }

    @Test func schemaQualifiedPaths() throws {
        #expect(try matches(#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#))
        #expect(try matches(#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:employeeNumber sw "70""#))
        #expect(try matches(#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m-1""#))
        #expect(try matches(#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com""#))
        #expect(try !matches(#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr"#))
    }

    @Test func booleansNumbersNullsAndDates() throws {
        #expect(try matches("active eq true"))
        #expect(try matches("active eq TRUE"))
        #expect(try !matches("active eq false"))
        #expect(try matches("active ne false"))
        #expect(try matches(#"active eq "True""#))  // a string boolean, as Entra ID writes them
        #expect(try matches("nickName eq null"))
        #expect(try !matches("title eq null"))
        #expect(try matches("title ne null"))
        #expect(try matches(#"meta.lastModified gt "2011-05-13T04:42:34Z""#))
        #expect(try !matches(#"meta.lastModified gt "2011-08-01T18:29:50Z""#))
        #expect(try matches(#"meta.created ge "2011-08-01T20:29:49.793+02:00""#))
        #expect(try matches(#"meta.created eq "2011-08-01T18:29:49.7930Z""#))
        #expect(try matches(#"meta.resourceType eq "User""#))
    }

    @Test func numbersCompareNumerically() throws {
        let schema = ResourceSchema(name: "Thing", endpoint: "/Things", description: "", core: SchemaDefinition(
            id: "urn:example:Thing", name: "Thing", description: "", attributes: [
                AttributeDefinition("size", .integer, description: ""),
                AttributeDefinition("ratio", .decimal, description: ""),
            ]), extensions: [])
        let r = Self.json(#"{"size":10,"ratio":0.5}"#)
        func m(_ f: String) throws -> Bool { try ScimFilter.parse(f, for: schema).matches(r) }
        #expect(try m("size gt 9"))
        #expect(try !m("size gt 10"))
        #expect(try m("size ge 10"))
        #expect(try m("size lt 1e2"))
        #expect(try m("ratio le 0.5"))
        #expect(try m("ratio gt -1"))
        #expect(try m("size eq 10.0"))
        #expect(throws: ScimError.self) { try ScimFilter.parse("size co 1", for: schema) }
        #expect(throws: ScimError.self) { try ScimFilter.parse(#"size eq "10""#, for: schema) }
    }

    @Test func malformedFiltersAreInvalidFilter() {
        rejects("")
        rejects("userName", containing: "operator")
        rejects("userName eq", containing: "value")
        rejects(#"userName eq "x" and"#)
        rejects(#"userName eq "x" or"#)
        rejects(#"userName xx "x""#, containing: "unknown operator")
        rejects(#"userName eq "unterminated"#, containing: "unterminated")
        rejects(#"(userName eq "x""#, containing: ")")
        rejects(#"userName eq "x")"#, containing: "unexpected")
        rejects(#"emails[type eq "work""#, containing: "]")
        rejects(#"emails[type eq "work"]]"#)
        rejects(#"not userName eq "x""#, containing: "parenthesized")
        rejects(#"userName eq x"#, containing: "expected a value")
        rejects(#"userName eq "bad \q escape""#, containing: "invalid string")
        rejects(#"name..givenName eq "x""#)
        rejects(#"name.givenName.x eq "x""#)
        rejects(#"userName eq "x" userName eq "y""#)
    }

    @Test func unknownAndMistypedAttributesAreInvalidFilter() {
        rejects(#"favoriteColor eq "blue""#, containing: "unknown attribute")
        rejects(#"name.nickname eq "x""#, containing: "no sub-attribute")
        rejects(#"urn:example:custom:2.0:User:thing eq "x""#, containing: "unknown attribute")
        rejects(#"userName.first eq "x""#, containing: "no sub-attributes")
        rejects(#"emails[nosuch eq "x"]"#, containing: "no sub-attribute")
        rejects(#"name[givenName eq "x"]"#, containing: "multi-valued")
        rejects(#"emails[type eq "work"][value eq "x"]"#)
        rejects(#"emails[value[type eq "x"] eq "y"]"#)
        rejects("active gt true", containing: "boolean")
        rejects(#"active eq "maybe""#, containing: "boolean")
        rejects("userName eq 42", containing: "string")
        rejects(#"name eq "x""#, containing: "complex")
        rejects(#"meta.created gt "yesterday""#, containing: "date")
        rejects(#"meta.created co "2011""#, containing: "co, sw and ew")
        rejects("userName gt null", containing: "null")
        rejects(#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User eq "x""#, containing: "extension")
    }

    @Test func hostileInputFailsCleanly() {
        // A million nested parentheses: refused by length before any recursion.
        let deep = String(repeating: "(", count: 1_000_000) + #"userName eq "x""# + String(repeating: ")", count: 1_000_000)
        rejects(deep, containing: "longer than")
        // Within the length limit, nesting is still bounded.
        let nested = String(repeating: "(", count: 2000) + #"userName eq "x""# + String(repeating: ")", count: 2000)
        rejects(nested, containing: "nests deeper")
        let nots = String(repeating: "not (", count: 500) + "userName pr" + String(repeating: ")", count: 500)
        rejects(nots, containing: "nests deeper")
        // A huge string literal.
        rejects(#"userName eq ""# + String(repeating: "a", count: 2_000_000) + #"""#, containing: "longer than")
        // Too many comparisons.
        let many = (0..<300).map { #"userName eq "u\#($0)""# }.joined(separator: " or ")
        rejects(many, containing: "comparisons")
        // Control bytes, invalid escapes, a lone quote, binary junk.
        rejects("userName eq \"\u{0}\"")
        rejects("\"")
        rejects("\u{FFFD}\u{1}\u{7F}")
        rejects(#"userName eq "\ud800""#, containing: "invalid string")
        // Just under the limits still works.
        let ok = String(repeating: "(", count: ScimFilter.maxDepth) + "userName pr" + String(repeating: ")", count: ScimFilter.maxDepth)
        #expect((try? ScimFilter.parse(ok, for: ScimSchemas.userResource)) != nil)
    }

    @Test func indexHintsRecognizeLookups() throws {
        func hints(_ f: String, _ s: ResourceSchema = ScimSchemas.userResource) throws -> [ScimIndexHint]? {
            try ScimFilter.parse(f, for: s).indexHints(for: s)
        }
        #expect(try hints(#"userName eq "Alice@X.com""#) == [.userName("alice@x.com")])
        #expect(try hints(#"externalId eq "A1""#) == [.externalId("A1")])
        #expect(try hints(#"id eq "abc""#) == [.id("abc")])
        #expect(try hints(#"userName eq "a" and active eq true"#) == [.userName("a")])
        #expect(try hints(#"active eq true and externalId eq "e" and id eq "i""#) == [.id("i")])
        #expect(try hints(#"userName eq "a" or userName eq "b""#) == [.userName("a"), .userName("b")])
        #expect(try hints(#"userName eq "a" or active eq true"#) == nil)
        #expect(try hints(#"userName sw "a""#) == nil)
        #expect(try hints(#"not (userName eq "a")"#) == nil)
        #expect(try hints(#"displayName eq "Babs""#) == nil)  // users have no displayName index
        let g = ScimSchemas.groupResource
        #expect(try hints(#"displayName eq "Sales""#, g) == [.displayName("sales")])
        #expect(try hints(#"members[value eq "u1"]"#, g) == [.member("u1")])
        #expect(try hints(#"members.value eq "u1""#, g) == [.member("u1")])
        #expect(try hints(#"externalId eq "g" and displayName eq "Sales""#, g) == [.externalId("g")])
    }

    @Test func groupFiltersOverMembers() throws {
        let group = Self.json(#"{"id":"g1","displayName":"Sales","members":[{"value":"u1","display":"Ann"},{"value":"u2"}]}"#)
        let f = try ScimFilter.parse(#"members[value eq "u2"] and displayName eq "sales""#, for: ScimSchemas.groupResource)
        #expect(f.matches(group))
        #expect(f.mentions("members"))
        #expect(!f.mentions("externalId"))
        #expect(try !ScimFilter.parse(#"members[value eq "U2"]"#, for: ScimSchemas.groupResource).matches(group))
    }
}
