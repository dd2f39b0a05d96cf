import Foundation
import JSON
import TestSupport
import Testing

/// API keys: Jackson's 401, product-limited keys on every route, revocation that replicates.
@Suite(.serialized) struct ApiKeyTests {
    @Test func noKeyWrongKeyAndNoKeysAtAllAreJacksonsUnauthorized() throws {
        // A hub where no key was ever made: the API is off, whatever is sent.
        let off = try APIHub(keys: [])
        defer { off.stop() }
        for key in [nil, "slk_madeup", ""] as [String?] {
            let a = try off.call("GET", "/api/v1/dsync/setuplinks/product?product=crm", key: .some(key))
            #expect(a.status == 401)
            #expect(a.message == "Unauthorized")
        }
        let hub = try APIHub()
        defer { hub.stop() }
        for header in ["", "Api-Key", "Api-Key  \(hub.key())", "Api-Key wrong", hub.key(), "Api-Key \(hub.key())x"] {
            let a = try hub.call("GET", "/api/v1/dsync/setuplinks/product?product=crm", key: .some(nil), headers: ["Authorization": header])
            #expect(a.status == 401, "Authorization: \(header)")
            #expect(a.text == #"{"error":{"message":"Unauthorized","code":401}}"#)
        }
        // Jackson reads the word before the key without checking it.
        for scheme in ["Api-Key", "Bearer"] {
            let a = try hub.call("GET", "/api/v1/dsync/setuplinks/product?product=crm", key: .some(nil),
                                 headers: ["Authorization": "\(scheme) \(hub.key())"])
            #expect(a.status == 200)
        }
        // Unknown paths under /api/v1 are refused before routing without a key, 404 with one.
        #expect(try hub.call("GET", "/api/v1/sso", key: .some(nil)).status == 401)
        #expect(try hub.call("GET", "/api/v1/sso").status == 404)
    }

    @Test func aProductLimitedKeySeesAndChangesOnlyItsProduct() throws {
        let hub = try APIHub(keys: [("admin", nil), ("crm-only", "crm")])
        defer { hub.stop() }
        let admin = hub.key("admin"), limited = hub.key("crm-only")
        // The admin key makes a link and a directory of another product, with a user in it.
        let link = try hub.call("POST", "/api/v1/dsync/setuplinks", json: #"{"tenant":"acme","product":"billing","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s"}"#, key: .some(admin))
        #expect(link.status == 201)
        let setupID = try #require(link.data?["setupID"]?.string)
        let dir = try hub.call("POST", "/api/v1/dsync", json: #"{"tenant":"acme","product":"billing"}"#, key: .some(admin))
        #expect(dir.status == 201)
        let d = try #require(dir.data)
        let did = try #require(d["id"]?.string)
        let user = try HTTPClientFixture.scimCreateUser(endpoint: try #require(d["scim"]?["endpoint"]?.string),
                                                        token: try #require(d["scim"]?["secret"]?.string), userName: "ann@acme.test")
        let group = try HTTPClientFixture.scimCreateGroup(endpoint: d["scim"]!["endpoint"]!.string!, token: d["scim"]!["secret"]!.string!, name: "Eng")
        let events = try hub.call("GET", "/api/v1/dsync/events?directoryId=\(did)", key: .some(admin))
        let eventID = try #require(events.data?["0"]?["id"]?.string)

        let before = try hub.call("GET", "/api/v1/dsync/product?product=billing", key: .some(admin)).text
        // Every route, with the limited key, naming the other product or its records.
        let refused: [(String, String, String?, Int)] = [
            ("POST", "/api/v1/dsync/setuplinks", #"{"tenant":"acme","product":"billing","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s"}"#, 403),
            ("GET", "/api/v1/dsync/setuplinks?id=\(setupID)", nil, 404),
            ("GET", "/api/v1/dsync/setuplinks?tenant=acme&product=billing", nil, 403),
            ("DELETE", "/api/v1/dsync/setuplinks?id=\(setupID)", nil, 404),
            ("DELETE", "/api/v1/dsync/setuplinks?tenant=acme&product=billing", nil, 403),
            ("GET", "/api/v1/dsync/setuplinks/product?product=billing", nil, 403),
            ("POST", "/api/v1/dsync", #"{"tenant":"acme","product":"billing"}"#, 403),
            ("GET", "/api/v1/dsync?tenant=acme&product=billing", nil, 403),
            ("GET", "/api/v1/dsync/\(did)", nil, 404),
            ("PATCH", "/api/v1/dsync/\(did)", #"{"name":"stolen"}"#, 404),
            ("DELETE", "/api/v1/dsync/\(did)", nil, 404),
            ("GET", "/api/v1/dsync/product?product=billing", nil, 403),
            ("GET", "/api/v1/dsync/users?directoryId=\(did)", nil, 404),
            ("GET", "/api/v1/dsync/users?tenant=acme&product=billing", nil, 403),
            ("GET", "/api/v1/dsync/users/\(user)?directoryId=\(did)", nil, 404),
            ("GET", "/api/v1/dsync/users/\(user)?tenant=acme&product=billing", nil, 403),
            ("GET", "/api/v1/dsync/groups?directoryId=\(did)", nil, 404),
            ("GET", "/api/v1/dsync/groups/\(group)?directoryId=\(did)", nil, 404),
            ("GET", "/api/v1/dsync/groups/\(group)/members?directoryId=\(did)", nil, 404),
            ("GET", "/api/v1/dsync/events?directoryId=\(did)", nil, 404),
            ("GET", "/api/v1/dsync/events/\(eventID)?directoryId=\(did)", nil, 404),
            ("DELETE", "/api/v1/dsync/events?directoryId=\(did)", nil, 404),
            ("GET", "/api/v1/dsync/changes?directoryId=\(did)", nil, 404),
        ]
        for (method, path, body, status) in refused {
            let a = try hub.call(method, path, json: body, key: .some(limited))
            #expect(a.status == status, "\(method) \(path): \(a.status) \(a.text)")
            #expect(!a.text.contains("ann@acme.test") && !a.text.contains(did) || a.status >= 400, "\(method) \(path) leaked")
            #expect(a.message != nil, "\(method) \(path): \(a.text)")
        }
        // Nothing changed, and the admin key still sees it all.
        #expect(try hub.call("GET", "/api/v1/dsync/product?product=billing", key: .some(admin)).text == before)
        #expect(try hub.call("GET", "/api/v1/dsync/setuplinks?id=\(setupID)", key: .some(admin)).status == 200)
        #expect(try hub.call("GET", "/api/v1/dsync/users?directoryId=\(did)", key: .some(admin)).data?.array.count == 1)
        #expect(try hub.call("GET", "/api/v1/dsync/events?directoryId=\(did)", key: .some(admin)).data?.array.count == 2)
        // Its own product works.
        let own = try hub.call("POST", "/api/v1/dsync/setuplinks", json: #"{"tenant":"acme","product":"crm","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s"}"#, key: .some(limited))
        #expect(own.status == 201)
        #expect(try hub.call("GET", "/api/v1/dsync/setuplinks/product?product=crm", key: .some(limited)).data?.array.count == 1)
    }

    @Test func aKeyMadeOnALaptopWorksOnTheHubAfterSyncAndARevokeReachesIt() throws {
        let hub = try APIHub(keys: [])
        defer { hub.stop() }
        let laptop = testFolder("laptop") + "/laptop.sqlite"
        let made = try runChild(setuplinkBinary(), ["--db", laptop, "--json", "api-key", "create", "field-app"])
        let key = try #require((try? JSONParser.parse(Array(made.stdout.utf8)))?.field("key")?.stringValue)
        let path = "/api/v1/dsync/setuplinks/product?product=crm"
        #expect(try hub.call("GET", path, key: .some(key)).status == 401)
        let env = ["SETUPLINK_TOKEN": "peer-secret-0123456789"]
        #expect(try runChild(setuplinkBinary(), ["--db", laptop, "sync", hub.url], environment: env).status == 0)
        #expect(try hub.call("GET", path, key: .some(key)).status == 200)
        // The list never shows the key itself.
        let list = try runChild(setuplinkBinary(), ["--db", hub.db, "api-key", "list"])
        #expect(list.stdout.contains("field-app") && !list.stdout.contains(key))
        #expect(try runChild(setuplinkBinary(), ["--db", laptop, "api-key", "revoke", "field-app", "--yes"]).status == 0)
        #expect(try hub.call("GET", path, key: .some(key)).status == 200)
        #expect(try runChild(setuplinkBinary(), ["--db", laptop, "sync", hub.url], environment: env).status == 0)
        let refused = try hub.call("GET", path, key: .some(key))
        #expect(refused.status == 401)
        #expect(refused.message == "Unauthorized")
    }
}

/// SCIM calls the API tests make, as an identity provider would.
enum HTTPClientFixture {
    /// Creates a user; returns its id.
    static func scimCreateUser(endpoint: String, token: String, userName: String, extra: String = "") throws -> String {
        let body = #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\#(userName)","name":{"givenName":"A","familyName":"B"},"emails":[{"primary":true,"value":"\#(userName)","type":"work"}],"active":true\#(extra)}"#
        return try scim("POST", endpoint + "/Users", token: token, body: body)
    }

    /// Creates a group; returns its id.
    static func scimCreateGroup(endpoint: String, token: String, name: String) throws -> String {
        try scim("POST", endpoint + "/Groups", token: token, body: #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"\#(name)","members":[]}"#)
    }

    /// A SCIM request; returns the `id` of the resource answered (or "").
    @discardableResult
    static func scim(_ method: String, _ url: String, token: String, body: String) throws -> String {
        let r = try HTTPClientShim.send(method, url, ["Authorization": "Bearer \(token)", "Content-Type": "application/scim+json"], body)
        guard (200..<300).contains(r.status) else { throw ChildProcessError("SCIM \(method) \(url): \(r.status) \(String(decoding: r.body, as: UTF8.self))") }
        return (try? JSONParser.parse(r.body))?.field("id")?.stringValue ?? ""
    }
}
