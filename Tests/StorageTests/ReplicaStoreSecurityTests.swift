import Foundation
import Glibc
import Testing
import Replica
@testable import Storage

/// The mode bits of `path` (permissions only), or `nil` if it does not exist.
private func mode(_ path: String) -> mode_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
}

/// Replica files hold every token and secret: they are private to their owner.
@Suite struct ReplicaStoreSecurityTests {
    @Test func aNewReplicaAndItsWALAndSharedMemoryFilesAre0600() throws {
        let dir = temporaryDirectory() + "/new-folder"
        let path = dir + "/replica.sqlite"
        let old = umask(0o022)   // the usual umask, which alone would give 0644
        defer { umask(old) }
        let store = try ReplicaStore(path: path)
        try store.write { try $0.write(id: "x", kind: .link, ["token": "secret"]) }
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode made a -wal file")
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(mode(file) == 0o600, "\(file): \(String(mode(file) ?? 0, radix: 8))")
        }
        #expect(mode(dir) == 0o700, "a folder made for the replica is private too")
        store.close()
    }

    @Test func anOlderReplicaReadableByOthersIsTightenedOnOpen() throws {
        let path = temporaryDirectory() + "/replica.sqlite"
        do {
            let store = try ReplicaStore(path: path)
            try store.write { try $0.write(id: "x", kind: .link, ["token": "secret"]) }
            store.close()
        }
        chmod(path, 0o644)
        let store = try ReplicaStore(path: path)
        #expect(mode(path) == 0o600)
        #expect(try store.record(id: "x")?["token"] == "secret")
        store.close()
    }

    @Test func peersKeepACACertificateAndCanBeUpdatedInPlace() throws {
        let store = try temporaryStore()
        try store.peers.add(name: "hub", url: "https://hub:8080", token: "t1", cacert: "-----BEGIN CERTIFICATE-----\nA\n")
        try store.peers.recordSync(peer: "hub", acked: VectorClock([(ReplicaID.random(), UInt64(5))]))
        let acked = try #require(try store.peers.named("hub")).acked
        #expect(try store.peers.update(name: "hub", token: "t2"))
        var peer = try #require(try store.peers.named("hub"))
        #expect(peer.url == "https://hub:8080" && peer.token == "t2" && peer.cacert == "-----BEGIN CERTIFICATE-----\nA\n")
        #expect(peer.acked == acked, "the same replica: what it acknowledged is kept")
        #expect(try store.peers.update(name: "hub", url: "https://hub2:8443", cacert: "-----BEGIN CERTIFICATE-----\nB\n"))
        peer = try #require(try store.peers.named("hub"))
        #expect(peer.url == "https://hub2:8443" && peer.token == "t2" && peer.cacert == "-----BEGIN CERTIFICATE-----\nB\n")
        #expect(try store.peers.update(name: "nobody", token: "x") == false)
    }

    @Test func aFileFromBeforeTheCACertificateColumnGainsIt() throws {
        let path = temporaryDirectory() + "/replica.sqlite"
        do {
            let store = try ReplicaStore(path: path)
            try store.peers.add(name: "hub", url: "http://hub:8080", token: "t")
            // Back to what the version before it wrote.
            // Schema 3 added the column (later migrations, such as 4, the integer id key, are re-run harmlessly).
            try store.db.exec("ALTER TABLE peers DROP COLUMN cacert; PRAGMA user_version=2")
            store.close()
        }
        let store = try ReplicaStore(path: path)
        #expect(try store.db.scalar("PRAGMA user_version")?.int == Int64(Schema.version))
        #expect(try store.peers.named("hub")?.cacert == nil)
        #expect(try store.peers.update(name: "hub", cacert: "-----BEGIN CERTIFICATE-----\n"))
        #expect(try store.peers.named("hub")?.token == "t")
    }
}
