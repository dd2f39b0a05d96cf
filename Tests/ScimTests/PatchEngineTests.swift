import JSON
import Testing
@testable import Scim

/// The PATCH engine (RFC 7644 §3.5.2) on attribute objects, and its errors.
@Suite struct PatchEngineTests {
    static let base = json(#"""
    {"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"title":"Guide",
     "emails":[{"value":"b@work.example","type":"work","primary":true},{"value":"b@home.example","type":"home"}],
     "customThing":{"a":1},
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1","department":"Ops"}}
    """#)

    func patch(_ ops: String, _ attrs: JSONValue = PatchEngineTests.base,
               schema: ResourceSchema = ScimSchemas.userResource) throws -> PatchEngine {
        let body = json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(ops)}"#)
        var e = PatchEngine(schema: schema, resourceID: "u1", attributes: attrs)
        try e.apply(try PatchOperation.parseRequest(body, for: schema))
        return e
    }

    func result(_ ops: String) throws -> JSONValue { try patch(ops).attributes }

    func error(_ ops: String, schema: ResourceSchema = ScimSchemas.userResource) -> ScimError? {
        scimError { _ = try patch(ops, schema: schema) }
    }

    @Test func addReplaceRemoveSimpleAttributes() throws {
        #expect(try result(#"[{"op":"add","path":"nickName","value":"Babs"}]"#).member("nickName") == .string("Babs"))
        #expect(try result(#"[{"op":"replace","path":"title","value":"Boss"}]"#).member("title") == .string("Boss"))
        #expect(try result(#"[{"op":"replace","path":"nickName","value":"N"}]"#).member("nickName") == .string("N"))
        #expect(try result(#"[{"op":"remove","path":"title"}]"#).member("title") == nil)
        #expect(try result(#"[{"op":"replace","path":"title","value":null}]"#).member("title") == nil)
        // Removing what is not there is fine.
        #expect(try result(#"[{"op":"remove","path":"nickName"}]"#).member("nickName") == nil)
    }

    @Test func complexAttributesMergeSubAttributes() throws {
        let a = try result(#"[{"op":"add","path":"name","value":{"middleName":"J"}}]"#)
        #expect(a.member("name") == json(#"{"givenName":"Barbara","familyName":"Jensen","middleName":"J"}"#))
        let r = try result(#"[{"op":"replace","path":"name","value":{"givenName":"Babs","familyName":null}}]"#)
        #expect(r.member("name") == json(#"{"givenName":"Babs"}"#))
        let s = try result(#"[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"}]"#)
        #expect(s.member("name") == nil)
        #expect(try result(#"[{"op":"replace","path":"NAME.GIVENNAME","value":"B"}]"#).member("name")?.member("givenName") == .string("B"))
    }

    @Test func multiValuedAddAppendsAndMovesPrimary() throws {
        let a = try result(#"[{"op":"add","path":"emails","value":[{"value":"x@y.z","type":"other","primary":true}]}]"#)
        let emails = a.member("emails")?.arrayValue ?? []
        #expect(emails.count == 3)
        #expect(emails.filter { $0.member("primary") == .bool(true) }.map { $0.member("value") } == [.string("x@y.z")])
        // Adding a value already there adds nothing.
        let b = try result(#"[{"op":"add","path":"emails","value":{"value":"b@home.example","type":"home"}}]"#)
        #expect(b.member("emails")?.arrayValue?.count == 2)
        let r = try result(#"[{"op":"replace","path":"emails","value":[{"value":"only@x"}]}]"#)
        #expect(r.member("emails") == json(#"[{"value":"only@x"}]"#))
        #expect(try result(#"[{"op":"remove","path":"emails"}]"#).member("emails") == nil)
    }

    @Test func valueFilterPaths() throws {
        let r = try result(#"[{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@work"}]"#)
        #expect(r.member("emails")?.arrayValue?.first?.member("value") == .string("new@work"))
        let d = try result(#"[{"op":"remove","path":"emails[type eq \"home\"]"}]"#)
        #expect(d.member("emails") == json(#"[{"value":"b@work.example","type":"work","primary":true}]"#))
        let s = try result(#"[{"op":"remove","path":"emails[type eq \"work\"].primary"}]"#)
        #expect(s.member("emails")?.arrayValue?.first?.member("primary") == nil)
        let w = try result(#"[{"op":"replace","path":"emails[value ew \"home.example\"]","value":{"value":"h@h","type":"home"}}]"#)
        #expect(w.member("emails")?.arrayValue?.last == json(#"{"value":"h@h","type":"home"}"#))
        let all = try result(#"[{"op":"remove","path":"emails[value co \"example\"]"}]"#)
        #expect(all.member("emails") == nil)
        // No match with a filter that is not plain equalities: noTarget.
        #expect(error(#"[{"op":"replace","path":"emails[value sw \"zzz\"].value","value":"x"}]"#)?.kind == .noTarget)
        // Two primaries are refused.
        #expect(error(#"[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]"#)?.kind == .invalidValue)
    }

    @Test func extensionPaths() throws {
        let urn = ScimSchemas.enterpriseUserURN
        let a = try result(#"[{"op":"add","path":"\#(urn):costCenter","value":"42"}]"#)
        #expect(a.member(urn) == json(#"{"employeeNumber":"1","department":"Ops","costCenter":"42"}"#))
        let r = try result(#"[{"op":"remove","path":"\#(urn)"}]"#)
        #expect(r.member(urn) == nil)
        let w = try result(#"[{"op":"replace","path":"\#(urn)","value":{"department":"Dev"}}]"#)
        #expect(w.member(urn) == json(#"{"employeeNumber":"1","department":"Dev"}"#))
        let e = try result(#"[{"op":"remove","path":"\#(urn):employeeNumber"},{"op":"remove","path":"\#(urn):department"}]"#)
        #expect(e.member(urn) == nil)  // an empty extension is unassigned
        let q = try result(#"[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:nickName","value":"Q"}]"#)
        #expect(q.member("nickName") == .string("Q"))
    }

    @Test func unknownAttributesAreFreeForm() throws {
        let a = try result(#"[{"op":"add","path":"customThing.b","value":[1,2]}]"#)
        #expect(a.member("customThing") == json(#"{"a":1,"b":[1,2]}"#))
        let b = try result(#"[{"op":"add","value":{"urn:example:custom:1.0:User:color":"blue"}}]"#)
        #expect(b.member("urn:example:custom:1.0:User") == json(#"{"color":"blue"}"#))
        #expect(try result(#"[{"op":"remove","path":"customThing"}]"#).member("customThing") == nil)
    }

    @Test func passwordIsAcceptedAndNeverKept() throws {
        let p = try result(#"[{"op":"replace","path":"password","value":"s3cret"},{"op":"add","value":{"password":"again"}}]"#)
        #expect(p.member("password") == nil)
        #expect(!ResourceMapping.text(p).contains("s3cret"))
        #expect(error(#"[{"op":"replace","path":"password","value":5}]"#)?.kind == .invalidValue)
    }

    @Test func errorsAreScimErrors() {
        // Read-only attributes: mutability.
        #expect(error(#"[{"op":"replace","path":"id","value":"x"}]"#)?.kind == .mutability)
        #expect(error(#"[{"op":"remove","path":"meta"}]"#)?.kind == .mutability)
        #expect(error(#"[{"op":"add","path":"meta.created","value":"2020-01-01T00:00:00Z"}]"#)?.kind == .mutability)
        #expect(error(#"[{"op":"add","path":"groups","value":[{"value":"g"}]}]"#)?.kind == .mutability)
        #expect(error(#"[{"op":"replace","value":{"meta":{"version":"1"}}}]"#)?.kind == .mutability)
        #expect(error(#"[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}]"#)?.kind == .mutability)
        // A required attribute cannot be removed or emptied.
        #expect(error(#"[{"op":"remove","path":"userName"}]"#)?.kind == .mutability)
        #expect(error(#"[{"op":"replace","path":"userName","value":null}]"#)?.kind == .invalidValue)
        // Bad paths: invalidPath.
        #expect(error(#"[{"op":"add","path":"name.nosuch","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"add","path":"userName.first","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"add","path":"emails[type eq \"work\"","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"add","path":"emails[type eq \"work\"].nosuch","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"add","path":"name[givenName eq \"x\"]","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"replace","path":"emails.value","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"add","path":"a b","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"add","path":5,"value":"x"}]"#)?.kind == .invalidPath)
        // A remove without a path: noTarget.
        #expect(error(#"[{"op":"remove"}]"#)?.kind == .noTarget)
        // Values of the wrong type: invalidValue.
        #expect(error(#"[{"op":"replace","path":"active","value":"yes"}]"#)?.kind == .invalidValue)
        #expect(error(#"[{"op":"replace","path":"emails","value":"x@y"}]"#)?.kind == .invalidValue)  // elements are objects
        #expect(error(#"[{"op":"replace","path":"name","value":"Barbara"}]"#)?.kind == .invalidValue)
        #expect(error(#"[{"op":"add","path":"title"}]"#)?.kind == .invalidValue)
        #expect(error(#"[{"op":"add","value":"x"}]"#)?.kind == .invalidValue)
        // Malformed messages: invalidSyntax.
        #expect(error(#"[{"op":"move","path":"title"}]"#)?.kind == .invalidSyntax)
        #expect(error(#"[]"#)?.kind == .invalidSyntax)
        #expect(error(#"["add"]"#)?.kind == .invalidSyntax)
        #expect(scimError {
            _ = try PatchOperation.parseRequest(json(#"{"schemas":["urn:x"],"Operations":[]}"#), for: ScimSchemas.userResource)
        }?.kind == .invalidSyntax)
        #expect(scimError {
            _ = try PatchOperation.parseRequest(json(#"{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[{"op":"add","value":{}}]}"#),
                                                for: ScimSchemas.userResource)
        }?.kind == .invalidSyntax)
    }

    @Test func aBodyWithoutSchemasIsAPatchOpAndExtraOperationKeysAreIgnored() throws {
        // Jackson's own shapes: no "schemas", and an "action" key beside op/path/value.
        let ops = try PatchOperation.parseRequest(json(#"""
            {"Operations":[{"action":"addGroupMember","op":"add","path":"members","value":[{"value":"u1"}]},
                           {"op":"replace","path":"displayName","value":"New name"}]}
            """#), for: ScimSchemas.groupResource)
        #expect(ops.map(\.op) == [.add, .replace])
        #expect(ops.map { $0.path?.description } == ["members", "displayName"])
        #expect(ops[0].value == json(#"[{"value":"u1"}]"#))
    }

    @Test func aFailedOperationLeavesNothingHalfApplied() {
        var e = PatchEngine(schema: ScimSchemas.userResource, resourceID: "u1", attributes: Self.base)
        let ops = try! PatchOperation.parseRequest(json(#"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations":[{"op":"replace","path":"title","value":"changed"},{"op":"remove","path":"id"}]}
            """#), for: ScimSchemas.userResource)
        #expect(throws: ScimError.self) { try e.apply(ops) }
        // The caller discards the engine; the record was never touched (the flow writes only on success).
    }

    @Test func groupMembersBecomeMemberOps() throws {
        let g = ScimSchemas.groupResource
        let attrs = json(#"{"displayName":"G"}"#)
        func ops(_ o: String) throws -> [MemberOp] { try patch(o, attrs, schema: g).memberOps }
        #expect(try ops(#"[{"op":"add","path":"members","value":[{"value":"u1","display":"U"}]}]"#)
            == [.add([json(#"{"value":"u1","display":"U"}"#)])])
        #expect(try ops(#"[{"op":"remove","path":"members[value eq \"u1\"]"}]"#) == [.remove(["u1"])])
        #expect(try ops(#"[{"op":"remove","path":"members[value eq \"u1\" or value eq \"u2\"]"}]"#) == [.remove(["u1", "u2"])])
        #expect(try ops(#"[{"op":"remove","path":"members","value":[{"value":"u3"}]}]"#) == [.remove(["u3"])])
        #expect(try ops(#"[{"op":"remove","path":"members"}]"#) == [.removeAll])
        #expect(try ops(#"[{"op":"replace","path":"members","value":[{"value":"u4"}]}]"#) == [.removeAll, .add([json(#"{"value":"u4"}"#)])])
        #expect(try ops(#"[{"op":"add","value":{"members":[{"value":"u5"}]}}]"#) == [.add([json(#"{"value":"u5"}"#)])])
        if case .removeMatching = try ops(#"[{"op":"remove","path":"members[display sw \"A\"]"}]"#).first {} else {
            Issue.record("a general member filter becomes removeMatching")
        }
        #expect(try patch(#"[{"op":"add","path":"members","value":[{"value":"u1"}]}]"#, attrs, schema: g).attributes == attrs)
        #expect(error(#"[{"op":"add","path":"members","value":[{"display":"no value"}]}]"#, schema: g)?.kind == .invalidValue)
        #expect(error(#"[{"op":"replace","path":"members[value eq \"u1\"].display","value":"x"}]"#, schema: g)?.kind == .invalidPath)
        #expect(error(#"[{"op":"remove","path":"displayName"}]"#, schema: g)?.kind == .mutability)
    }
}

extension PatchEngineTests {
    @Test func hostilePatchesFailCleanly() {
        let longPath = String(repeating: "a", count: 2_000_000)
        #expect(error(#"[{"op":"add","path":"\#(longPath)","value":"x"}]"#)?.kind == .invalidPath)
        let deepFilter = "emails[" + String(repeating: "(", count: 5000) + #"type eq \"x\""# + String(repeating: ")", count: 5000) + "]"
        #expect(error(#"[{"op":"remove","path":"\#(deepFilter)"}]"#)?.kind == .invalidPath)
        let tooMany = "[" + Array(repeating: #"{"op":"add","path":"title","value":"x"}"#, count: PatchOperation.maxOperations + 1)
            .joined(separator: ",") + "]"
        #expect(error(tooMany)?.kind == .invalidSyntax)
        let manyAttributes = (0..<250).map { #""k\#($0)":1"# }.joined(separator: ",")
        #expect(error(#"[{"op":"add","value":{\#(manyAttributes)}}]"#)?.kind == .invalidValue)
        #expect(error(#"[{"op":"add","path":"urn:","value":"x"}]"#)?.kind == .invalidPath)
        let roles = (0..<1001).map { #"{"value":"r\#($0)"}"# }.joined(separator: ",")
        #expect(error(#"[{"op":"add","path":"roles","value":[\#(roles)]}]"#)?.kind == .invalidValue)
        #expect(error(#"[{"op":"add","path":"emails[]","value":"x"}]"#)?.kind == .invalidPath)
        #expect(error(#"[{"op":"add","path":"\u0000","value":"x"}]"#)?.kind == .invalidPath)
    }
}
