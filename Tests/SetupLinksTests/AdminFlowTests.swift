import Foundation
import Testing
import Replica
import Storage
@testable import SetupLinks

/// Issue 12: trimmed names, admin directory management, link update, abbreviated ids,
/// writes that change nothing, and lists answered page by page from the indexes.
@Suite struct AdminFlowTests {
    @Test func namesAndSecretsAreTrimmedAndBlankOnesRefused() throws {
        let f = try Fixture()
        let (l, _) = try f.service.createLink(tenant: " acme ", product: "\tcrm ", webhookURL: " https://h.example.com/x ",
                                              webhookSecret: " s3cret ", name: "  Acme EU  ")
        #expect(l.tenant == "acme" && l.product == "crm" && l.name == "Acme EU")
        #expect(l.webhookURL == "https://h.example.com/x" && l.webhookSecret == "s3cret")
        #expect(l.id == SetupLinkService.linkID(tenant: "acme", product: "crm"))
        // " acme " is acme: the same link, not a second row that looks alike.
        let (again, outcome) = try f.service.createLink(tenant: "acme  ", product: "crm", webhookURL: "https://h.example.com/x", webhookSecret: "s")
        #expect(outcome == .existing && again.id == l.id)
        #expect(try f.service.links().count == 1)

        let before = try f.store.digest()
        let blanks = ["", " ", "   ", "\t", " \n ", "\u{3000}"]
        for b in blanks {
            #expect { try f.service.createLink(tenant: b, product: "crm", webhookURL: "https://h/x", webhookSecret: "s") } throws: {
                "\($0)" == "tenant must not be empty or only blanks"
            }
            #expect { try f.service.createLink(tenant: "x", product: b, webhookURL: "https://h/x", webhookSecret: "s") } throws: {
                "\($0)" == "product must not be empty or only blanks"
            }
            #expect { try f.service.createLink(tenant: "x", product: "y", webhookURL: "https://h/x", webhookSecret: b) } throws: {
                "\($0)" == "webhook secret must not be empty or only blanks"
            }
            #expect { try f.service.createLink(tenant: "x", product: "y", webhookURL: "https://h/x", webhookSecret: "s", name: b) } throws: {
                "\($0)" == "name must not be empty or only blanks"
            }
            #expect { try f.service.updateLink(id: l.id, name: b) } throws: { "\($0)".contains("name must not be empty") }
            #expect { try f.service.updateLink(id: l.id, webhookSecret: b) } throws: { "\($0)".contains("webhook secret must not be empty") }
        }
        let d = try f.service.open(l.token).createDirectory()
        let afterCreate = try f.store.digest()
        for b in blanks {
            #expect { try f.service.renameDirectory(id: d.id, to: b) } throws: { "\($0)".contains("name must not be empty") }
            #expect { try f.service.open(l.token).createDirectory(name: b) } throws: { "\($0)".contains("name must not be empty") }
        }
        #expect(try f.store.digest() == afterCreate)
        #expect(before != afterCreate)
    }

    @Test func adminManagesDirectoriesOfAnyTenantEvenAfterTheLinkIsDeleted() throws {
        let f = try Fixture()
        let (l, _) = try f.link("acme", "crm")
        let d = try f.service.open(l.token).createDirectory(type: .okta, name: " Acme Okta ")
        #expect(d.name == "Acme Okta")
        try f.service.deleteLink(id: l.id)
        #expect(try f.service.directories(tenant: "acme").map(\.id) == [d.id])
        let (renamed, changed) = try f.service.renameDirectory(id: d.id, to: "Okta (EU)")
        #expect(changed && renamed.name == "Okta (EU)")
        #expect(try f.service.setDirectoryDeactivated(true, id: d.id).changed)
        #expect(try f.service.directory(id: d.id).deactivated)
        #expect(try f.service.setDirectoryDeactivated(false, id: d.id).changed)
        #expect(try f.service.deleteDirectory(id: d.id).id == d.id)
        #expect(throws: SetupLinkError.noDirectory(d.id)) { try f.service.directory(id: d.id) }
        #expect(try f.service.directories().isEmpty)
    }

    @Test func linkUpdateChangesOnlyWhatDiffers() throws {
        let f = try Fixture()
        let (l, _) = try f.link()
        let (u, changed, _) = try f.service.updateLink(id: l.id, name: "Acme", webhookURL: "https://new.example.com/h", webhookSecret: "s3cret")
        #expect(changed == ["name", "webhook_url"], "the secret was already s3cret")
        #expect(u.name == "Acme" && u.webhookURL == "https://new.example.com/h" && u.token == l.token)
        // A directory made afterwards copies the new webhook values.
        let d = try f.service.open(l.token).createDirectory()
        #expect(d.webhookURL == "https://new.example.com/h" && d.name == "Acme")
        #expect(throws: SetupLinkError.unknownLink("ffff")) { try f.service.updateLink(id: "ffff", name: "x") }
    }

    @Test func writesThatChangeNothingLeaveTheClockAlone() throws {
        let f = try Fixture()
        let (l, _) = try f.link()
        let page = try f.service.open(l.token)
        let d = try page.createDirectory(name: "one")
        #expect(try page.setDeactivated(true, id: d.id).changed)
        let clock = try f.store.clock(), digest = try f.store.digest()
        #expect(try !page.setDeactivated(true, id: d.id).changed)
        #expect(try !f.service.setDirectoryDeactivated(true, id: d.id).changed)
        #expect(try !f.service.renameDirectory(id: d.id, to: " one ").changed)
        #expect(try !page.renameDirectory(id: d.id, to: "one").changed)
        #expect(try f.service.updateLink(id: l.id, webhookURL: l.webhookURL, webhookSecret: l.webhookSecret).changed.isEmpty)
        #expect(try f.link().1 == .existing)
        #expect(try f.store.clock() == clock)
        #expect(try f.store.digest() == digest)
        _ = try f.service.setReplicaExpiryDays(5)
        #expect(try !f.service.setReplicaExpiryDays(5))
    }

    @Test func abbreviatedIdsResolveLikeGit() throws {
        let f = try Fixture()
        // Enough links that some share their first hex digit.
        var ids: [String] = []
        for i in 0..<40 { ids.append(try f.link("t\(i)", "crm").0.id) }
        let sorted = ids.sorted()
        // Unique: the shortest prefix that only one id starts with.
        let target = sorted[7]
        var k = 1
        while sorted.filter({ $0.hasPrefix(target.prefix(k)) }).count > 1 { k += 1 }
        #expect(try f.service.link(id: String(target.prefix(k))).id == target)
        #expect(try f.service.link(id: String(target.prefix(k)).uppercased()).id == target, "ids match in any case")
        #expect(try f.service.link(id: target).id == target)
        // Ambiguous: a first digit shared by two or more ids names them.
        let shared = try #require(Set(sorted.map { $0.prefix(1) }).first { p in sorted.filter { $0.hasPrefix(p) }.count > 1 })
        #expect {
            try f.service.link(id: String(shared))
        } throws: { error in
            guard case let SetupLinkError.ambiguousID(kind, prefix, candidates) = error else { return false }
            return kind == "link" && prefix == String(shared) && candidates == sorted.filter { $0.hasPrefix(shared) }
                && "\(error)".contains("is ambiguous") && "\(error)".contains(candidates[0])
        }
        // Unknown: as before.
        let unused = "0123456789abcdef".map(String.init).first { p in !sorted.contains { $0.hasPrefix(p) } } ?? "0z"
        #expect(throws: SetupLinkError.unknownLink(unused)) { try f.service.link(id: unused) }
        // A deleted link's id no longer resolves.
        try f.service.deleteLink(id: target)
        #expect(throws: SetupLinkError.unknownLink(target)) { try f.service.link(id: target) }

        // Directories: admin over all tenants, a tenant page over its own only.
        let acme = try f.service.open(try f.link("acme", "crm").0.token)
        let mine = try acme.createDirectory()
        let theirs = try f.service.open(try f.link("globex", "crm").0.token).createDirectory()
        #expect(try f.service.directory(id: String(mine.id.prefix(8))).id == mine.id)
        #expect(try acme.directory(id: String(mine.id.prefix(8)).uppercased()).id == mine.id)
        #expect(throws: SetupLinkError.unknownDirectory(String(theirs.id.prefix(8)))) { try acme.directory(id: String(theirs.id.prefix(8))) }
        #expect(try f.service.directory(id: String(theirs.id.prefix(8))).id == theirs.id)
    }

    @Test func anUpperCaseTokenOpensThePage() throws {
        let f = try Fixture()
        let (l, _) = try f.link()
        #expect(try f.service.open(l.token.uppercased()).link.id == l.id)
        #expect(try f.service.open("HTTPS://SSO.EXAMPLE.COM/setup/" + l.token.uppercased()).link.id == l.id)
        let page = try f.service.open(l.token.uppercased())
        #expect(try page.directories().isEmpty, "the page keeps working")
    }

    @Test func listsPageThroughTheIndexesInOrder() throws {
        let f = try Fixture()
        for t in ["b", "a", "c"] { for p in ["crm", "crm2", "hr"] { _ = try f.link(t, p) } }
        var seen: [String] = []
        var cursor: IndexCursor?
        repeat {
            let page = try f.service.linkPage(after: cursor, limit: 2)
            seen += page.items.map { "\($0.tenant)/\($0.product)" }
            cursor = page.next
        } while cursor != nil
        #expect(seen == ["a/crm", "a/crm2", "a/hr", "b/crm", "b/crm2", "b/hr", "c/crm", "c/crm2", "c/hr"])
        #expect(try f.service.links(product: "crm").map(\.tenant) == ["a", "b", "c"], "product alone uses link.product")
        #expect(try f.service.links(tenant: "b", product: "crm").map(\.product) == ["crm"], "crm is not crm2")
        #expect(try f.service.links(tenant: " b ").count == 3, "filters are trimmed like the values")
    }
}
