import Foundation
import Glibc

// Every file a test writes goes under one folder per test process, removed when
// the process exits: a full `swift test` used to leave some 560 folders (about
// 50 MB) in /tmp on every run. `SETUPLINK_KEEP_TEST_FILES=1` keeps the folder
// (its path is printed) to look at a failure's replicas.

/// This process's folder for test files (created at first use, 0700).
private let runFolder: String = {
    // Short names: Chromium puts Unix sockets (at most 107 bytes of path) in the folders it is given.
    let dir = NSTemporaryDirectory() + "setuplink-test-\(getpid())-" + UUID().uuidString.prefix(8).lowercased()
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    if ProcessInfo.processInfo.environment["SETUPLINK_KEEP_TEST_FILES"] != nil {
        print("test files kept in \(dir)")
    } else {
        atexit { try? FileManager.default.removeItem(atPath: runFolder) }
    }
    return dir
}()

/// A fresh path for a test's folder, not created (for code that creates its own folder).
public func testFolderPath(_ label: String) -> String {
    while true {
        let path = runFolder + "/" + label + "-" + UUID().uuidString.prefix(8).lowercased()
        if !FileManager.default.fileExists(atPath: path) { return path }
    }
}

/// A fresh, empty folder for one test.
public func testFolder(_ label: String) -> String {
    let dir = testFolderPath(label)
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
