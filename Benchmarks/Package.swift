// swift-tools-version: 6.1
import PackageDescription

/// Micro-benchmarks of tapline's pure core and wire encoding (package-benchmark). A package of
/// its own, so `swift test` in the repository never builds the benchmark tool.
///
///     cd Benchmarks && swift package benchmark
let package = Package(
    name: "tapline-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tapline", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TaplineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TaplineCore", package: "tapline"),
                .product(name: "TaplineStore", package: "tapline"),
                .product(name: "TaplineAPI", package: "tapline"),
            ],
            path: "Benchmarks/TaplineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
