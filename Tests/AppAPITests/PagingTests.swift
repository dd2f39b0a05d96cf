import Foundation
import JSON
import TestSupport
import Testing

/// Paging as Jackson's apps page (`pageOffset`/`pageLimit`, `offset`/`limit`) and by
/// `pageToken`, which continues exactly where a page ended while rows are added.
@Suite(.serialized) struct PagingTests {
    @Test func offsetsAndTokensWalkEveryRowOnceInOrder() throws {
        let hub = try APIHub()
        defer { hub.stop() }
        for i in 0..<7 {
            let a = try hub.call("POST", "/api/v1/dsync/setuplinks", json: #"{"tenant":"t\#(i)","product":"crm","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s"}"#)
            #expect(a.status == 201)
        }
        let tenants = (0..<7).map { "t\($0)" }
        // Offsets, in both spellings.
        var seen: [String] = []
        for offset in stride(from: 0, to: 9, by: 3) {
            let a = try hub.call("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageOffset=\(offset)&pageLimit=3")
            seen += a.data?.array.compactMap { $0["tenant"]?.string } ?? []
        }
        #expect(seen == tenants)
        let alt = try hub.call("GET", "/api/v1/dsync/setuplinks/product?product=crm&offset=2&limit=2")
        #expect(alt.data?.array.compactMap { $0["tenant"]?.string } == ["t2", "t3"])
        // No limit, or 0: Jackson's default of 50.
        #expect(try hub.call("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageLimit=0").data?.array.count == 7)
        // Tokens.
        seen = []
        var token: String?
        var pages = 0
        repeat {
            let a = try hub.call("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageLimit=3" + (token.map { "&pageToken=\($0)" } ?? ""))
            #expect(a.status == 200)
            seen += a.data?.array.compactMap { $0["tenant"]?.string } ?? []
            token = a.json?["pageToken"]?.string
            pages += 1
        } while token != nil && pages < 10
        #expect(seen == tenants)
    }

    @Test func aTokenMissesNoUserWhileTheIdentityProviderAddsSome() throws {
        let hub = try APIHub()
        defer { hub.stop() }
        let d = try #require(try hub.call("POST", "/api/v1/dsync", json: #"{"tenant":"acme","product":"crm"}"#).data)
        let id = try #require(d["id"]?.string)
        let endpoint = try #require(d["scim"]?["endpoint"]?.string), secret = try #require(d["scim"]?["secret"]?.string)
        var made: [String] = []
        for i in 0..<10 { made.append(try HTTPClientFixture.scimCreateUser(endpoint: endpoint, token: secret, userName: "u\(i)@acme.test")) }
        var seen: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let a = try hub.call("GET", "/api/v1/dsync/users?directoryId=\(id)&pageLimit=4" + (token.map { "&pageToken=\($0)" } ?? ""))
            let ids = a.data?.array.compactMap { $0["id"]?.string } ?? []
            seen += ids
            token = a.json?["pageToken"]?.string
            pages += 1
            // Between pages, one more user arrives; it must show up on a later page.
            if pages <= 3 { made.append(try HTTPClientFixture.scimCreateUser(endpoint: endpoint, token: secret, userName: "late\(pages)@acme.test")) }
        } while token != nil && pages < 20
        #expect(seen == made, "oldest first, each once, the late ones included")
    }
}
