import Foundation
import Gossip
import Registry
import TestSupport

/// One host of a cluster: a network namespace with a real containerd (its own
/// root, state and socket), `hosts.toml` written by `gossip-mirror
/// configure-containerd`, and a `gossip-mirror run` node reading that
/// containerd. `ctr` runs in the namespace too: in containerd 1.6 the client
/// does the fetching, so a pull's traffic leaves from this host's address.
final class ClusterHost: @unchecked Sendable {
    // @unchecked: `containerd`/`mirror` are replaced only by start/kill calls,
    // which a scenario makes in sequence; `lock` guards the ctr log.
    let index: Int
    let name: String
    let namespace: String
    let address: String
    let directory: String
    let network: ClusterNetwork
    /// The key files the node was started with (first seals, all open).
    private(set) var keyFiles: [String] = []
    private(set) var containerd: RunningProcess?
    private(set) var mirror: RunningProcess?
    private let ledger: ClusterLedger
    private let lock = NSLock()

    var root: String { directory + "/root" }
    var socket: String { directory + "/containerd.sock" }
    var hostsDirectory: String { directory + "/hosts.d" }
    var mirrorLogPath: String { directory + "/gossip-mirror.log" }
    var containerdLogPath: String { directory + "/containerd.log" }
    var ctrLogPath: String { directory + "/ctr.log" }
    var statusAddress: String { "\(address):9090" }

    init(index: Int, network: ClusterNetwork, ledger: ClusterLedger) throws {
        self.index = index
        name = "host-\(index)"
        namespace = network.namespace(index)
        address = network.address(index)
        directory = ledger.directory + "/h\(index)"
        self.network = network
        self.ledger = ledger
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    // MARK: containerd

    func startContainerd() async throws {
        let config = directory + "/containerd.toml"
        try ContainerdProcess.configuration(root: root, state: directory + "/state", socket: socket, snapshotter: "native")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let process = try Subprocess.launch(
            ["ip", "netns", "exec", namespace, "containerd", "--config", config], logPath: containerdLogPath)
        ledger.record(.pid, "\(process.pid)")
        containerd = process
        let socket = self.socket
        try await process.waitUntil("containerd on \(name) to accept connections") { SocketProbes.unixSocketAccepts(socket) }
    }

    /// `gossip-mirror configure-containerd` for the upstream, with the
    /// upstream's CA next to the file it writes (it names it as `ca`).
    @discardableResult
    func configureContainerd(upstream: UpstreamRegistry, resolveTags: Bool = true) async throws -> Subprocess.Output {
        let registryDirectory = "\(hostsDirectory)/\(upstream.address)"
        try FileManager.default.createDirectory(atPath: registryDirectory, withIntermediateDirectories: true)
        let ca = registryDirectory + "/upstream-ca.crt"
        if !FileManager.default.fileExists(atPath: ca) { try FileManager.default.copyItem(atPath: upstream.caCertificate, toPath: ca) }
        return try await Subprocess.run(
            [
                MirrorProcess.binary, "configure-containerd", "--hosts-dir", hostsDirectory, "--registry", upstream.address,
                "--mirror-url", "http://127.0.0.1:5000",
            ] + (resolveTags ? [] : ["--no-resolve-tags"]), environment: MirrorProcess.environment)
    }

    var hostsToml: String {
        (try? FileManager.default.contentsOfDirectory(atPath: hostsDirectory))?.compactMap {
            try? String(contentsOfFile: "\(hostsDirectory)/\($0)/hosts.toml", encoding: .utf8)
        }.joined(separator: "\n") ?? ""
    }

    // MARK: gossip-mirror

    /// Starts `gossip-mirror run` in the namespace with the configuration the
    /// demo uses too (`scripts/cluster/templates/gossip-mirror.yaml`): gossip
    /// on ADDRESS:7946, the registry on 0.0.0.0:5000, status on 0.0.0.0:9090
    /// (the test reads it at ADDRESS:9090 from the bridge's address, a trusted
    /// network); key files, seeds and `extra` as flags.
    func startMirror(keyFiles: [String], join: [String], extra: [String] = []) async throws {
        self.keyFiles = keyFiles
        let config = directory + "/gossip-mirror.yaml"
        try DaemonTemplates.render(
            "gossip-mirror.yaml",
            [
                "NAME": name, "ADDRESS": address, "GATEWAY": network.gateway, "SOCKET": socket, "ROOT": root,
                "DIR": directory,
            ]
        ).write(toFile: config, atomically: true, encoding: .utf8)
        var arguments = ["ip", "netns", "exec", namespace, MirrorProcess.binary, "run", "--config", config]
        for key in keyFiles { arguments += ["--key-file", key] }
        for seed in join { arguments += ["--join", seed] }
        let process = try Subprocess.launch(arguments + extra, logPath: mirrorLogPath, environment: MirrorProcess.environment)
        ledger.record(.pid, "\(process.pid)")
        mirror = process
        try await process.waitUntil("gossip-mirror on \(name) to answer /status.json", every: .milliseconds(100)) {
            await self.status() != nil
        }
    }

    /// SIGKILL, as a crash or an OOM kill would.
    func killMirror() async {
        await mirror?.kill9()
    }

    func signalMirror(_ signal: Int32) {
        if let pid = mirror?.pid { kill(pid, signal) }
    }

    func mirrorLogContains(_ text: String) -> Bool {
        (try? String(contentsOfFile: mirrorLogPath, encoding: .utf8))?.contains(text) ?? false
    }

    func status() async -> ClusterStatus? {
        await StatusSnapshot.fetch(from: statusAddress)
    }

    func locate(_ reference: String) async -> LocateReport? {
        await LocateReport.fetch(reference, from: statusAddress)
    }

    // MARK: ctr

    /// `ctr -a SOCKET -n k8s.io ARGS` in the namespace; the command and its
    /// output are appended to the host's ctr log.
    @discardableResult
    func ctr(_ arguments: [String], deadline: Duration = .seconds(90)) async throws -> Subprocess.Output {
        let command = ["ctr", "-a", socket, "-n", "k8s.io"] + arguments
        let output: Subprocess.Output
        do {
            output = try await network.run(in: index, command, deadline: deadline, check: false)
        } catch let failure as Subprocess.Failure {
            appendCtrLog(command, failure.output, note: failure.reason)
            throw failure
        }
        appendCtrLog(command, output, note: "exit \(output.status)")
        return output
    }

    private func appendCtrLog(_ command: [String], _ output: Subprocess.Output?, note: String) {
        let text = "$ \(command.joined(separator: " "))  (\(note))\n\(output?.stdout.suffix(2000) ?? "")\(output?.stderr.suffix(4000) ?? "")\n"
        lock.withLock {
            if !FileManager.default.fileExists(atPath: ctrLogPath) { _ = FileManager.default.createFile(atPath: ctrLogPath, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: ctrLogPath) else { return }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data(text.utf8))
            try? handle.close()
        }
    }

    /// A pull that failed: ctr's output says why.
    struct PullFailed: Error, CustomStringConvertible {
        var host: String
        var reference: String
        var output: Subprocess.Output
        var description: String { "pull of \(reference) on \(host) failed (exit \(output.status)):\n\(output.stderr.suffix(3000))" }
    }

    /// `ctr images pull` of `reference` (this machine's platform, unpacked with
    /// the native snapshotter) through the host's mirror; returns how long it took.
    @discardableResult
    func pull(_ reference: String, deadline: Duration = .seconds(90)) async throws -> Duration {
        let started = ContinuousClock.now
        let output = try await ctr(
            ["images", "pull", "--snapshotter", "native", "--hosts-dir", hostsDirectory, reference], deadline: deadline)
        guard output.succeeded else { throw PullFailed(host: name, reference: reference, output: output) }
        return ContinuousClock.now - started
    }

    /// The digest containerd records for image `reference`, or nil.
    func imageDigest(_ reference: String) async throws -> String? {
        let output = try await ctr(["images", "ls"])
        for line in output.stdout.split(separator: "\n") {
            let columns = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if columns.count > 2, columns[0] == reference { return String(columns[2]) }
        }
        return nil
    }

    // MARK: logs

    func logs(lines: Int = 80) -> String {
        func tail(_ path: String, _ count: Int) -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(none)" }
            return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
        }
        return """
            ======== \(name) (\(address), namespace \(namespace))
            -------- gossip-mirror (\(mirrorLogPath)), last \(lines) lines
            \(tail(mirrorLogPath, lines))
            -------- ctr commands (\(ctrLogPath)), last 60 lines
            \(tail(ctrLogPath, 60))
            -------- containerd (\(containerdLogPath)), last 20 lines
            \(tail(containerdLogPath, 20))
            """
    }
}

/// The parts of `/status.json` the scenarios read (the process tests' type).
typealias ClusterStatus = StatusSnapshot

/// `registry` in `/status.json`.
typealias RegistryCounts = RegistryMetrics.Counts
