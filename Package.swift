// swift-tools-version: 6.1
import PackageDescription

/// tapline: a self-hosted replication scheduler compatible with the Stitch Connect v4 sources API.
///
/// Dependencies point down: `tapline` (main, CLI) → `TaplineService` (composition root) →
/// `TaplineConsole` → `TaplineAPI` / `TaplineRuntime` → `TaplineStoreContract` → `TaplineCore`
/// (pure, no I/O). The two backends, `TaplineStore` (SQLite) and `TaplineCluster` (PostgreSQL),
/// are siblings under the contract; only the composition root and the CLI know them both.
let package = Package(
    name: "tapline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tapline", targets: ["tapline"]),
        // Libraries for the micro-benchmarks in Benchmarks/ (a package of their own).
        .library(name: "TaplineCore", targets: ["TaplineCore"]),
        .library(name: "TaplineStoreContract", targets: ["TaplineStoreContract"]),
        .library(name: "TaplineStore", targets: ["TaplineStore"]),
        .library(name: "TaplineAPI", targets: ["TaplineAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // HMAC-SHA256 for signed webhooks: cryptography is not written by hand.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // The cluster's shared database: PostgreSQL's wire protocol is not written by hand.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // The console's templates: Mustache escapes every value by default, so nothing a user
        // typed reaches a page as markup.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(name: "TaplineCore"),
        /// What both stores promise: the records, results and policies, the store protocols, the
        /// change feed's timing, and the pure plans each backend operation runs between its read
        /// and its write. Crypto only for the credentials cipher both backends seal with.
        .target(
            name: "TaplineStoreContract",
            dependencies: [
                "TaplineCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        /// The embedded store: one SQLite file through GRDB.
        .target(
            name: "TaplineStore",
            dependencies: [
                "TaplineCore",
                "TaplineStoreContract",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        /// Several nodes on one PostgreSQL database (DESIGN §6): membership leases and the
        /// shared store (`ClusterStore`), answering the same contract as the SQLite store.
        .target(
            name: "TaplineCluster",
            dependencies: [
                "TaplineCore",
                "TaplineStoreContract",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Only to recognise the pool's own errors (`ClusterStore+Unreachable.swift`),
                // which postgres-nio passes on unwrapped.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// Thin C shims for the Linux calls Swift cannot make directly (pidfd_open, posix_spawn
        /// with a fresh signal mask, process group and closed descriptors).
        .target(name: "CTaplineSys"),
        .target(
            name: "TaplineRuntime",
            dependencies: [
                "CTaplineSys",
                "TaplineCore",
                "TaplineStoreContract",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TaplineAPI",
            dependencies: [
                "TaplineCore",
                "TaplineStoreContract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Served at GET /openapi.yaml; compiled into the binary, so the document served is
            // always the one in the repository (`openapi.yaml` at the top is a link to it).
            resources: [.embedInCode("openapi.yaml")]
        ),
        /// The web console (`/ui`): server-rendered pages on the API's listener, sessions signed
        /// in with an API token, live updates from the store's change feed. Templates and assets
        /// are compiled into the binary.
        .target(
            name: "TaplineConsole",
            dependencies: [
                "TaplineCore",
                "TaplineStoreContract",
                "TaplineAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [
                .embedInCode("Resources/layout.mustache"),
                .embedInCode("Resources/signin.mustache"),
                .embedInCode("Resources/sources.mustache"),
                .embedInCode("Resources/source.mustache"),
                .embedInCode("Resources/sourceform.mustache"),
                .embedInCode("Resources/confirm.mustache"),
                .embedInCode("Resources/log.mustache"),
                .embedInCode("Resources/settings.mustache"),
                .embedInCode("Resources/message.mustache"),
                .embedInCode("Resources/console.css"),
                .embedInCode("Resources/console.js"),
            ]
        ),
        .target(
            name: "TaplineService",
            dependencies: [
                "TaplineCore",
                "TaplineStoreContract",
                "TaplineStore",
                "TaplineCluster",
                "TaplineRuntime",
                "TaplineAPI",
                "TaplineConsole",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "tapline",
            dependencies: [
                "TaplineCore",
                "TaplineStoreContract",
                "TaplineStore",
                "TaplineCluster",
                "TaplineService",
                "TaplineRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// What every test target shares: the manual clock and timer, the fake launcher, the
        /// store with its destination, a recorder of the store's announcements.
        .target(
            name: "TaplineTestSupport",
            dependencies: [
                "TaplineCore", "TaplineStoreContract", "TaplineStore", "TaplineRuntime", "TaplineCluster",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TaplineTestSupport"
        ),
        .testTarget(name: "TaplineCoreTests", dependencies: ["TaplineCore"], exclude: ["Fixtures"]),
        .testTarget(name: "TaplineStoreContractTests", dependencies: ["TaplineStoreContract", "TaplineCore"]),
        .testTarget(
            name: "TaplineClusterTests",
            dependencies: [
                "TaplineCluster", "TaplineCore", "TaplineStoreContract", "TaplineStore", "TaplineTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "TaplineStoreTests", dependencies: ["TaplineStore", "TaplineStoreContract", "TaplineCore", "TaplineCluster", "TaplineTestSupport"]),
        .testTarget(
            name: "TaplineRuntimeTests",
            dependencies: [
                "TaplineRuntime", "TaplineCore", "TaplineStoreContract", "TaplineStore", "TaplineCluster", "TaplineTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "TaplineAPITests",
            dependencies: [
                "TaplineAPI", "TaplineConsole", "TaplineCore", "TaplineStoreContract", "TaplineStore", "TaplineService", "TaplineRuntime", "TaplineTestSupport",
                "TaplineCluster",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TaplineCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
