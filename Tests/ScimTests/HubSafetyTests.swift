import Foundation
import HTTP
import JSON
import SetupLinks
import Storage
import Testing
import TestSupport
@testable import Scim

/// The quick correctness items of issue 26, each over real sockets against a real
/// `Hub` holding 10,000 records, with the hub's other clients (a `/healthz`, a
/// sync of every record) served while the attack runs, and nothing lost.
@Suite struct HubSafetyTests {
    /// How often a top-level member occurs in a JSON object's text (its own level only).
    static func topLevelCount(_ key: String, in text: String) -> Int {
        var depth = 0, count = 0, inString = false, escaped = false
        var i = text.startIndex
        var stringStart = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" {
                    inString = false
                    let after = text[text.index(after: i)...].drop { $0 == " " }
                    if depth == 1, after.first == ":", text[text.index(after: stringStart)..<i] == key { count += 1 }
                }
            } else if c == "\"" {
                inString = true
                stringStart = i
            } else if c == "{" || c == "[" {
                depth += 1
            } else if c == "}" || c == "]" {
                depth -= 1
            }
            i = text.index(after: i)
        }
        return count
    }

    @Test func patchCannotWriteSchemasIdOrMetaAndNoAnswerHasADuplicateKey() throws {
        let h = try SafetyHub()
        let d = try h.directory()
        let scim = h.scim(d)
        let user = try scim.createUser("ada@example.com")
        let before = try scim.get("/Users/\(user)").text
        let refusals = [
            #"[{"op":"add","path":"schemas","value":["bogus"]}]"#,
            #"[{"op":"replace","path":"Schemas","value":["bogus"]}]"#,
            #"[{"op":"replace","path":"id","value":"other"}]"#,
            #"[{"op":"add","path":"meta","value":{"resourceType":"Group"}}]"#,
            #"[{"op":"replace","path":"meta.version","value":"W/\"1\""}]"#,
            #"[{"op":"remove","path":"schemas"}]"#,
            #"[{"op":"replace","value":{"meta":{"created":"2001-01-01T00:00:00Z"}}}]"#,
        ]
        for ops in refusals {
            let r = try scim.patch("/Users/\(user)", ops)
            #expect(r.status == 400, "\(ops): \(r.status) \(r.text)")
            #expect(r.json?.member("scimType")?.stringValue == "mutability", "\(ops): \(r.text)")
        }
        // PUT: the body may repeat the resource's id, schemas and meta (ignored), never name another id.
        let otherID = try scim.put("/Users/\(user)", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"someone-else","userName":"ada@example.com"}"#)
        #expect(otherID.status == 400 && otherID.json?.member("scimType")?.stringValue == "mutability", "\(otherID.text)")
        let whole = try scim.put("/Users/\(user)", #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"\#(user)","meta":{"resourceType":"Group","version":"W/\"x\""},"userName":"ada@example.com"}"#)
        #expect(whole.status == 200 && whole.json?.member("meta")?.member("resourceType")?.stringValue == "User", "\(whole.text)")
        // A whole resource sent back as a path-less replace (some providers do) still works.
        let ok = try scim.patch("/Users/\(user)", #"[{"op":"replace","value":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"\#(user)","displayName":"Ada"}}]"#)
        #expect(ok.status == 200, "\(ok.text)")
        // A record holding an attribute named like a server member (an older version's, or a
        // peer's) still answers each key once.
        try h.store.write { tx in
            _ = try tx.write(id: user, kind: .user, [ScimRecords.attributeField("schemas"): #"["bogus"]"#,
                                                      ScimRecords.attributeField("meta"): #"{"x":1}"#,
                                                      ScimRecords.attributeField("id"): #""other""#])
        }
        h.whileAttacking({ stop in
            while !stop() { _ = try? scim.patch("/Users/\(user)", refusals[0]) }
        }) {
            h.expectOthersServed()
        }
        for text in [try scim.get("/Users/\(user)").text, try scim.get("/Users?filter=" + encode("userName eq \"ada@example.com\"")).text] {
            let resource = text.contains("\"Resources\"") ? String(text[text.range(of: "\"Resources\":[")!.upperBound...]) : text
            for key in ["schemas", "id", "meta"] {
                #expect(Self.topLevelCount(key, in: resource) == 1, "\(key) once in \(resource.prefix(400))")
            }
            #expect(!text.contains("bogus") && !text.contains("\"other\""), "\(text.prefix(400))")
        }
        #expect(before.contains("\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]"))
    }

    @Test func scimAndAPIAnswersAreNeverStored() throws {
        let h = try SafetyHub()
        let d = try h.directory()
        let scim = h.scim(d)
        let user = try scim.createUser("grace@example.com")
        for r in [try scim.get("/Users/\(user)"), try scim.get("/Users"), try scim.get("/Users/missing"),
                  try ScimClient(base: scim.base, token: "wrong").get("/Users"), try scim.get("/ServiceProviderConfig")] {
            #expect(r.headers["cache-control"] == "no-store", "\(r.status) \(r.text.prefix(100))")
        }
        let http = HTTPClient(timeout: .seconds(30))
        let api = try http.send(method: "GET", url: h.url + "/api/v1/dsync?tenant=acme&product=crm", headers: ["Authorization": "Api-Key wrong"])
        #expect(api.status == 401 && api.headers["cache-control"] == "no-store")
        let health = try http.send(method: "GET", url: h.url + "/healthz")
        #expect(health.status == 200)
        h.expectOthersServed()
    }

    @Test func aBadContentLengthIsAnsweredOnce() throws {
        let h = try SafetyHub()
        h.whileAttacking(threads: 2, { stop in
            while !stop() {
                for length in ["-1", "abc", "100000000000000000000000"] {
                    guard let c = try? RawClient(port: h.port) else { continue }
                    c.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\n\r\n")
                    _ = c.isClosed(within: .seconds(2))
                }
            }
        }) {
            h.expectOthersServed()
        }
        for length in ["-1", "abc", "100000000000000000000000", "5, 6"] {
            for path in ["/healthz", "/api/scim/v2.0/x/Users", "/setup/x"] {
                let c = try RawClient(port: h.port)
                c.send("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\n\r\n")
                let all = c.readAll(timeout: .seconds(5))
                #expect(all.components(separatedBy: "HTTP/1.1 ").count - 1 <= 1, "one answer at most to \(length) on \(path): \(all)")
                #expect(all.isEmpty || all.hasPrefix("HTTP/1.1 4"), "\(all)")
            }
        }
    }

    @Test func controlCharactersInPathsAreEscapedInTheAccessLog() throws {
        let h = try SafetyHub()
        let http = HTTPClient(timeout: .seconds(10))
        h.whileAttacking(threads: 2, { stop in
            while !stop() { _ = try? http.send(method: "GET", url: h.url + "/%1b%5b31mRED%07%08%00%C2%85%E2%80%A8x") }
        }) {
            h.expectOthersServed()
        }
        let lines = h.log.withLock { $0 }
        let attack = lines.filter { $0.contains("RED") }
        #expect(!attack.isEmpty)
        for line in lines {
            #expect(!line.unicodeScalars.contains { ($0.value < 0x20) || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" },
                    "a raw control character in \(line.debugDescription)")
        }
        #expect(attack.first?.contains(#"/\u{1B}[31mRED\u{7}\u{8}\u{0}\u{85}\u{2028}x 404"#) == true, "\(attack.first ?? "")")
    }

    /// One request on a fresh connection, read to its end.
    static func request(_ port: UInt16, _ method: String, _ target: String, form: String? = nil) throws -> RawResponse {
        let c = try RawClient(port: port)
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let form { text += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n" }
        c.send(text + "\r\n" + (form ?? ""))
        guard let r = c.readResponse(timeout: .seconds(30)) else { throw RawClientError.failed("no answer to \(method) \(target)") }
        return r
    }

    @Test func aSetupLinkMakesAtMostItsQuotaOfDirectoriesWhateverTheBurst() throws {
        let h = try SafetyHub()
        let (link, _) = try h.service.createLink(tenant: "burst", product: "crm", webhookURL: "https://hooks.example.com/x",
                                                 webhookSecret: "s3cret-s3cret")
        let page = "/setup/\(link.token)"
        let body = try Self.request(h.port, "GET", page).body
        let csrf = try #require(body.range(of: "name=\"csrf\" value=\"").map { String(body[$0.upperBound...].prefix { $0 != "\"" }) })
        let form = "csrf=\(csrf)&action=create&type=okta-scim-v2&name=burst"
        let statuses = Locked<[Int]>([])
        let refusals = Locked<[String]>([])
        h.whileAttacking(threads: 6, { _ in
            // 36 creates, all of them, however long the sync below takes.
            for _ in 0..<6 {
                guard let r = try? Self.request(h.port, "POST", page, form: form) else { continue }
                statuses.withLock { $0.append(r.status) }
                if r.status == 409 { refusals.withLock { $0.append(r.body) } }
            }
        }) {
            h.expectOthersServed()
        }
        // Whatever was still running finished when whileAttacking returned.
        let all = statuses.withLock { $0 }
        #expect(all.filter { $0 == 303 }.count == SetupLinkService.defaultMaxDirectoriesPerLink, "\(all)")
        #expect(all.count == 36 && all.allSatisfy { $0 == 303 || $0 == 409 }, "\(all)")
        #expect(try h.service.directories(tenant: "burst", product: "crm").count == SetupLinkService.defaultMaxDirectoriesPerLink)
        let sentence = "This setup link already has 20 directories, the most it may have; delete one to make another, or ask your administrator to raise the limit."
        #expect(refusals.withLock { $0 }.first?.contains(sentence) == true, "\(refusals.withLock { $0 }.first ?? "")")
        // The admin raises the limit: one more, then refused again.
        try h.service.setMaxDirectoriesPerLink(21)
        #expect(try Self.request(h.port, "POST", page, form: form).status == 303)
        let refused = try Self.request(h.port, "POST", page, form: form)
        #expect(refused.status == 409 && refused.body.contains("already has 21 directories"))
        #expect(throws: SetupLinkError.invalid("max-directories-per-link must be a whole number from 1 to 10000, not 0")) {
            try h.service.setMaxDirectoriesPerLink(0)
        }
    }
}
