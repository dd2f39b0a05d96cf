import Foundation
import Glibc
import JSON
import SetupLinks
import Storage

/// `setuplink backup FILE`: a copy of the replica, made while `serve` or the REPL may be
/// writing to it, that opens as a new replica (Storage.docc/Backup.md).
enum BackupCommand {
    static let usage = "usage: setuplink [--db FILE] backup COPY"

    static func run(options: SetupLinkCLI.Options, arguments: [String]) -> Int32 {
        var options = options
        var target: String?
        var args = arguments[...]
        while let a = args.popFirst() {
            if let problem = SetupLinkCLI.takeGlobal(a, &args, &options) {
                if !problem.isEmpty { return SetupLinkCLI.usageError(problem) }
            } else if a.hasPrefix("-") {
                return SetupLinkCLI.usageError("unknown flag \(a) for backup; \(usage)")
            } else if target == nil {
                target = a
            } else {
                return SetupLinkCLI.usageError("backup takes one file, the copy to write; \(usage)")
            }
        }
        guard let target, !target.isEmpty else { return SetupLinkCLI.usageError("backup needs the file to write the copy to; \(usage)") }
        guard FileManager.default.fileExists(atPath: options.db) else {
            SetupLinkCLI.printError("no replica at \(options.db) to back up")
            return 1
        }
        let source = URL(fileURLWithPath: options.db).standardizedFileURL.path
        guard URL(fileURLWithPath: target).standardizedFileURL.path != source else {
            SetupLinkCLI.printError("the copy must be another file than the replica \(options.db)")
            return 1
        }
        // Open it once the usual way: a file of an older version is migrated, a foreign one refused.
        guard let service = SetupLinkCLI.openService(options) else { return 1 }
        service.store.close()
        let terminal = isatty(STDERR_FILENO) == 1 && !options.json
        var lastShown = -1
        let report: BackupReport
        do {
            report = try ReplicaStore.backup(from: options.db, to: target, progress: { copied, total in
                guard terminal, total > 0 else { return }
                let percent = copied * 100 / total
                if percent != lastShown {
                    lastShown = percent
                    FileHandle.standardError.write(Data("\rcopying \(options.db): \(percent)% (\(copied) of \(total) pages)".utf8))
                }
            })
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            // The copy opens as a replica.
            let copy = try SetupLinkService.openStore(path: target)
            copy.close()
        } catch {
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            SetupLinkCLI.printError("backup: \(error)")
            return 1
        }
        let bytes = report.pages * report.pageSize
        if options.json {
            REPL.writeLine(String(decoding: JSONWriter.write(.object([
                ("backup", .string(report.path)), ("replica", .string(report.replica.hex)), ("source", .string(report.source.hex)),
                ("pages", .int(Int64(report.pages))), ("bytes", .int(Int64(bytes))), ("integrity", .string("ok")),
            ])), as: UTF8.self))
        } else {
            REPL.writeLine("Copied \(options.db) to \(report.path) (\(Format.bytes(bytes)); integrity check ok).")
            REPL.writeLine("The copy is a new replica \(report.replica.hex): no peers, no peer tokens, no webhook outbox;"
                           + " it joins by syncing (setuplink --db \(report.path) peer add NAME URL …).")
        }
        return 0
    }
}
