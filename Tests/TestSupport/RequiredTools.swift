import Foundation
import Testing

/// A program a test runs that this package does not build: it is found here,
/// or the test says why it cannot run (`requires(_:)`).
public struct Tool: Sendable {
    /// The program's name in messages.
    public var name: String
    /// An environment variable that, when set, is the program's path.
    public var override: String?
    /// Where it is looked for, in order: absolute paths, or names searched on the `PATH`.
    public var candidates: [String]
    /// How to make it available, for the message when it is not.
    public var hint: String

    /// A tool found at the first of `candidates` that is executable, unless `override` names it.
    public init(name: String, override: String? = nil, candidates: [String], hint: String) {
        self.name = name
        self.override = override
        self.candidates = candidates
        self.hint = hint
    }

    /// The program's path, or `nil` when it is not installed (or `override` names a file that is not a program).
    public var path: String? {
        if let override, let path = ProcessInfo.processInfo.environment[override], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for candidate in candidates {
            let paths = candidate.hasPrefix("/") ? [candidate] : searchPath.map { "\($0)/\(candidate)" }
            if let found = paths.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        }
        return nil
    }

    /// `python3` on the `PATH` (it may live under pyenv): the webhook receiver, the pty driver, raw HTTP clients.
    public static let python3 = Tool(name: "python3", candidates: ["python3"], hint: "install python3")

    /// Node.js, to check bodies against `JSON.stringify`.
    public static let node = Tool(name: "node", candidates: ["node", "nodejs"], hint: "install nodejs")

    /// The package's venv Python with the PyPI packages of `Tests/requirements.txt` (the browser test).
    public static let venvPython = Tool(
        name: "the venv's python3", override: "SETUPLINK_PYTHON",
        candidates: [packageRoot().appendingPathComponent(".venv/bin/python3").path],
        hint: "make .venv with Tests/requirements.txt as the README's install command does, or set SETUPLINK_PYTHON")

    /// `scim2` (PyPI `scim2-cli` with `scim2-tester`), the public SCIM conformance suite.
    public static let scim2 = Tool(
        name: "scim2", override: "SETUPLINK_SCIM2",
        candidates: [packageRoot().appendingPathComponent(".venv/bin/scim2").path],
        hint: "install Tests/requirements.txt into .venv as the README's install command does, or set SETUPLINK_SCIM2")
}

/// Whether the tests run under CI (`CI` set, not empty and not `false`), which
/// installs every tool: there, a test that cannot run fails.
public var isCI: Bool {
    guard let value = ProcessInfo.processInfo.environment["CI"] else { return false }
    return !value.isEmpty && value != "false"
}

/// The path of `tool`; when it is missing, the test ends as `unavailable(_:)` says.
public func requires(_ tool: Tool) throws -> String {
    if let path = tool.path { return path }
    if let override = tool.override, let named = ProcessInfo.processInfo.environment[override], !named.isEmpty {
        try unavailable("\(override)=\(named) is not a program (\(tool.hint))")
    }
    try unavailable("\(tool.name) is not installed (\(tool.hint))")
}

/// Ends a test that cannot run on this machine, and never as a pass: under CI
/// it fails with `reason`; elsewhere it is cancelled with `reason`, which the
/// test report shows.
public func unavailable(_ reason: String) throws -> Never {
    if isCI { throw UnavailableUnderCI(reason: reason) }
    print("\(Test.current?.name ?? "test") skipped: \(reason)")
    try Test.cancel("skipped: \(reason)")
}

/// A test could not run under CI, where everything it needs is installed.
public struct UnavailableUnderCI: Error, CustomStringConvertible {
    /// Why it could not run.
    public var reason: String
    /// One sentence.
    public var description: String { "cannot run under CI: \(reason)" }
}
