import JSON
import Replica
@testable import Scim
import SetupLinks

/// Parses JSON text, failing the test loudly on a typo.
func json(_ s: String) -> JSONValue {
    do { return try JSONParser.parse(Array(s.utf8)) } catch { fatalError("bad test JSON: \(error): \(s)") }
}

/// Object equality that ignores member order at every level.
func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return sameJSON(a, b)
}

/// One directory served from an in-memory replica.
struct Fixture {
    static let directoryID = "5b0a2d7e-1111-4222-8333-444455556666"
    let store: MemoryScimStore
    let dir: ScimDirectory

    init(store: MemoryScimStore = MemoryScimStore(), directoryID: String = Fixture.directoryID) {
        self.store = store
        dir = ScimDirectory(id: directoryID, baseURL: "https://hub.example/api/scim/v2.0/\(directoryID)")
    }

    var users: ResourceSchema { ScimSchemas.userResource }
    var groups: ResourceSchema { ScimSchemas.groupResource }

    /// Creates a user from JSON text, returning its id.
    @discardableResult
    func createUser(_ body: String) throws -> String {
        try dir.createUser(json(body), in: store).record.id
    }

    /// `{"schemas":[User],"userName":name, ...extra}`.
    @discardableResult
    func createUser(named name: String, extra: String = "") throws -> String {
        try createUser(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\#(name)"\#(extra)}"#)
    }

    @discardableResult
    func createGroup(_ name: String, members: [String] = []) throws -> String {
        let m = members.map { #"{"value":"\#($0)"}"# }.joined(separator: ",")
        return try dir.createGroup(json(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"\#(name)","members":[\#(m)]}"#),
                                   in: store).record.id
    }

    func user(_ id: String, attributes: String? = nil, excluded: String? = nil) throws -> JSONValue {
        try dir.getUser(id, projection: Projection(schema: users, attributes: attributes, excludedAttributes: excluded), in: store)
    }

    func group(_ id: String, attributes: String? = nil, excluded: String? = nil) throws -> JSONValue {
        try dir.getGroup(id, projection: Projection(schema: groups, attributes: attributes, excludedAttributes: excluded), in: store)
    }

    func patchUser(_ id: String, _ operations: String) throws -> ScimOutcome {
        try dir.patchUser(id, json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(operations)}"#), in: store)
    }

    func patchGroup(_ id: String, _ operations: String) throws -> ScimOutcome {
        try dir.patchGroup(id, json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(operations)}"#), in: store)
    }

    func listUsers(filter: String? = nil, startIndex: Int = 1, count: Int? = nil) throws -> JSONValue {
        try dir.listUsers(ListRequest(filter: filter, startIndex: startIndex, count: count), in: store)
    }

    func listGroups(filter: String? = nil, excluded: String? = nil) throws -> JSONValue {
        try dir.listGroups(ListRequest(filter: filter, excludedAttributes: excluded), in: store)
    }

    /// The member values of a group, sorted.
    func memberValues(_ gid: String) throws -> [String] {
        try group(gid).member("members")?.arrayValue?.compactMap { $0.member("value")?.stringValue }.sorted() ?? []
    }
}

/// The error a throwing call raised, as a `ScimError` (nil if it did not throw one).
func scimError(_ body: () throws -> Void) -> ScimError? {
    do {
        try body()
        return nil
    } catch let e as ScimError {
        return e
    } catch {
        return nil
    }
}
