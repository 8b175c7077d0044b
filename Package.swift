// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "gossip-mirror",
    platforms: [.macOS(.v15)],  // grpc-swift 2 (containerd API) needs macOS 15
    products: [
        .executable(name: "gossip-mirror", targets: ["gossip-mirror"]),
        .library(name: "Gossip", targets: ["Gossip"]),
        .library(name: "Catalog", targets: ["Catalog"]),
        .library(name: "Registry", targets: ["Registry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // containerd's gRPC API (Catalog/ContainerdStore); generated code is committed.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // SHA-256 on BoringSSL (SHA-NI): tag keys, and verifying bytes fetched from peers.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // System libraries fixed by the product's owner.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Membership and dissemination; knows nothing of OCI.
        .target(
            name: "Gossip",
            dependencies: [
                "CSodium",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // What this node holds: content stores, digests, tags, Bloom summaries.
        .target(
            name: "Catalog",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["ContainerdStore/Protos"]
        ),
        // The OCI HTTP front: local serve, peer routing, digest verification.
        .target(
            name: "Registry",
            dependencies: [
                "Catalog", "Gossip", "CCurl",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "gossip-mirror",
            dependencies: [
                "Registry", "Gossip", "Catalog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "GossipTests", dependencies: ["Gossip", "TestSupport"]),
        // The tests' one harness: waiting, scratch directories, processes (reaped), OCI layouts,
        // real containerd and docker-registry.
        .target(
            name: "TestSupport",
            dependencies: [
                "Catalog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "CatalogTests",
            dependencies: [
                "Catalog", "TestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "TestSupport"]),
        // The executable's own decisions (@testable import gossip_mirror): configuration
        // sources and option wiring, status access, logging, build info, metrics text.
        .testTarget(
            name: "GossipMirrorTests",
            dependencies: [
                "gossip-mirror", "Registry", "Gossip", "Catalog", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Gossip", "Catalog", "Registry", "TestSupport",
                // containerd's Content.Abort for the cold-pull fault scenario (ctr has no command for it).
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                // HTTP headers for the sealed answers of a hand-built peer (StallingPeer).
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        // Fuzz harnesses (decoders and parsers against their properties), run
        // over committed inputs by `swift test` and under libFuzzer by
        // scripts/fuzz.sh; see docs/security.md, "Fuzzing".
        .target(
            name: "FuzzHarnesses",
            dependencies: [
                "Gossip", "Catalog", "Registry", "gossip-mirror",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Tests/Fuzz/Harnesses"
        ),
        // Depends on the executable too: SwiftPM links an executable's code only
        // into test bundles (and executables) that name it directly.
        .testTarget(
            name: "FuzzRegressionTests", dependencies: ["FuzzHarnesses", "gossip-mirror"], path: "Tests/Fuzz/RegressionTests"),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer driver exists only for fuzz builds (it links libFuzzer, whose
// run loop it calls from its own main): GOSSIP_MIRROR_FUZZ=1 swift build -c
// release --product gossip-mirror-fuzz --scratch-path .build-fuzz (what
// scripts/fuzz.sh runs).
if Context.environment["GOSSIP_MIRROR_FUZZ"] == "1" {
    // Only this package's code is instrumented (coverage and AddressSanitizer):
    // libFuzzer walks every coverage counter after each execution, and with
    // NIO, gRPC and the rest instrumented too (814,000 counters) that walk
    // was most of each run. `-enable-testing` lets the harnesses reach
    // internal API (`@testable import`) in a release build.
    let fuzzFlags: [String] = ["-sanitize=fuzzer,address", "-enable-testing", "-DGOSSIP_MIRROR_FUZZ"]
    // The configuration harness calls into the command line's code, and
    // SwiftPM links an executable target's code only into test bundles: here
    // it becomes a library, its @main entry point renamed out of the way.
    if let index = package.targets.firstIndex(where: { $0.name == "gossip-mirror" }) {
        let command = package.targets[index]
        package.targets[index] = .target(
            name: command.name, dependencies: command.dependencies, path: "Sources/gossip-mirror",
            exclude: command.exclude,
            swiftSettings: (command.swiftSettings ?? [])
                + [.unsafeFlags(["-Xfrontend", "-entry-point-function-name", "-Xfrontend", "gossip_mirror_main"])])
        package.products.removeAll { $0.name == "gossip-mirror" }
    }
    package.products.append(.executable(name: "gossip-mirror-fuzz", targets: ["gossip-mirror-fuzz"]))
    package.targets.append(
        .executableTarget(
            name: "gossip-mirror-fuzz",
            dependencies: ["FuzzHarnesses"],
            path: "Tests/Fuzz/Driver",
            swiftSettings: [.enableExperimentalFeature("Extern")],
            // ld.gold fails on these links; lld works.
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-sanitize=fuzzer,address"])]
        ))
    for target in package.targets where target.type == .regular || target.type == .executable {
        // The harnesses are checked by AddressSanitizer but not traced: their
        // own comparisons (whole messages against what was sent) are not
        // what the fuzzer should explore, and tracing each byte compared
        // took most of a stream-chunk run.
        let flags = target.name == "FuzzHarnesses" || target.name == "gossip-mirror-fuzz"
            ? ["-sanitize=address", "-enable-testing", "-DGOSSIP_MIRROR_FUZZ"] : fuzzFlags
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(flags)]
    }
}

// Micro-benchmarks (package-benchmark), declared only when
// GOSSIP_MIRROR_BENCHMARKS=1 so that the normal build and CI never compile
// package-benchmark: `scripts/bench/micro.sh` (or `scripts/bench/run.sh`) sets it.
// The benchmark plugin finds executable targets whose folder sits in a folder
// named `Benchmarks`; the top level of the repository is fixed, so theirs is
// `Tests/Benchmarks`. The MallocInterposer trait alone: package-benchmark's
// other default trait needs swift-runtime-interposer, which is not mirrored here.
if Context.environment["GOSSIP_MIRROR_BENCHMARKS"] == "1" {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]))
    func benchmark(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
        .executableTarget(
            name: name,
            dependencies: dependencies + [.product(name: "Benchmark", package: "package-benchmark")],
            path: "Tests/Benchmarks/\(name)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")])
    }
    package.targets += [
        benchmark("CatalogBenchmarks", ["Catalog", "Registry", "Gossip"]),
        benchmark("GossipBenchmarks", ["Gossip", "CSodium"]),
        benchmark("RegistryBenchmarks", ["Registry"]),
    ]
}
