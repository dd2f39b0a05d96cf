import Fixtures
import Foundation
import TestSupport
import Glibc
import Synchronization
import Replica
import Storage
import Testing

/// A child process writes in a loop and acknowledges each write; it is killed
/// with SIGKILL at a random moment; every acknowledged write must survive.
@Suite struct CrashDurabilityTests {
    @Test func everyAcknowledgedWriteSurvivesKillNine() throws {
        signal(SIGPIPE, SIG_IGN)
        let seed = SeededGenerator.seed()
        print("CrashDurabilityTests seed: \(seed)")
        var rng = SeededGenerator(seed: seed)
        let killAfter = Int.random(in: 20...400, using: &rng)
        let db = temporaryReplica()
        let p = Process()
        p.executableURL = setuplinkBinary()
        p.arguments = ["--db", db, "--json"]
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let fd = inPipe.fileHandleForWriting.fileDescriptor
        Thread {
            for i in 0..<100_000 {
                let line = "link create --tenant t\(i) --product p --webhook-url https://h.example.com/x --webhook-secret s\n"
                let ok = line.utf8CString.withUnsafeBufferPointer { b in Glibc.write(fd, b.baseAddress, b.count - 1) == b.count - 1 }
                if !ok { return }  // the child is gone
            }
        }.start()
        var acked: [String] = []
        var pending = Data()
        let reader = outPipe.fileHandleForReading
        while acked.count < killAfter {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let nl = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<nl]
                pending = Data(pending[(nl + 1)...])
                if let id = json(String(decoding: line, as: UTF8.self))["id"] as? String { acked.append(id) }
            }
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        #expect(acked.count >= killAfter)
        let store = try ReplicaStore(path: db)
        #expect(try store.integrityCheck() == "ok")
        for id in acked { #expect(try store.record(id: id)?.isLive == true, "acknowledged \(id) lost, seed \(seed)") }
        print("CrashDurabilityTests: killed after \(acked.count) acknowledged writes; replica holds \(try store.counts().links)")
    }
}

/// Two processes writing the same replica file at once: they wait for each
/// other (busy timeout) and every write lands.
@Suite struct TwoProcessTests {
    @Test func twoProcessesWritingOneFileLoseNothing() throws {
        let db = temporaryReplica()
        _ = try status(db)  // create the file first
        let scripts = ["a", "b"].map { prefix in
            (0..<150).map { "link create --tenant \(prefix)\($0) --product p --webhook-url https://h.example.com/x --webhook-secret s" }
                .joined(separator: "\n")
        }
        let results = Mutex<[Int: RunResult]>([:])
        let group = DispatchGroup()
        for (k, script) in scripts.enumerated() {
            group.enter()
            Thread {
                let r = try? runTool(["--db", db, "--json"], input: script)
                results.withLock { $0[k] = r }
                group.leave()
            }.start()
        }
        group.wait()
        for r in results.withLock({ Array($0.values) }) {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.lines.count == 150)
        }
        #expect(results.withLock { $0.count } == 2)
        #expect(try status(db)["links"] as? Int == 300)
        let store = try ReplicaStore(path: db)
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.clock()[store.replicaID] == 300, "every write took its own dot")
    }
}
