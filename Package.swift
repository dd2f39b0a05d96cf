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
        .executable(name: "scale-bench", targets: ["ScaleBench"]),
        .library(name: "SetupLinkKit", targets: ["Bytes", "Crypto", "Dates", "JSON", "Replica", "Storage", "SetupLinks", "Events", "HTTP", "SetupPage", "Scim", "PeerSync", "Webhooks", "AppAPI", "GoogleSync", "Hub", "Console"]),
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

        // One helper per concern, below every room that uses it: hex, base64url and UTF-8 checks;
        // SHA-256, HMAC, random bytes and constant-time compare over libcrypto; timestamps as text.
        .target(name: "Bytes", swiftSettings: optimized),
        .target(name: "Crypto", dependencies: ["Bytes", "CCrypto"], swiftSettings: optimized),
        .target(name: "Dates", swiftSettings: optimized),
        .target(name: "JSON", dependencies: ["Bytes"], swiftSettings: optimized),
        .target(name: "Replica", dependencies: ["Bytes", "Crypto"], swiftSettings: optimized),
        // CCrypto for `RecordKeyHasher`, the one user of raw EVP calls outside Crypto (see why there).
        .target(name: "Storage", dependencies: ["Replica", "Bytes", "Crypto", "Dates", "CSQLite", "CCrypto"], swiftSettings: optimized),
        .target(name: "SetupLinks", dependencies: ["JSON", "Replica", "Storage", "Bytes", "Crypto", "Dates"], swiftSettings: optimized),
        // The one directory event (kind, directory, data) and its sink, below the protocols:
        // Scim emits it, Webhooks consumes it, and neither imports the other.
        .target(name: "Events", dependencies: ["JSON", "Replica", "Storage", "SetupLinks"], swiftSettings: optimized),
        .target(name: "HTTP", dependencies: ["JSON", "Bytes", "Crypto", "Dates", "CMicroHTTPD", "CCurl"]),
        .target(name: "SetupPage", dependencies: ["SetupLinks", "Storage", "HTTP", "Bytes", "Crypto", "Dates"]),
        .target(name: "PeerSync", dependencies: ["JSON", "Replica", "Storage", "HTTP", "Bytes", "Crypto"], swiftSettings: optimized),
        .target(name: "Scim", dependencies: ["JSON", "Replica", "Storage", "SetupLinks", "Events", "HTTP", "Dates"], exclude: ["NOTES.md"],
                swiftSettings: optimized),
        .target(name: "Webhooks", dependencies: ["JSON", "Replica", "Storage", "SetupLinks", "Events", "HTTP", "Bytes", "Crypto"]),
        // The app API (Jackson's /api/v1/dsync and the change feed): over the same service as the REPL.
        .target(name: "AppAPI", dependencies: ["HTTP", "JSON", "Bytes", "Replica", "Storage", "SetupLinks", "Events", "Scim", "Dates"]),
        // Google Workspace directories: OAuth on the setup page, the Directory API poller, written through Scim's flows.
        .target(name: "GoogleSync", dependencies: ["HTTP", "JSON", "Bytes", "Crypto", "Dates", "Replica", "Storage", "SetupLinks", "Events",
                                                   "Scim", "SetupPage"]),
        .target(name: "Hub", dependencies: ["HTTP", "PeerSync", "SetupPage", "Scim", "Storage", "SetupLinks", "Webhooks", "AppAPI", "Events",
                                            "GoogleSync"]),
        .target(name: "Console", dependencies: ["Bytes", "JSON", "SetupLinks", "Scim", "PeerSync", "Hub", "HTTP", "Storage", "Replica", "Webhooks", "Dates",
                                                "GoogleSync", "CEditLine"]),
        .executableTarget(name: "setuplink", dependencies: ["Console"]),

        .executableTarget(name: "MergeBench", dependencies: ["JSON", "Replica", "Storage", "HTTP", "PeerSync", "SetupLinks", "Fixtures", "Bytes"],
                          path: "Benchmarks/MergeBench"),
        .executableTarget(name: "ListBench", dependencies: ["Console", "SetupLinks", "Storage", "Replica"],
                          path: "Benchmarks/ListBench"),
        // What the benchmarks share: a keep-alive HTTP/1.1 client cheap enough that a measured CPU is the server's.
        .target(name: "BenchSupport", path: "Benchmarks/BenchSupport"),
        .executableTarget(name: "ScimBench", dependencies: ["JSON", "BenchSupport"],
                          path: "Benchmarks/ScimBench"),
        .executableTarget(name: "ScaleBench", dependencies: ["BenchSupport", "JSON", "Replica", "Storage", "SetupLinks", "Events", "Scim"],
                          path: "Benchmarks/ScaleBench"),
        .executableTarget(name: "WebhookBench", dependencies: ["JSON", "Replica", "Storage", "SetupLinks", "Events", "Scim", "HTTP", "Webhooks"],
                          path: "Benchmarks/WebhookBench"),
        .executableTarget(name: "LibraryDemo", dependencies: ["SetupLinks", "Storage"],
                          path: "Samples/LibraryDemo"),

        .testTarget(name: "BytesTests", dependencies: ["Bytes"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "Bytes"]),
        .testTarget(name: "DatesTests", dependencies: ["Dates"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "Fixtures"]),
        .testTarget(name: "ReplicaTests", dependencies: ["Replica", "Fixtures"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Replica", "Fixtures", "CSQLite", "TestSupport"]),
        .testTarget(name: "SetupLinksTests", dependencies: ["SetupLinks", "Storage", "Replica", "TestSupport"]),
        // The in-memory reference replica and the seeded generator, for tests and benchmarks; never in the library product.
        .target(name: "Fixtures", dependencies: ["Replica"], path: "Tests/Fixtures"),
        // The one test-support surface: the package root and built products, child processes, polling,
        // the tools a test requires, a pseudo-terminal driver, raw sockets and closure routes; never in the library product.
        .target(name: "TestSupport", dependencies: ["HTTP"], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport", "Fixtures", "CCurl"]),
        .testTarget(name: "PeerSyncTests", dependencies: ["JSON", "HTTP", "TestSupport", "PeerSync", "Storage", "Replica", "Fixtures", "SetupLinks"]),
        .testTarget(name: "ScimTests", dependencies: ["Scim", "Events", "Dates", "JSON", "SetupLinks", "Replica", "Fixtures", "Storage", "HTTP", "TestSupport", "Hub", "PeerSync"],
                    exclude: ["Conformance"]),
        .testTarget(name: "ConsoleTests", dependencies: ["JSON", "Console", "Scim", "HTTP", "TestSupport", "PeerSync", "SetupLinks", "Storage", "Replica", "Fixtures"]),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "Events", "Scim", "JSON", "Hub", "HTTP", "TestSupport", "PeerSync",
                                                          "SetupLinks", "Storage", "Replica", "Fixtures", "Console"],
                    exclude: ["Receiver"]),
        .testTarget(name: "AppAPITests", dependencies: ["AppAPI", "Events", "Scim", "SetupLinks", "Storage", "Replica", "JSON", "HTTP",
                                                        "Hub", "PeerSync", "Webhooks", "TestSupport", "Fixtures", "Bytes"],
                    exclude: ["Jackson", "FeedApp"]),
        .testTarget(name: "GoogleSyncTests", dependencies: ["GoogleSync", "Hub", "HTTP", "JSON", "TestSupport", "SetupLinks", "Storage",
                                                            "Replica", "PeerSync", "Scim", "Webhooks"],
                    exclude: ["FakeGoogle"]),
        .testTarget(name: "SetupPageTests", dependencies: ["SetupPage", "Hub", "HTTP", "TestSupport", "SetupLinks", "Storage", "Replica"],
                    exclude: ["Browser"]),
    ]
)
