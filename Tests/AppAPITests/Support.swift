import Foundation
import HTTP
import JSON
import TestSupport

/// A served hub (`setuplink serve`, the real binary) with API keys made by the REPL first.
final class APIHub: @unchecked Sendable {
    let db: String
    let served: ServedSetuplink
    /// The keys made, by name.
    let keys: [String: String]

    /// Makes `keys` (name → product, `nil` for every product) on a fresh replica, then serves it.
    /// `known`: keys this replica already holds (made on another replica and synced here).
    init(keys wanted: [(name: String, product: String?)] = [("app", nil)], db: String? = nil,
         known: [String: String] = [:]) throws {
        let db = db ?? testFolder("app-api") + "/hub.sqlite"
        self.db = db
        var made = known
        for k in wanted {
            let run = try runChild(setuplinkBinary(), ["--db", db, "--json", "api-key", "create", k.name] + (k.product.map { ["--product", $0] } ?? []))
            guard run.status == 0, let key = (try? JSONParser.parse(Array(run.stdout.utf8)))?.field("key")?.stringValue else {
                throw ChildProcessError("api-key create failed: \(run.stdout) \(run.stderr)")
            }
            made[k.name] = key
        }
        keys = made
        served = try ServedSetuplink(db: db)
    }

    var url: String { served.url }

    /// The key named `name` ("app" when not named). A name never made gives a key no hub
    /// holds, so a test that asks for one fails on its 401 instead of crashing the run.
    func key(_ name: String = "app") -> String { keys[name] ?? "slk_never-made-\(name)" }

    /// One request to the API with `key` (none: no Authorization header).
    func call(_ method: String, _ path: String, json body: String? = nil, key: String?? = .none,
              headers extra: [String: String] = [:]) throws -> APIAnswer {
        var headers = extra
        let k: String? = key ?? self.key()
        if let k { headers["Authorization"] = "Api-Key \(k)" }
        if body != nil, headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        let r = try HTTPClient(timeout: .seconds(90)).send(method: method, url: url + path, headers: headers, body: Array((body ?? "").utf8))
        return APIAnswer(status: r.status, body: r.body, headers: r.headers)
    }

    func stop() { served.stop() }
}

/// An answer, its body parsed when it is JSON.
struct APIAnswer {
    var status: Int
    var body: [UInt8]
    var headers: [String: String]
    var json: JSONValue? { try? JSONParser.parse(body, maxDepth: 256) }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// `data` of the answer.
    var data: JSONValue? { json?.field("data") }
    /// `error.message` of the answer.
    var message: String? { json?.field("error")?.field("message")?.stringValue }
}

extension JSONValue {
    /// The member `name` of an object, or element `name` (a number) of an array.
    subscript(_ name: String) -> JSONValue? {
        if case .array(let a) = self, let i = Int(name) { return a.indices.contains(i) ? a[i] : nil }
        return field(name)
    }
    var string: String? { stringValue }
    var array: [JSONValue] { arrayValue ?? [] }
}

/// One HTTP request with libcurl (`HTTPClient`).
enum HTTPClientShim {
    static func send(_ method: String, _ url: String, _ headers: [String: String], _ body: String) throws -> HTTPClientResponse {
        try HTTPClient(timeout: .seconds(30)).send(method: method, url: url, headers: headers, body: Array(body.utf8))
    }
}

extension JSONValue {
    /// The member `name` of an object (exact name; the last when repeated).
    func field(_ name: String) -> JSONValue? { objectValue?.last { $0.0 == name }?.1 }
}
