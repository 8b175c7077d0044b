import Foundation

/// A real containerd 1.6 for tests: `containerd --config CONFIG` with its own
/// root, state and sockets in a temporary directory, so it never touches the
/// machine's `/var/lib/containerd` or `/run/containerd`.
///
/// Only the plugins an image store needs run: the CRI plugin, the runtimes and
/// tasks, and the snapshotters that need kernel support are disabled. Images are
/// unpacked with the `native` snapshotter (plain copies), which works anywhere.
/// Drive it with `ctr` (`pull`, `remove`, `ctr(_:)`), and `stop`/`start`/`restart`
/// it to test what a daemon restart does to a client.
public final class ContainerdProcess: @unchecked Sendable {
    // @unchecked: `current` is guarded by `lock`; everything else is immutable.
    public let directory: ScratchDirectory
    /// containerd's root: blobs are under `<root>/io.containerd.content.v1.content/blobs/sha256`.
    public let root: String
    public let state: String
    /// The gRPC socket.
    public let socketPath: String
    /// The namespace `pull`, `remove` and `ctr` use.
    public let namespace: String
    public let snapshotter: String
    public let configPath: String
    public let logPath: String

    private let lock = NSLock()
    private var current: RunningProcess?

    /// Plugins that would need a kubelet, a runtime, kernel modules or /opt
    /// (the list in `scripts/cluster/templates/containerd.toml`).
    public static var disabledPlugins: [String] { (try? DaemonTemplates.containerdDisabledPlugins()) ?? [] }

    /// What running containers needs on top (runc through the v2 shim): only
    /// for tests that `ctr run` an image.
    public static let containerPlugins: Set<String> = [
        "io.containerd.runtime.v2.task", "io.containerd.monitor.v1.cgroups", "io.containerd.service.v1.tasks-service",
        "io.containerd.grpc.v1.tasks",
        // The tasks service of 1.6 will not load without a v1 runtime registered.
        "io.containerd.runtime.v1.linux",
    ]

    private init(directory: ScratchDirectory, namespace: String, snapshotter: String, extraConfig: String, runsContainers: Bool) throws {
        self.directory = directory
        self.namespace = namespace
        self.snapshotter = snapshotter
        root = directory.appending("root")
        state = directory.appending("state")
        socketPath = directory.appending("c.sock")
        configPath = directory.appending("config.toml")
        logPath = directory.appending("containerd.log")
        try Self.configuration(
            root: root, state: state, socket: socketPath, snapshotter: snapshotter, extra: extraConfig, runsContainers: runsContainers
        ).write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A containerd config (version 2) for a test instance, from the template
    /// the demo uses too (`DaemonTemplates`): its own root, state and socket,
    /// only the `snapshotter` snapshotter, none of the plugins that need
    /// cgroups or run containers (unless `runsContainers`), and `extra` TOML
    /// appended.
    public static func configuration(
        root: String, state: String, socket: String, snapshotter: String, extra: String = "", runsContainers: Bool = false
    ) throws -> String {
        let enabled: (String) -> Bool = { $0.hasSuffix(".\(snapshotter)") || (runsContainers && containerPlugins.contains($0)) }
        let text = try DaemonTemplates.render("containerd.toml", ["ROOT": root, "STATE": state, "SOCKET": socket]) { line in
            DaemonTemplates.pluginName(line).map(enabled) ?? false
        }
        return text + "\n" + extra + "\n"
    }

    /// Starts containerd and waits until its socket accepts connections.
    /// `extraConfig` is TOML appended to the generated config (e.g. CRI registry settings).
    public static func start(
        namespace: String = "default",
        snapshotter: String = "native",
        extraConfig: String = "",
        runsContainers: Bool = false,
        deadline: Duration = .seconds(30)
    ) async throws -> ContainerdProcess {
        let directory = try ScratchDirectory("gm-ctd")
        do {
            let containerd = try ContainerdProcess(
                directory: directory, namespace: namespace, snapshotter: snapshotter, extraConfig: extraConfig,
                runsContainers: runsContainers)
            try await containerd.start(deadline: deadline)
            return containerd
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Runs `body` with a started containerd and always stops it (and removes its
    /// directory); prints containerd's log when `body` throws.
    public static func with<Result: Sendable>(
        namespace: String = "default",
        snapshotter: String = "native",
        extraConfig: String = "",
        runsContainers: Bool = false,
        _ body: (ContainerdProcess) async throws -> Result
    ) async throws -> Result {
        let containerd = try await start(
            namespace: namespace, snapshotter: snapshotter, extraConfig: extraConfig, runsContainers: runsContainers)
        do {
            let result = try await body(containerd)
            await containerd.cleanUp()
            return result
        } catch {
            print("--- containerd log (\(containerd.logPath)):\n\(containerd.logTail())")
            await containerd.cleanUp()
            throw error
        }
    }

    public var isRunning: Bool {
        lock.withLock { current?.isRunning ?? false }
    }

    private func takeCurrent() -> RunningProcess? {
        lock.withLock {
            defer { current = nil }
            return current
        }
    }

    /// Starts containerd again after `stop()` (same root: images survive).
    public func start(deadline: Duration = .seconds(30)) async throws {
        let process = try Subprocess.launch(["containerd", "--config", configPath], logPath: logPath)
        lock.withLock { current = process }
        let socketPath = self.socketPath
        try await process.waitUntil("containerd to accept connections on \(socketPath)", within: deadline) {
            SocketProbes.unixSocketAccepts(socketPath)
        }
    }

    /// Stops containerd (SIGTERM, then SIGKILL); its root and images stay.
    public func stop() async {
        let process = takeCurrent()
        await process?.stop()
    }

    /// Kills containerd at once (SIGKILL), as a crash would.
    public func kill() async {
        let process = takeCurrent()
        await process?.kill9()
    }

    public func restart() async throws {
        await stop()
        try await start()
    }

    /// Stops containerd and removes its directory.
    public func cleanUp() async {
        await stop()
        directory.remove()
    }

    /// Runs `ctr -a SOCKET -n NAMESPACE ARGS...`.
    @discardableResult
    public func ctr(_ arguments: [String], namespace: String? = nil, deadline: Duration = .seconds(120)) async throws
        -> Subprocess.Output
    {
        try await Subprocess.run(
            ["ctr", "-a", socketPath, "-n", namespace ?? self.namespace] + arguments, deadline: deadline)
    }

    /// `ctr images pull` of `reference` for this machine's platform, unpacked
    /// with the configured snapshotter. `hostsDir` is a folder of
    /// `<registry host>/hosts.toml` files (a mirror); `plainHTTP` talks HTTP to
    /// the registry.
    public func pull(
        _ reference: String,
        hostsDir: String? = nil,
        plainHTTP: Bool = true,
        allPlatforms: Bool = false,
        namespace: String? = nil
    ) async throws {
        var arguments = ["images", "pull", "--snapshotter", snapshotter]
        if let hostsDir { arguments += ["--hosts-dir", hostsDir] }
        if plainHTTP { arguments.append("--plain-http") }
        if allPlatforms { arguments.append("--all-platforms") }
        try await ctr(arguments + [reference], namespace: namespace)
    }

    /// `ctr images rm` (deleting the image record; garbage collection then removes
    /// blobs no other image uses).
    public func remove(_ reference: String, namespace: String? = nil) async throws {
        try await ctr(["images", "rm", reference], namespace: namespace)
    }

    /// The names of the namespace's images (`ctr images ls -q`).
    public func imageNames(namespace: String? = nil) async throws -> [String] {
        try await ctr(["images", "ls", "-q"], namespace: namespace).stdout
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// Where containerd keeps a committed blob.
    public func blobPath(_ hex: String) -> String {
        root + "/io.containerd.content.v1.content/blobs/sha256/" + hex
    }

    /// containerd's log so far (the last `lines` lines).
    public func logTail(lines: Int = 60) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
