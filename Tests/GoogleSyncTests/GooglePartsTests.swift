import Foundation
@testable import GoogleSync
import JSON
import Testing
import TestSupport

/// The pieces written from Google's and the RFCs' published formats, checked against their examples,
/// and `serve`'s Google flags refusing bad input.
@Suite struct GooglePartsTests {
    @Test func pkceChallengeIsRFC7636AppendixB() {
        #expect(PKCE.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let fresh = PKCE()
        #expect(fresh.verifier.count == 43 && fresh.verifier != PKCE().verifier)
    }

    @Test func retryAfterAsSecondsOrAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(GoogleClient.retryAfter("3", now: now) == .seconds(3))
        #expect(GoogleClient.retryAfter(" 0 ", now: now) == .seconds(0))
        #expect(GoogleClient.retryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == .seconds(30))
        #expect(GoogleClient.retryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == .seconds(0), "a date past means now")
        for bad in [nil, "", "-1", "soon", "1.5"] as [String?] { #expect(GoogleClient.retryAfter(bad, now: now) == nil) }
        var c = GoogleConfiguration(clientID: "x", clientSecret: "y")
        c.backoffBase = .seconds(1)
        c.backoffCap = .seconds(64)
        let client = GoogleClient(configuration: c)
        for attempt in 0..<10 {
            let wait = client.backoff(attempt)
            let base = min(Duration.seconds(1 << attempt), .seconds(64))
            #expect(wait >= base && wait <= min(base * 1.25, .seconds(64)))
        }
    }

    @Test func theConsentURLAsksForCodePKCEOfflineAndTheScopes() throws {
        var c = GoogleConfiguration(clientID: "1234-x.apps.googleusercontent.com", clientSecret: "s")
        c.authorizationURL = "https://accounts.example.test/auth"
        let url = GoogleClient(configuration: c).consentURL(state: "st ate/+", challenge: "ch", redirectURI: "https://hub.example.com/oauth/google/callback")
        let query = try #require(URLComponents(string: url)?.queryItems)
        func value(_ n: String) -> String? { query.first { $0.name == n }?.value }
        #expect(url.hasPrefix("https://accounts.example.test/auth?"))
        #expect(value("response_type") == "code" && value("access_type") == "offline" && value("prompt") == "consent")
        #expect(value("code_challenge") == "ch" && value("code_challenge_method") == "S256" && value("state") == "st ate/+")
        #expect(value("redirect_uri") == "https://hub.example.com/oauth/google/callback")
        #expect(value("scope")?.split(separator: " ").map(String.init) == GoogleConfiguration.scopes)
        #expect(GoogleConfiguration.scopes.contains("https://www.googleapis.com/auth/admin.directory.user.readonly"))
        #expect(GoogleConfiguration.scopes.contains("https://www.googleapis.com/auth/admin.directory.group.readonly"))
    }

    @Test func idTokenClaims() throws {
        func token(_ claims: String) -> String {
            "eyJhbGciOiJSUzI1NiJ9." + Data(claims.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") + ".c2ln"
        }
        let ok = try GoogleClient.identity(idToken: token(#"{"aud":"me","email":"a@acme.test","hd":"acme.test"}"#), clientID: "me")
        #expect(ok == GoogleIdentity(email: "a@acme.test", hostedDomain: "acme.test"))
        #expect(try GoogleClient.identity(idToken: token(#"{"aud":"me","email":"a@gmail.com"}"#), clientID: "me").hostedDomain == nil)
        #expect(throws: GoogleError.self) { try GoogleClient.identity(idToken: token(#"{"aud":"other","email":"a@acme.test"}"#), clientID: "me") }
        #expect(throws: GoogleError.self) { try GoogleClient.identity(idToken: token(#"{"aud":"me"}"#), clientID: "me") }
        #expect(throws: GoogleError.self) { try GoogleClient.identity(idToken: "not-a-jwt", clientID: "me") }
    }

    @Test func aGoogleUserAndGroupAsSCIMResources() throws {
        let u = try #require(GoogleSnapshot.scimUser(FakeGoogle.user("42", "ann@acme.test", "Ann", "Lee", suspended: true)))
        #expect(u["userName"] == .string("ann@acme.test") && u["externalId"] == .string("42") && u["active"] == .bool(false))
        #expect(u["name"]?["givenName"] == .string("Ann") && u["name"]?["familyName"] == .string("Lee"))
        #expect(u["emails"]?.arrayValue?.first?["primary"] == .bool(true))
        #expect(GoogleSnapshot.scimUser(json(#"{"id":"1"}"#)) == nil, "no primaryEmail")
        let g = try #require(GoogleSnapshot.scimGroup(json(#"{"id":"g","email":"eng@acme.test","name":""}"#), members: []))
        #expect(g["displayName"] == .string("eng@acme.test") && g["externalId"] == .string("g"))
    }

    @Test func serveRefusesBadGoogleFlagsAndChangesNothing() throws {
        let folder = testFolder("google-flags")
        let db = folder + "/hub.sqlite"
        let secret = folder + "/secret"
        _ = FileManager.default.createFile(atPath: secret, contents: Data("s3cret\n".utf8))
        let cases: [([String], String)] = [
            (["--google-client-secret", "s3cret"], "visible to every user"),
            (["--google-client-id", "id"], "needs the client secret"),
            (["--google-client-secret-file", secret], "needs --google-client-id"),
            (["--google-client-id", "id", "--google-client-secret-file", secret, "--google-poll-seconds", "0"], "from 1 to 86400"),
            (["--google-client-id", "id", "--google-client-secret-file", secret, "--google-api-url", "ftp://x"], "absolute http(s) URL"),
            (["--google-client-id", "two words", "--google-client-secret-file", secret], "one word"),
            (["--google-client-id", "id", "--google-client-secret-file", folder + "/missing"], "cannot read"),
            (["--google-client-id"], "needs a value"),
        ]
        for (flags, message) in cases {
            let run = try runChild(setuplinkBinary(), ["--db", db, "serve", "--port", "0"] + flags)
            #expect(run.status != 0 && run.errorLines.count == 1 && run.stderr.contains(message), "\(flags): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: db), "nothing was created")
    }
}
