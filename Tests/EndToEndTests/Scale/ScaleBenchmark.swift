import Catalog
import Foundation
import Logging
import Registry
import Synchronization
import TestSupport
import Testing

@testable import Gossip

/// The harness side of `scripts/bench/scale.sh`: MEMBERS − 1 lightweight
/// members (`LightCluster`) around one real node that the script starts and
/// measures. Runs only when the script sets GM_SCALE_DIR; the script and the
/// harness talk through files in that directory:
///
///     harness writes   seed            the address the real node joins through
///                      ready           the members have formed one group
///                      stats.txt       traffic with the real node, now and then
///                      probes.txt      seconds until each new digest was locatable
///                                      (`gossip-mirror locate --json` on the real node)
///                      probes.done
///     script writes    news            N: publish N new digests a second (removed: stop)
///                      probe           N: time N new digests, one at a time
///                      stop
@Suite("Scale benchmark", .enabled(if: ProcessInfo.processInfo.environment["GM_SCALE_DIR"] != nil))
struct ScaleBenchmark {
    struct Configuration {
        var directory: URL
        var members: Int
        var digests: Int
        var keyFile: String
        var real: SWIM.Endpoint
        var status: String
        /// The gossip-mirror binary, for `locate --json`.
        var binary: String

        init() throws {
            let env = ProcessInfo.processInfo.environment
            directory = URL(fileURLWithPath: env["GM_SCALE_DIR"]!)
            members = Int(env["GM_SCALE_MEMBERS"] ?? "") ?? 999
            digests = Int(env["GM_SCALE_DIGESTS"] ?? "") ?? 10_000
            keyFile = env["GM_SCALE_KEY_FILE"] ?? ""
            real = try #require(SWIM.Endpoint(parsing: env["GM_SCALE_REAL"] ?? ""))
            status = env["GM_SCALE_STATUS"] ?? "127.0.0.1:9090"
            binary = env["GM_SCALE_BIN"] ?? "gossip-mirror"
        }

        func file(_ name: String) -> URL { directory.appendingPathComponent(name) }
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }
        func read(_ name: String) -> String? { try? String(contentsOf: file(name), encoding: .utf8) }
        func write(_ name: String, _ text: String) throws { try text.write(to: file(name), atomically: true, encoding: .utf8) }
    }

    /// The address of harness member `i`: each on its own loopback address,
    /// as each would be its own host (the node caps streams per address).
    static func endpoint(_ i: Int) -> SWIM.Endpoint { SWIM.Endpoint(host: "127.77.\(i / 250).\(i % 250 + 1)", port: 7946) }

    @Test func thousandMembers() async throws {
        let config = try Configuration()
        var logger = Logger(label: "scale-harness")
        logger.logLevel = .warning
        let keyring = try Keyring([ClusterKey(contentsOfFile: config.keyFile)])
        let cluster = LightCluster(settings: .lan, real: config.real, keyring: keyring, logger: logger)
        let deltas = SharedDeltas()
        let started = ContinuousClock.now
        for i in 0..<config.members {
            await cluster.add(
                endpoint: Self.endpoint(i), summary: LightSummary(digests: config.digests, seed: UInt64(i) &+ 1),
                merge: deltas.merge, seed: UInt64(i) &* 7919 &+ 17)
        }
        print("[scale] \(config.members) members with \(config.digests) digests each built in \(ContinuousClock.now - started)")

        try await withThrowingTaskGroup(of: Void.self) { group in
            let bound = Counter()
            for i in 0..<config.members {
                group.addTask { try await cluster.serve(i) { bound.add() } }
            }
            group.addTask {
                while await !cluster.stopped {
                    await cluster.step()
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            group.addTask {
                defer { Task { await cluster.stop() } }
                try await control(cluster, config, bound: bound)
            }
            try await group.waitForAll()
        }
    }

    /// Waits for the group to form, then does what the script asks until it says stop.
    private func control(_ cluster: LightCluster, _ config: Configuration, bound: Counter) async throws {
        let formed = await poll(timeout: .seconds(900), every: .seconds(1)) {
            guard bound.value >= config.members else { return false }
            return await cluster.formed(expecting: config.members)
        }
        guard formed != nil else {
            Issue.record("the harness members did not form one group within 15 minutes")
            return
        }
        try config.write("seed", "\(Self.endpoint(0))")
        try config.write("ready", "")
        print("[scale] formed; ready")
        var generator = SplitMix64(seed: 42)
        var nextStats = ContinuousClock.now
        var nextNews = ContinuousClock.now
        while !config.exists("stop") {
            if let rate = config.read("news").flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), rate > 0 {
                while nextNews <= ContinuousClock.now {
                    let member = Int(generator.next() % UInt64(config.members))
                    _ = await cluster.addDigest(to: member, seed: generator.next())
                    nextNews += .seconds(1 / rate)
                }
            } else {
                nextNews = ContinuousClock.now
            }
            if let text = config.read("probe"), !config.exists("probes.done"),
                let count = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                var seconds: [Double] = []
                for _ in 0..<count {
                    seconds.append(try await probe(cluster, config, &generator))
                    try await Task.sleep(for: .seconds(1))
                }
                try config.write("probes.txt", seconds.map { String(format: "%.3f", $0) }.joined(separator: "\n") + "\n")
                try config.write("probes.done", "")
            }
            if ContinuousClock.now >= nextStats {
                let t = await cluster.traffic
                try config.write(
                    "stats.txt",
                    "to the real node \(t.datagramsSent) datagrams (\(t.datagramBytesSent) B) and \(t.streamsOpened) streams; "
                        + "from it \(t.datagramsReceived) datagrams (\(t.datagramBytesReceived) B) and \(t.streamsServed) streams; "
                        + "stream bytes sent \(t.streamBytesSent), received \(t.streamBytesReceived); rejected \(t.rejected), "
                        + "failed streams \(t.streamsFailed)\n")
                nextStats = ContinuousClock.now + .seconds(10)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// One new digest on a random member; seconds until the real node's
    /// `gossip-mirror locate --json` names that member as a holder (30 s at
    /// most, then infinity). The command is what an operator runs; its own
    /// start (tens of milliseconds) is inside the figure.
    private func probe(_ cluster: LightCluster, _ config: Configuration, _ generator: inout SplitMix64) async throws -> Double {
        let member = Int(generator.next() % UInt64(config.members))
        let name = await cluster.name(of: member)
        let digest = await cluster.addDigest(to: member, seed: generator.next())
        let command = [config.binary, "locate", "\(digest)", "--status-addr", config.status, "--json"]
        let waited = await poll(timeout: .seconds(30), every: .milliseconds(20)) {
            guard let output = try? await Subprocess.run(command, deadline: .seconds(5), check: false), output.succeeded,
                let report = try? JSONDecoder().decode(LocateReport.self, from: Data(output.stdout.utf8))
            else { return false }
            return report.holders.contains(name)
        }
        return waited?.seconds ?? .infinity
    }
}

/// Members whose sockets are bound.
final class Counter: Sendable {
    private let count = Mutex<Int>(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
