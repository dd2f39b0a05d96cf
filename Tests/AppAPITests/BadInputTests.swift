import Foundation
import JSON
import TestSupport
import Testing

/// Every route refuses bad input with a clear 4xx in the API's error shape and changes
/// nothing: missing and empty parameters, wrong types, out-of-range paging, unknown ids,
/// another product's ids, bodies that are not JSON objects, too deep, too large or of
/// another type, methods a path does not take.
@Suite(.serialized) struct BadInputTests {
    /// The replica's digest (every record), read by the CLI beside the running hub.
    static func digest(_ hub: APIHub) throws -> String {
        let run = try runChild(setuplinkBinary(), ["--db", hub.db, "--json", "status"])
        return try #require(try? JSONParser.parse(Array(run.stdout.utf8)).field("digest")?.string, "status: \(run.stdout) \(run.stderr)")
    }

    @Test func everyRouteRefusesBadInputClearlyAndChangesNothing() throws {
        let hub = try APIHub(keys: [("admin", nil), ("crm", "crm")])
        defer { hub.stop() }
        let admin = hub.key("admin")
        // A link and a directory of crm with a user and a group; a link and a directory of erp.
        let crmLink = try hub.call("POST", "/api/v1/dsync/setuplinks", json: #"{"tenant":"acme","product":"crm","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s"}"#, key: .some(admin))
        let erpLink = try hub.call("POST", "/api/v1/dsync/setuplinks", json: #"{"tenant":"acme","product":"erp","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s"}"#, key: .some(admin))
        #expect(crmLink.status == 201 && erpLink.status == 201)
        let erpLinkID = try #require(erpLink.data?["setupID"]?.string)
        let crm = try #require(try hub.call("POST", "/api/v1/dsync", json: #"{"tenant":"acme","product":"crm"}"#, key: .some(admin)).data)
        let erp = try #require(try hub.call("POST", "/api/v1/dsync", json: #"{"tenant":"acme","product":"erp"}"#, key: .some(admin)).data)
        let d = try #require(crm["id"]?.string), e = try #require(erp["id"]?.string)
        // A second directory of acme/crm: lists by tenant and product cover both.
        #expect(try hub.call("POST", "/api/v1/dsync", json: #"{"tenant":"acme","product":"crm","name":"Second"}"#, key: .some(admin)).status == 201)
        let endpoint = try #require(crm["scim"]?["endpoint"]?.string), token = try #require(crm["scim"]?["secret"]?.string)
        let user = try HTTPClientFixture.scimCreateUser(endpoint: endpoint, token: token, userName: "ann@acme.test")
        let group = try HTTPClientFixture.scimCreateGroup(endpoint: endpoint, token: token, name: "Eng")
        let eventID = try #require(try hub.call("GET", "/api/v1/dsync/events?directoryId=\(d)", key: .some(admin)).data?["0"]?["id"]?.string)
        let erpEndpoint = try #require(erp["scim"]?["endpoint"]?.string), erpToken = try #require(erp["scim"]?["secret"]?.string)
        let erpUser = try HTTPClientFixture.scimCreateUser(endpoint: erpEndpoint, token: erpToken, userName: "bob@acme.test")
        let before = try Self.digest(hub)

        let deep = String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000)
        let link = #"{"tenant":"acme","product":"crm","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s""#
        // (method, path, body, key name, status, words the message must contain)
        let cases: [(String, String, String?, String, Int, String)] = [
            // Setup links.
            ("POST", "/api/v1/dsync/setuplinks", nil, "admin", 400, "JSON object body"),
            ("POST", "/api/v1/dsync/setuplinks", "{", "admin", 400, "not valid JSON"),
            ("POST", "/api/v1/dsync/setuplinks", "[]", "admin", 400, "must be a JSON object"),
            ("POST", "/api/v1/dsync/setuplinks", deep, "admin", 400, "not valid JSON"),
            ("POST", "/api/v1/dsync/setuplinks", #"{"tenant":1,"product":"crm"}"#, "admin", 400, "tenant must be a string"),
            ("POST", "/api/v1/dsync/setuplinks", #"{"tenant":"acme"}"#, "admin", 400, "Must provide tenant and product"),
            ("POST", "/api/v1/dsync/setuplinks", #"{"tenant":"","product":"crm"}"#, "admin", 400, "Must provide tenant and product"),
            ("POST", "/api/v1/dsync/setuplinks", #"{"tenant":"acme2","product":"crm"}"#, "admin", 400, "webhook_url"),
            ("POST", "/api/v1/dsync/setuplinks", link + #","expiryDays":"soon"}"#, "admin", 400, "expiryDays"),
            ("POST", "/api/v1/dsync/setuplinks", link + #","expiryDays":-5}"#, "admin", 400, "expiry"),
            ("POST", "/api/v1/dsync/setuplinks", link + #","regenerate":"maybe"}"#, "admin", 400, "regenerate must be true or false"),
            ("POST", "/api/v1/dsync/setuplinks", #"{"tenant":"acme2","product":"crm","webhook_url":"ftp://x","webhook_secret":"s"}"#, "admin", 400, "URL"),
            ("POST", "/api/v1/dsync/setuplinks", #"{"tenant":"acme2","product":"erp","webhook_url":"http://127.0.0.1:9/h","webhook_secret":"s"}"#, "crm", 403, "limited to product crm"),
            ("GET", "/api/v1/dsync/setuplinks", nil, "admin", 400, "provide id, or tenant and product"),
            ("GET", "/api/v1/dsync/setuplinks?tenant=acme", nil, "admin", 400, "provide id, or tenant and product"),
            ("GET", "/api/v1/dsync/setuplinks?id=nope", nil, "admin", 404, "Setup link is not found"),
            ("GET", "/api/v1/dsync/setuplinks?id=\(String(repeating: "a", count: 5000))", nil, "admin", 404, "Setup link is not found"),
            ("GET", "/api/v1/dsync/setuplinks?id=\(erpLinkID)", nil, "crm", 404, "Setup link is not found"),
            ("DELETE", "/api/v1/dsync/setuplinks?id=nope", nil, "admin", 404, "Setup link is not found"),
            ("DELETE", "/api/v1/dsync/setuplinks?id=\(erpLinkID)", nil, "crm", 404, "Setup link is not found"),
            ("PATCH", "/api/v1/dsync/setuplinks", "{}", "admin", 405, "not allowed"),
            ("GET", "/api/v1/dsync/setuplinks/product", nil, "admin", 400, "provide a product"),
            ("GET", "/api/v1/dsync/setuplinks/product?product=erp", nil, "crm", 403, "limited to product crm"),
            ("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageLimit=1001", nil, "admin", 400, "at most 1000"),
            ("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageLimit=-1", nil, "admin", 400, "pageLimit must be a whole number"),
            ("GET", "/api/v1/dsync/setuplinks/product?product=crm&limit=ten", nil, "admin", 400, "limit must be a whole number"),
            ("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageOffset=99999999999999999999", nil, "admin", 400, "pageOffset must be a whole number"),
            ("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageToken=!!", nil, "admin", 400, "pageToken"),
            ("GET", "/api/v1/dsync/setuplinks/product?product=crm&pageToken=\(String(repeating: "QQ", count: 3000))", nil, "admin", 400, "pageToken"),
            // Directories.
            ("POST", "/api/v1/dsync", "{}", "admin", 400, "Missing required parameters."),
            ("POST", "/api/v1/dsync", #"{"tenant":"acme","product":"crm","type":"nope"}"#, "admin", 400, "Invalid directory type."),
            ("POST", "/api/v1/dsync", #"{"tenant":"acme","product":"crm","name":5}"#, "admin", 400, "name must be a string"),
            ("POST", "/api/v1/dsync", #"{"tenant":"acme","product":"erp"}"#, "crm", 403, "limited to product crm"),
            ("GET", "/api/v1/dsync?tenant=acme", nil, "admin", 400, "provide tenant and product"),
            ("GET", "/api/v1/dsync/product", nil, "admin", 400, "provide a product"),
            ("GET", "/api/v1/dsync/product?product=crm&pageLimit=5000", nil, "admin", 400, "at most 1000"),
            ("GET", "/api/v1/dsync/nope", nil, "admin", 404, "Directory configuration not found."),
            ("GET", "/api/v1/dsync/\(e)", nil, "crm", 404, "Directory configuration not found."),
            ("PATCH", "/api/v1/dsync/nope", #"{"name":"x"}"#, "admin", 404, "Directory configuration not found."),
            ("PATCH", "/api/v1/dsync/\(e)", #"{"name":"x"}"#, "crm", 404, "Directory configuration not found."),
            ("PATCH", "/api/v1/dsync/\(d)", #"{"deactivated":"maybe"}"#, "admin", 400, "deactivated must be true or false"),
            ("PATCH", "/api/v1/dsync/\(d)", #"{"webhook":5}"#, "admin", 400, "webhook must be an object"),
            ("PATCH", "/api/v1/dsync/\(d)", #"{"webhook_url":"not a url","webhook_secret":"s"}"#, "admin", 400, "URL"),
            ("PATCH", "/api/v1/dsync/\(d)", #"{"log_webhook_events":1}"#, "admin", 400, "log_webhook_events must be true or false"),
            ("DELETE", "/api/v1/dsync/nope", nil, "admin", 404, "Directory configuration not found."),
            ("DELETE", "/api/v1/dsync/\(e)", nil, "crm", 404, "Directory configuration not found."),
            ("PUT", "/api/v1/dsync/\(d)", "{}", "admin", 405, "not allowed"),
            // Users, groups, members.
            ("GET", "/api/v1/dsync/users", nil, "admin", 400, "provide tenant and product, or directoryId"),
            ("GET", "/api/v1/dsync/users?tenant=acme", nil, "admin", 400, "provide tenant and product, or directoryId"),
            ("GET", "/api/v1/dsync/users?directoryId=nope", nil, "admin", 404, "Directory not found."),
            ("GET", "/api/v1/dsync/users?directoryId=\(e)", nil, "crm", 404, "Directory not found."),
            ("GET", "/api/v1/dsync/users?directoryId=\(d)&tenant=other", nil, "admin", 404, "Directory not found."),
            ("GET", "/api/v1/dsync/users?tenant=acme&product=erp", nil, "crm", 403, "limited to product crm"),
            ("GET", "/api/v1/dsync/users?directoryId=\(d)&pageLimit=1000000", nil, "admin", 400, "at most 1000"),
            ("GET", "/api/v1/dsync/users/nope?directoryId=\(d)", nil, "admin", 404, "User not found"),
            ("GET", "/api/v1/dsync/users/\(user)?directoryId=\(e)", nil, "admin", 404, "User not found"),
            ("GET", "/api/v1/dsync/users/\(erpUser)?directoryId=\(d)", nil, "admin", 404, "User not found"),
            ("GET", "/api/v1/dsync/users/\(group)?directoryId=\(d)", nil, "admin", 404, "User not found"),
            ("GET", "/api/v1/dsync/groups?directoryId=nope", nil, "admin", 404, "Directory not found."),
            ("GET", "/api/v1/dsync/groups/\(user)?directoryId=\(d)", nil, "admin", 404, "not found"),
            ("GET", "/api/v1/dsync/groups/nope/members?directoryId=\(d)", nil, "admin", 404, "not found"),
            ("GET", "/api/v1/dsync/groups/\(group)/members?directoryId=\(d)&pageToken=%00", nil, "admin", 400, "pageToken"),
            ("POST", "/api/v1/dsync/users?directoryId=\(d)", "{}", "admin", 405, "not allowed"),
            // Events and the feed.
            ("GET", "/api/v1/dsync/events?directoryId=nope", nil, "admin", 404, "Directory not found."),
            ("GET", "/api/v1/dsync/events?tenant=acme&product=crm&pageOffset=99999999", nil, "admin", 400, "page one directory with directoryId"),
            ("GET", "/api/v1/dsync/events/nope?directoryId=\(d)", nil, "admin", 404, "Event not found"),
            ("GET", "/api/v1/dsync/events/\(eventID)?directoryId=\(e)", nil, "admin", 404, "Event not found"),
            ("DELETE", "/api/v1/dsync/events", nil, "admin", 400, "Missing required parameters."),
            ("DELETE", "/api/v1/dsync/events?directoryId=\(e)", nil, "crm", 404, "not found"),
            ("GET", "/api/v1/dsync/changes", nil, "admin", 400, "provide directoryId"),
            ("GET", "/api/v1/dsync/changes?directoryId=\(e)", nil, "crm", 404, "Directory not found."),
            ("GET", "/api/v1/dsync/changes?directoryId=\(d)&after=garbage", nil, "admin", 400, "not a cursor of this feed"),
            ("GET", "/api/v1/dsync/changes?directoryId=\(d)&limit=0", nil, "admin", 400, "limit must be a whole number from 1 to 1000"),
            ("GET", "/api/v1/dsync/changes?directoryId=\(d)&limit=1001", nil, "admin", 400, "limit must be a whole number from 1 to 1000"),
            ("GET", "/api/v1/dsync/changes?directoryId=\(d)&wait=61", nil, "admin", 400, "wait must be a number of seconds"),
            ("GET", "/api/v1/dsync/changes?directoryId=\(d)&wait=nan", nil, "admin", 400, "wait must be a number of seconds"),
            ("GET", "/api/v1/dsync/changes?directoryId=\(d)&wait=-1", nil, "admin", 400, "wait must be a number of seconds"),
            // Paths no route takes.
            ("GET", "/api/v1/dsync/a/b/c", nil, "admin", 404, "no API route"),
            ("GET", "/api/v1/dsync//users", nil, "admin", 404, "no API route"),
            ("GET", "/api/v1/nope", nil, "admin", 404, "no API route"),
        ]
        for (method, path, body, keyName, status, words) in cases {
            // (libcurl calls an empty POST a form; say it is JSON, so the empty body is what is judged.)
            let a = try hub.call(method, path, json: body, key: .some(hub.key(keyName)),
                                 headers: body == nil ? ["Content-Type": "application/json"] : [:])
            let what = "\(method) \(path.prefix(120)) \((body ?? "").prefix(80))"
            #expect(a.status == status, "\(what): \(a.status) \(a.text.prefix(300))")
            #expect(a.message?.contains(words) == true, "\(what): \(a.text.prefix(300))")
            #expect(a.json?["error"]?["code"]?.int64Value == Int64(status), "\(what): \(a.text.prefix(300))")
        }
        // Bodies refused from the head: another type, and too large.
        let typed = try hub.call("POST", "/api/v1/dsync", json: #"{"tenant":"acme","product":"crm"}"#, key: .some(admin),
                                 headers: ["Content-Type": "text/plain"])
        #expect(typed.status == 415 && typed.message?.contains("application/json") == true, "\(typed.text)")
        let big = #"{"tenant":"acme","product":"crm","name":""# + String(repeating: "x", count: 70_000) + #""}"#
        let large = try hub.call("POST", "/api/v1/dsync", json: big, key: .some(admin))
        #expect(large.status == 413 && large.message?.contains("over the limit") == true, "\(large.text)")
        let put = try hub.call("PUT", "/api/v1/dsync/\(d)", json: "{}", key: .some(admin))
        #expect(put.headers.first { $0.key.lowercased() == "allow" }?.value == "GET, PATCH, DELETE")

        // Nothing changed, and the hub still answers.
        #expect(try Self.digest(hub) == before)
        #expect(try hub.call("GET", "/api/v1/dsync/users?directoryId=\(d)", key: .some(admin)).data?.array.count == 1)
    }
}
