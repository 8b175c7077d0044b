import Foundation
import TestSupport

/// Debian's Docker Engine (dockerd 20.10, classic image store) on a cluster
/// host: its own data root, exec root, socket and pid file under the host's
/// directory, vfs storage, no iptables and no bridge, and `registry-mirrors`
/// in its own `daemon.json`, so the machine's Docker (if any) is neither
/// read nor changed.
///
/// dockerd enters only the host's network namespace (`nsenter --net`):
/// `ip netns exec` also mounts a fresh /sys, which hides the cgroup
/// hierarchy dockerd refuses to start without.
final class DockerEngine: Sendable {
    /// Debian's client, which matches the daemon (another `docker` may come first on PATH).
    static let client = "/usr/bin/docker"

    let directory: String
    let process: RunningProcess
    var socket: String { directory + "/docker.sock" }

    private init(directory: String, process: RunningProcess) {
        self.directory = directory
        self.process = process
    }

    /// Starts dockerd in `host`'s namespace with `mirrors` as its
    /// `registry-mirrors`, and waits until it answers `docker version`.
    static func start(on host: ClusterHost, mirrors: [String], ledger: ClusterLedger) async throws -> DockerEngine {
        let directory = host.directory + "/docker"
        try FileManager.default.createDirectory(atPath: directory + "/client", withIntermediateDirectories: true)
        let config: [String: Any] = [
            "registry-mirrors": mirrors,
            "data-root": directory + "/data", "exec-root": directory + "/exec", "pidfile": directory + "/docker.pid",
            "hosts": ["unix://\(directory)/docker.sock"],
            "storage-driver": "vfs", "iptables": false, "ip-masq": false, "bridge": "none",
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: directory + "/daemon.json"))
        let process = try Subprocess.launch(
            ["nsenter", "--net=/var/run/netns/\(host.namespace)", "--", "dockerd", "--config-file", directory + "/daemon.json"],
            logPath: directory + "/dockerd.log")
        ledger.record(.pid, "\(process.pid)")
        let engine = DockerEngine(directory: directory, process: process)
        try await process.waitUntil("dockerd on \(host.name) to answer", within: .seconds(60), every: .milliseconds(200)) {
            (try? await engine.docker(["version", "--format", "{{.Server.Version}}"]).succeeded) == true
        }
        return engine
    }

    /// `docker -H unix://SOCKET ARGS` with a client configuration of its own.
    @discardableResult
    func docker(_ arguments: [String], deadline: Duration = .seconds(120)) async throws -> Subprocess.Output {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = directory + "/client"
        return try await Subprocess.run(
            [Self.client, "-H", "unix://\(socket)"] + arguments, environment: environment, deadline: deadline, check: false)
    }

    func stop() async {
        await process.stop(grace: .seconds(15))
    }

    func logTail() -> String { process.logTail(lines: 40) }
}
