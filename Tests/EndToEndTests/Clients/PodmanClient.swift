import Foundation
import TestSupport

/// Debian's Podman as a one-shot client on a cluster host: its own root and
/// run root (vfs), its own main `registries.conf` (`CONTAINERS_REGISTRIES_CONF`)
/// and its own HOME, whose `.config/containers/registries.conf.d` is the
/// per-user drop-in directory containers/image reads after the system one.
/// The machine's configuration is neither read for mirrors nor changed.
struct PodmanClient: Sendable {
    let directory: String
    let host: ClusterHost

    var home: String { directory + "/home" }
    /// Where `gossip-mirror configure-containers --registries-dir` writes.
    var dropInDirectory: String { home + "/.config/containers/registries.conf.d" }
    var mainConfig: String { directory + "/registries.conf" }

    init(on host: ClusterHost) throws {
        self.host = host
        directory = host.directory + "/podman"
        try FileManager.default.createDirectory(atPath: dropInDirectory, withIntermediateDirectories: true)
        // No search registries: every test pulls a fully qualified name.
        try "unqualified-search-registries = []\n".write(toFile: mainConfig, atomically: true, encoding: .utf8)
    }

    @discardableResult
    func podman(_ arguments: [String], deadline: Duration = .seconds(120)) async throws -> Subprocess.Output {
        try await host.network.run(
            in: host.index,
            [
                "env", "HOME=\(home)", "CONTAINERS_REGISTRIES_CONF=\(mainConfig)", "podman", "--root", directory + "/root",
                "--runroot", directory + "/run", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file", "--tmpdir", directory + "/tmp",
            ] + arguments, deadline: deadline, check: false)
    }
}
