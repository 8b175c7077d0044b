import Benchmark
import Foundation
import Registry

/// Parsing a request path into a route (strict: name grammar, digest or tag),
/// which every registry request does before anything else, beside the least
/// any router does with it (the baseline: splitting the path at `/`).
let benchmarks: @Sendable () -> Void = {
    // `scripts/bench/micro.sh --quick`: a check that everything runs, not a measurement.
    let quick = ProcessInfo.processInfo.environment["BENCH_QUICK"] == "1"
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 10,
        maxDuration: quick ? .milliseconds(200) : .seconds(2), maxIterations: 1_000_000)

    for (label, path) in Paths.all {
        Benchmark("route parse, \(label)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try? RegistryRoute.parse(path: path, namespace: "docker.io"))
            }
        }

        Benchmark("baseline: split the path at '/', \(label)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(path.split(separator: "/", omittingEmptySubsequences: false).count)
            }
        }
    }
}

enum Paths {
    static let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
    static let all: [(String, Substring)] = [
        ("blob by digest", Substring("/v2/library/ubuntu/blobs/\(digest)")),
        ("manifest by tag", Substring("/v2/library/ubuntu/manifests/24.04")),
        ("manifest by digest, deep repository", Substring("/v2/org/team/project/service/manifests/\(digest)")),
    ]
}
