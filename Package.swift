// swift-tools-version:6.1
import PackageDescription

import class Foundation.ProcessInfo

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
        // containerd's gRPC API (Catalog/Containerd); generated code is committed.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // SHA-256 on BoringSSL (SHA-NI) for verifying bytes fetched from peers.
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
            ],
            exclude: ["Containerd/Protos"]
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
        .testTarget(name: "GossipTests", dependencies: ["Gossip"]),
        // Helpers for tests that drive real processes (containerd, docker-registry, skopeo).
        .target(
            name: "TestSupport",
            dependencies: [
                "Catalog",
                .product(name: "Logging", package: "swift-log"),
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
        .testTarget(name: "RegistryTests", dependencies: ["Registry"]),
        // The executable's own decisions (@testable import gossip_mirror): configuration
        // sources and option wiring, status access, logging, build info, metrics text.
        .testTarget(
            name: "GossipMirrorTests",
            dependencies: [
                "gossip-mirror", "Registry", "Gossip", "Catalog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(name: "EndToEndTests", dependencies: ["Gossip", "Catalog", "Registry", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// Micro-benchmarks (package-benchmark), declared only when
// GOSSIP_MIRROR_BENCHMARKS=1 so that the normal build and CI never compile
// package-benchmark: `scripts/bench/micro.sh` (or `scripts/bench/run.sh`) sets it.
// The benchmark plugin finds executable targets whose folder sits in a folder
// named `Benchmarks`; the top level of the repository is fixed, so theirs is
// `Tests/Benchmarks`. The MallocInterposer trait alone: package-benchmark's
// other default trait needs swift-runtime-interposer, which is not mirrored here.
if ProcessInfo.processInfo.environment["GOSSIP_MIRROR_BENCHMARKS"] == "1" {
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
