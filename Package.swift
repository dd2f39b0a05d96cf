// swift-tools-version:6.0
// setuplink: an offline-first sync engine for Directory Sync setup links.
// No package dependencies: only the toolchain and C system libraries.
import PackageDescription

/// The engine's hot paths (codecs, merge, paging, SCIM) are compiled with the optimizer
/// in debug builds too: the randomized and large tests (a 100,000-member group synced
/// every way) then run in seconds, not minutes. Debugging them steps through optimized code.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "setuplink",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "setuplink", targets: ["setuplink"]),
        .executable(name: "merge-bench", targets: ["MergeBench"]),
        .executable(name: "list-bench", targets: ["ListBench"]),
        .executable(name: "scim-bench", targets: ["ScimBench"]),
        .executable(name: "webhook-bench", targets: ["WebhookBench"]),
        .library(name: "SetupLinkKit", targets: ["JSON", "Replica", "Storage", "SetupLinks", "HTTP", "SetupPage", "Scim", "PeerSync", "Webhooks", "Hub", "Console"]),
    ],
    targets: [
        // System libraries: a module map and a shim header each.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd",
                       providers: [.apt(["libmicrohttpd-dev"])]),

        .target(name: "JSON", swiftSettings: optimized),
        .target(name: "Replica", dependencies: ["CCrypto"], swiftSettings: optimized),
        .target(name: "Storage", dependencies: ["Replica", "CSQLite", "CCrypto"], swiftSettings: optimized),
        .target(name: "SetupLinks", dependencies: ["Replica", "Storage", "CCrypto"], swiftSettings: optimized),
        .target(name: "HTTP", dependencies: ["CMicroHTTPD", "CCurl"]),
        .target(name: "SetupPage", dependencies: ["SetupLinks", "Storage", "HTTP", "CCrypto"]),
        .target(name: "PeerSync", dependencies: ["JSON", "Replica", "Storage", "HTTP"], swiftSettings: optimized),
        .target(name: "Scim", dependencies: ["JSON", "Replica", "Storage", "SetupLinks", "HTTP"], exclude: ["NOTES.md"],
                swiftSettings: optimized),
        .target(name: "Webhooks", dependencies: ["JSON", "Replica", "Storage", "SetupLinks", "Scim", "HTTP", "CCrypto"]),
        .target(name: "Hub", dependencies: ["HTTP", "PeerSync", "SetupPage", "Scim", "Storage", "SetupLinks", "Webhooks"]),
        .target(name: "Console", dependencies: ["JSON", "SetupLinks", "Scim", "PeerSync", "Hub", "HTTP", "Storage", "Replica", "Webhooks", "CEditLine"]),
        .executableTarget(name: "setuplink", dependencies: ["Console"]),

        .executableTarget(name: "MergeBench", dependencies: ["JSON", "Replica", "Storage", "HTTP", "PeerSync", "SetupLinks"],
                          path: "Benchmarks/MergeBench"),
        .executableTarget(name: "ListBench", dependencies: ["Console", "SetupLinks", "Storage", "Replica"],
                          path: "Benchmarks/ListBench"),
        .executableTarget(name: "ScimBench", dependencies: ["JSON"],
                          path: "Benchmarks/ScimBench"),
        .executableTarget(name: "WebhookBench", dependencies: ["JSON", "Replica", "Storage", "SetupLinks", "Scim", "HTTP", "Webhooks"],
                          path: "Benchmarks/WebhookBench"),
        .executableTarget(name: "LibraryDemo", dependencies: ["SetupLinks", "Storage"],
                          path: "Samples/LibraryDemo"),

        .testTarget(name: "JSONTests", dependencies: ["JSON", "Replica"]),
        .testTarget(name: "ReplicaTests", dependencies: ["Replica"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Replica", "CSQLite", "HTTPTestSupport"]),
        .testTarget(name: "SetupLinksTests", dependencies: ["SetupLinks", "Storage", "Replica", "HTTPTestSupport"]),
        // Raw sockets, closure routes and child processes for tests; never in the library product.
        .target(name: "HTTPTestSupport", dependencies: ["HTTP"], path: "Tests/HTTPTestSupport"),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "HTTPTestSupport", "Replica"]),
        .testTarget(name: "PeerSyncTests", dependencies: ["JSON", "HTTP", "HTTPTestSupport", "PeerSync", "Storage", "Replica", "SetupLinks"]),
        .testTarget(name: "ScimTests", dependencies: ["Scim", "JSON", "SetupLinks", "Replica", "Storage", "HTTP", "HTTPTestSupport", "Hub", "PeerSync"],
                    exclude: ["Conformance"]),
        .testTarget(name: "ConsoleTests", dependencies: ["JSON", "Console", "Scim", "HTTP", "HTTPTestSupport", "PeerSync", "SetupLinks", "Storage", "Replica"]),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "Scim", "JSON", "Hub", "HTTP", "HTTPTestSupport", "PeerSync",
                                                          "SetupLinks", "Storage", "Replica", "Console"],
                    exclude: ["Receiver"]),
        .testTarget(name: "SetupPageTests", dependencies: ["SetupPage", "Hub", "HTTP", "HTTPTestSupport", "SetupLinks", "Storage", "Replica"],
                    exclude: ["Browser"]),
    ]
)
