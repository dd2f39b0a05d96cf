import Foundation
import Glibc
import HTTP
import PeerSync
import Replica
import SetupLinks
import Storage

/// The bench re-runs itself as the server or the client of the sync figures,
/// so each side is a process of its own whose peak memory can be read.
enum Roles {
    /// CPU seconds (user + system) used by this process so far.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// This process's peak resident memory (VmHWM) in MiB.
    static func peakMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? -1
        return kb / 1024
    }

    /// Bytes this process has handed to `write`/`pwrite` so far (`wchar` in /proc/self/io):
    /// the WAL, checkpoints and any temporary file SQLite writes.
    static func writtenBytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("wchar:") }) else { return -1 }
        return Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? -1
    }

    /// `--role server --db PATH --token T`: serves until SIGTERM; prints the port.
    static func server(db: String, token: String) -> Int32 {
        do {
            let store = try SetupLinkService.openStore(path: db)
            var log: (@Sendable (HTTPLogEntry) -> Void)?
            if ProcessInfo.processInfo.environment["MERGE_BENCH_ACCESS_LOG"] != nil {
                log = { @Sendable (entry: HTTPLogEntry) in FileHandle.standardError.write(Data("server: \(entry)\n".utf8)) }
            }
            let server = SyncServer(store: store, token: token, accessLog: log)
            let port = try server.start()
            print("port \(port)")
            fflush(nil)
            signal(SIGTERM, SIG_IGN)
            let done = DispatchSemaphore(value: 0)
            let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: DispatchQueue(label: "term"))
            source.setEventHandler { done.signal() }
            source.resume()
            done.wait()
            server.stop()
            store.close()
            print("peak \(peakMiB()) cpu \(cpuSeconds())")
            fflush(nil)
            return 0
        } catch {
            FileHandle.standardError.write(Data("server role: \(error)\n".utf8))
            return 1
        }
    }

    /// `--role client --db PATH --url URL --token T`: one sync; prints a JSON report.
    static func client(db: String, url: String, token: String, pageLimit: Int, encoding: PageEncoding) -> Int32 {
        do {
            let store = try SetupLinkService.openStore(path: db)
            let start = DispatchTime.now().uptimeNanoseconds
            let cpu0 = cpuSeconds()
            let written0 = writtenBytes()
            let report = try SyncClient(pageLimit: pageLimit, encoding: encoding).sync(store: store, url: url, token: token)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let cpu = cpuSeconds() - cpu0
            let written = writtenBytes() - written0
            let counts = try store.counts()
            print("{\"seconds\":\(seconds),\"pulled\":\(report.pulled),\"pushed\":\(report.pushed),\"bytes\":\(report.bytesSent + report.bytesReceived),\"requests\":\(report.requests),\"records\":\(counts.links + counts.directories),\"digest\":\"\(try store.digest())\",\"peak_mib\":\(peakMiB()),\"cpu\":\(cpu),\"written\":\(written)}")
            store.close()
            return 0
        } catch {
            FileHandle.standardError.write(Data("client role: \(error)\n".utf8))
            return 1
        }
    }
}

/// A child process started with posix_spawn, so wait4 can report its peak memory.
struct Child {
    let pid: pid_t
    let stdout: FileHandle

    static func spawn(_ arguments: [String], executable: String? = nil, environment: [String] = []) throws -> Child {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BenchFailure(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let exe = CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let program = executable ?? exe
        let argv = (executable == nil ? [exe] + arguments : arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var envp: [UnsafeMutablePointer<CChar>?] = []
        var e = environ
        while let p = e.pointee { envp.append(strdup(p)); e += 1 }
        envp += environment.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, nil, argv, envp)
        close(fds[1])
        guard rc == 0 else { throw BenchFailure(description: "posix_spawn failed: \(rc)") }
        return Child(pid: pid, stdout: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true))
    }

    /// Reads one line of the child's output.
    func readLine() -> String {
        var bytes: [UInt8] = []
        while true {
            let d = stdout.readData(ofLength: 1)
            if d.isEmpty || d.first == 0x0A { break }
            bytes.append(d.first!)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits for the child; returns its exit status and peak resident memory in MiB.
    func wait() -> (status: Int32, peakMiB: Double) {
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        return ((status >> 8) & 0xFF, Double(usage.ru_maxrss) / 1024)
    }
}
