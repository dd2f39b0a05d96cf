// A small program that uses setuplink as a library: it opens (or creates) a
// replica, creates a setup link as an admin would, opens it as the tenant
// would, and creates a directory. Run: swift run LibraryDemo [FILE]
import Foundation
import SetupLinks
import Storage

let path = CommandLine.arguments.dropFirst().first
    ?? NSTemporaryDirectory() + "setuplink-demo-\(UUID().uuidString).sqlite"
do {
    let store = try ReplicaStore(path: path)
    defer { store.close() }
    let service = try SetupLinkService(store: store, externalURL: "https://sso.example.com")
    let (link, outcome) = try service.createLink(tenant: "acme", product: "crm",
                                                 webhookURL: "https://hooks.example.com/dsync", webhookSecret: "s3cret")
    print("link \(link.id) (\(outcome.rawValue)): \(link.url(externalURL: service.externalURL))")
    let page = try service.open(link.url(externalURL: service.externalURL))
    let directory = try page.createDirectory(type: .okta)
    print("directory \(directory.id): endpoint \(directory.scimEndpoint(externalURL: service.externalURL)) token \(directory.scimToken)")
    let counts = try store.counts()
    print("replica \(store.replicaID) at \(path): \(counts.links) link(s), \(counts.directories) directory(ies), digest \(try store.digest())")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
