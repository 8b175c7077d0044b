import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// A small cluster on this machine, built for one scenario and torn down after
/// it whatever happens: hosts in network namespaces on a bridge, each with a
/// real containerd and a gossip-mirror node, and one docker-registry upstream
/// on the bridge (see `ClusterNetwork`, `ClusterHost`, `UpstreamRegistry`).
///
///     try await Cluster.run("name", hosts: 3) { cluster in
///         let ref = try await cluster.push(cluster.image("app", layerSizes: [...]), as: "e2e/app")
///         try await cluster.pull(ref, on: cluster[1])
///         cluster.check(..., "what should hold")
///     }
///
/// Assertions go through `check`/`require` so the cluster knows a scenario
/// failed: it then prints the logs of every node (gossip-mirror, ctr,
/// containerd) and of the upstream before tearing down.
final class Cluster: @unchecked Sendable {
    // @unchecked: `hosts`, `failed` and `notes` are guarded by `lock`.
    let title: String
    let ledger: ClusterLedger
    let network: ClusterNetwork
    let upstream: UpstreamRegistry
    /// The cluster key every host starts with (in both of its key files).
    let key: ClusterKey
    private let lock = NSLock()
    private var _hosts: [ClusterHost] = []
    private var failed = false
    private var notes: [String] = []
    let started: ContinuousClock.Instant

    var directory: String { ledger.directory }
    var hosts: [ClusterHost] { lock.withLock { _hosts } }
    /// Host `n`, counting from 1 as the names do.
    subscript(_ n: Int) -> ClusterHost { hosts[n - 1] }

    private init(
        title: String, ledger: ClusterLedger, network: ClusterNetwork, upstream: UpstreamRegistry, key: ClusterKey,
        started: ContinuousClock.Instant
    ) {
        self.title = title
        self.started = started
        self.ledger = ledger
        self.network = network
        self.upstream = upstream
        self.key = key
    }

    /// What every cluster needs on the machine (and root, for namespaces);
    /// a suite adds the clients it drives.
    static let tools = TestEnvironment.containerdTools + TestEnvironment.registryTools + ["ip", "nft", "tc", "curl", "openssl"]

    // MARK: Life cycle

    /// Builds a cluster of `hosts` hosts that all see each other alive, runs
    /// `body`, and always tears everything down; on any failure (a thrown
    /// error or a failed `check`) it prints the logs of the nodes first.
    static func run(_ title: String, hosts count: Int, _ body: (Cluster) async throws -> Void) async throws {
        let started = ContinuousClock.now
        await ClusterLedger.sweepStale()
        let ledger = try ClusterLedger()
        var cluster: Cluster?
        do {
            let network = try await ClusterNetwork.create(ledger: ledger)
            let upstream = try await UpstreamRegistry(network: network, ledger: ledger)
            let made = Cluster(
                title: title, ledger: ledger, network: network, upstream: upstream, key: ClusterKey.generate(), started: started)
            cluster = made
            for _ in 0..<count { try await made.addHost() }
            let names = Set(made.hosts.map(\.name))
            let formed = await made.converged(made.hosts, names: names, timeout: .seconds(30))
            try made.require(formed != nil, "the \(count) hosts did not all see each other alive within 30 s")
            made.note("cluster of \(count) formed in \(formed!.short) on \(network.subnet).0/24")
            try await body(made)
        } catch {
            if let cluster {
                cluster.markFailed()
                if !(error is RequirementFailed) { Issue.record(error) }
            } else {
                Issue.record(error)
            }
        }
        if let cluster {
            cluster.finish()
        }
        await ledger.tearDown()
    }

    /// Adds a host: namespace, containerd, hosts.toml, gossip-mirror. By
    /// default it holds the cluster key in `primary.key` and `next.key` (the
    /// second path is where key rotation installs the next key) and joins
    /// host-1 (host-1 itself joins nobody). `resolveTags: false` writes
    /// hosts.toml with `configure-containerd --no-resolve-tags`;
    /// `mirrorArguments` are added to `gossip-mirror run`.
    @discardableResult
    func addHost(
        keys: [ClusterKey]? = nil, resolveTags: Bool = true, join: [String]? = nil, mirrorArguments: [String] = []
    ) async throws -> ClusterHost {
        let index = hosts.count + 1
        try await network.addHost(index, ledger: ledger)
        let host = try ClusterHost(index: index, network: network, ledger: ledger)
        lock.withLock { _hosts.append(host) }
        try await host.startContainerd()
        try await host.configureContainerd(upstream: upstream, resolveTags: resolveTags)
        let keyDirectory = host.directory + "/keys"
        try FileManager.default.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true)
        var files: [String] = []
        for (i, k) in (keys ?? [key, key]).enumerated() {
            let path = keyDirectory + "/" + (i == 0 ? "primary.key" : i == 1 ? "next.key" : "key-\(i).key")
            try Self.write(k, to: path)
            files.append(path)
        }
        let seeds = join ?? (index == 1 ? [] : ["\(network.address(1)):7946"])
        try await host.startMirror(keyFiles: files, join: seeds, extra: mirrorArguments)
        return host
    }

    static func write(_ key: ClusterKey, to path: String) throws {
        try (key.base64 + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func markFailed() { lock.withLock { failed = true } }

    private func finish() {
        let (failed, notes) = lock.withLock { (self.failed, self.notes) }
        let wall = ContinuousClock.now - started
        print("cluster[\(title)]: \(failed ? "FAILED" : "passed") in \(wall.short)")
        for note in notes { print("cluster[\(title)]:   \(note)") }
        // GM_CLUSTER_LOG_DIR=DIR keeps every scenario's logs (e.g. as CI artifacts).
        if let keep = ProcessInfo.processInfo.environment["GM_CLUSTER_LOG_DIR"], !keep.isEmpty {
            let target = "\(keep)/\(title.replacingOccurrences(of: " ", with: "-"))"
            try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            for host in hosts {
                for path in [host.mirrorLogPath, host.ctrLogPath, host.containerdLogPath] {
                    let name = "\(host.name)-" + (path as NSString).lastPathComponent
                    try? FileManager.default.removeItem(atPath: "\(target)/\(name)")
                    try? FileManager.default.copyItem(atPath: path, toPath: "\(target)/\(name)")
                }
            }
            try? FileManager.default.removeItem(atPath: "\(target)/upstream-registry.log")
            try? FileManager.default.copyItem(atPath: upstream.logPath, toPath: "\(target)/upstream-registry.log")
        }
        if failed {
            print("cluster[\(title)]: logs of the nodes involved")
            for host in hosts { print(host.logs()) }
            print("======== upstream docker-registry (\(upstream.logPath)), last 30 lines\n\(upstream.logTail(lines: 30))")
        }
    }

    // MARK: Assertions

    /// Records a failed expectation (and remembers to print the nodes' logs).
    func check(_ condition: Bool, _ comment: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard !condition else { return }
        markFailed()
        Issue.record(Comment(rawValue: comment()), sourceLocation: sourceLocation)
    }

    struct RequirementFailed: Error {}

    /// Like `check`, and ends the scenario when the condition does not hold.
    func require(_ condition: Bool, _ comment: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard !condition else { return }
        check(false, comment(), sourceLocation: sourceLocation)
        throw RequirementFailed()
    }

    /// A line for the scenario's summary (printed whether it passes or not).
    func note(_ text: String) {
        lock.withLock { notes.append("[\((ContinuousClock.now - started).short)] \(text)") }
    }

    // MARK: Images

    /// A test image written by `TestImageBuilder` into the cluster's directory.
    func image(_ name: String, layerSizes: [Int], multiPlatform: Bool = true, tag: String = "v1") async throws -> TestImage {
        let builder = TestImageBuilder(layerSizes: layerSizes, platforms: multiPlatform ? [.amd64, .arm64] : nil)
        return try await builder.write(to: "\(directory)/images/\(name)-\(UUID().uuidString.prefix(6))", tag: tag)
    }

    /// Pushes `image` to the upstream as `repository:tag`; returns the reference.
    @discardableResult
    func push(_ image: TestImage, as repository: String, tag: String? = nil) async throws -> String {
        try await upstream.push(image, repository: repository, tag: tag)
    }

    /// Pulls `reference` on `host` through its mirror; notes how long it took
    /// and how the host's mirror answered.
    @discardableResult
    func pull(_ reference: String, on host: ClusterHost, deadline: Duration = .seconds(90), label: String = "")
        async throws -> Duration
    {
        let before = await host.status()?.counts ?? .init()
        let took = try await host.pull(reference, deadline: deadline)
        let after = await host.status()?.counts ?? .init()
        let peer = after.requests("peer") - before.requests("peer")
        let local = after.requests("local") - before.requests("local")
        let miss = after.requests("miss") - before.requests("miss")
        let bytes = after.peerBytes - before.peerBytes
        note(
            "\(host.name) pulled \(reference.split(separator: "/").last ?? "")\(label.isEmpty ? "" : " (\(label))") in \(took.short): "
                + "mirror answered peer \(peer) (\(bytes.megabytes)), local \(local), miss \(miss)")
        return took
    }

    // MARK: Membership

    /// Waits until every host of `hosts` sees exactly `names` alive (one view);
    /// returns how long that took, nil on timeout.
    func converged(_ hosts: [ClusterHost], names: Set<String>, timeout: Duration) async -> Duration? {
        await poll(timeout: timeout, every: .milliseconds(100)) {
            for host in hosts {
                guard let status = await host.status(), status.alive == names else { return false }
            }
            return true
        }
    }

    /// Waits until `host` believes `holder` holds `reference`.
    func waitForHolder(_ host: ClusterHost, _ reference: String, holder: String, timeout: Duration = .seconds(20)) async -> Bool {
        await poll(timeout: timeout, every: .milliseconds(100)) {
            await host.locate(reference)?.holders.contains(holder) == true
        } != nil
    }

    // MARK: Network faults

    /// Drops every packet from `hosts` to the upstream (an nft rule in each host's namespace).
    func blockUpstream(_ hosts: [ClusterHost]? = nil) async throws {
        for host in hosts ?? self.hosts {
            try await network.nft(
                in: host.index,
                """
                table inet gm_upstream {
                  chain output {
                    type filter hook output priority 0; policy accept;
                    ip daddr \(network.gateway) tcp dport 5000 counter drop
                  }
                }
                """, scratch: directory)
        }
        note("upstream blocked (nft drop) for \((hosts ?? self.hosts).map(\.name).joined(separator: ", "))")
    }

    func unblockUpstream(_ hosts: [ClusterHost]? = nil) async throws {
        for host in hosts ?? self.hosts { try await network.deleteTable(in: host.index, "gm_upstream") }
    }

    /// Packets to the upstream that `host`'s drop rule caught.
    func upstreamDrops(_ host: ClusterHost) async -> Int {
        guard let output = try? await network.run(in: host.index, ["nft", "list", "table", "inet", "gm_upstream"], check: false)
        else { return 0 }
        // "... counter packets N bytes M drop"
        let words = output.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let i = words.firstIndex(of: "packets"), i + 1 < words.count else { return 0 }
        return Int(words[i + 1]) ?? 0
    }

    /// Splits the hosts into sides that cannot reach each other: every host
    /// drops what arrives from the other sides (an nft input rule in its
    /// namespace), so packets are lost on the way, both ways, as in a real
    /// split. Input, not output: an output drop makes `sendmsg` fail with
    /// EPERM in the sender, which is a different fault (a local firewall).
    func partition(_ sides: [[ClusterHost]]) async throws {
        for side in sides {
            let others = sides.filter { $0.map(\.index) != side.map(\.index) }.flatMap { $0 }.map(\.address)
            let set = "{ " + others.joined(separator: ", ") + " }"
            for host in side {
                try await network.nft(
                    in: host.index,
                    """
                    table inet gm_partition {
                      chain input {
                        type filter hook input priority 0; policy accept;
                        ip saddr \(set) drop
                      }
                    }
                    """, scratch: directory)
            }
        }
        note("partitioned: " + sides.map { $0.map(\.name).joined(separator: ", ") }.joined(separator: " | "))
    }

    /// A local firewall on `host` against `peer`'s gossip port: an nft
    /// output drop, so that `sendto(2)` fails with EPERM in `host`.
    func blockGossip(from host: ClusterHost, to peer: ClusterHost) async throws {
        try await network.nft(
            in: host.index,
            """
            table inet gm_local_firewall {
              chain output {
                type filter hook output priority 0; policy accept;
                ip daddr \(peer.address) udp dport 7946 drop
              }
            }
            """, scratch: directory)
        note("\(host.name) drops its own gossip datagrams to \(peer.name)")
    }

    func heal() async throws {
        for host in hosts { try await network.deleteTable(in: host.index, "gm_partition") }
        note("partition healed")
    }

    /// Limits what `host` sends (tc tbf on its eth0).
    func shape(_ host: ClusterHost, rate: String) async throws {
        try await network.run(
            in: host.index, ["tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", rate, "burst", "32kb", "latency", "200ms"])
    }

    func unshape(_ host: ClusterHost) async throws {
        try await network.run(in: host.index, ["tc", "qdisc", "del", "dev", "eth0", "root"], check: false)
    }

    /// `curl` inside `host`'s namespace.
    func curl(on host: ClusterHost, _ arguments: [String]) async throws -> Subprocess.Output {
        try await network.run(in: host.index, ["curl", "-s", "--max-time", "10"] + arguments, check: false)
    }
}

extension Duration {
    /// "1.23 s" / "45 ms".
    var short: String {
        let ms = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        return ms < 1000 ? String(format: "%.0f ms", ms) : String(format: "%.2f s", ms / 1000)
    }
}

extension Int64 {
    var megabytes: String { String(format: "%.1f MB", Double(self) / 1_000_000) }
}
