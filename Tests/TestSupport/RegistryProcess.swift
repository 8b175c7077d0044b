import Foundation

/// A real upstream registry for tests: `docker-registry serve CONFIG`
/// (distribution 2.8) on a free port of 127.0.0.1 (or another local IPv4
/// address), plain HTTP, with its own storage in a temporary directory. Push
/// test images into it with `push`.
public final class RegistryProcess: Sendable {
    public let address: String
    public let port: Int
    /// `ADDRESS:PORT`, the registry host in image references.
    public var host: String { "\(address):\(port)" }
    public let directory: ScratchDirectory
    public let process: RunningProcess

    private init(address: String, port: Int, directory: ScratchDirectory, process: RunningProcess) {
        self.address = address
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// Starts a registry on `address` (an IPv4 address of this host) and
    /// waits until `GET /v2/` answers.
    public static func start(address: String = "127.0.0.1", deadline: Duration = .seconds(30)) async throws -> RegistryProcess {
        let directory = try ScratchDirectory("gm-registry")
        var lastError: (any Error)?
        // A port found free may be taken before the registry binds it: try again.
        for _ in 0..<3 {
            let port = try SocketProbes.freeLoopbackPort()
            let config = directory.appending("config-\(port).yml")
            try configuration(storage: directory.appending("storage"), address: address, port: port)
                .write(toFile: config, atomically: true, encoding: .utf8)
            let process = try Subprocess.launch(
                ["docker-registry", "serve", config], logPath: directory.appending("registry.log"))
            let registry = RegistryProcess(address: address, port: port, directory: directory, process: process)
            do {
                try await process.waitUntil("docker-registry to answer GET /v2/ on \(registry.host)", within: deadline) {
                    SocketProbes.httpStatus(address: address, port: port, path: "/v2/") == 200
                }
                return registry
            } catch {
                lastError = error
                await process.stop(grace: .seconds(2))
            }
        }
        directory.remove()
        throw lastError!
    }

    /// Runs `body` with a started registry and always stops it; prints the
    /// registry's log when `body` throws.
    public static func with<Result: Sendable>(
        address: String = "127.0.0.1", _ body: (RegistryProcess) async throws -> Result
    ) async throws -> Result {
        let registry = try await start(address: address)
        do {
            let result = try await body(registry)
            await registry.stop()
            return result
        } catch {
            print("--- docker-registry log (\(registry.process.logPath)):\n\(registry.process.logTail())")
            await registry.stop()
            throw error
        }
    }

    /// Copies the image tagged `tag` in an OCI layout into `REPOSITORY:TAG` here
    /// (every platform of an index, digests unchanged), and returns the reference
    /// `127.0.0.1:PORT/REPOSITORY:TAG`.
    @discardableResult
    public func push(layoutDirectory: String, tag: String, repository: String) async throws -> String {
        let reference = "\(host)/\(repository):\(tag)"
        try await Subprocess.run([
            "skopeo", "--insecure-policy", "copy", "--all", "--preserve-digests",
            "--dest-tls-verify=false", "--quiet",
            "oci:\(layoutDirectory):\(tag)", "docker://\(reference)",
        ])
        return reference
    }

    /// Pushes a `TestImage` (see `push(layoutDirectory:tag:repository:)`).
    @discardableResult
    public func push(_ image: TestImage, repository: String) async throws -> String {
        try await push(layoutDirectory: image.layoutDirectory, tag: image.tag, repository: repository)
    }

    /// The registry's log so far (the last `lines` lines).
    public func logTail(lines: Int = 60) -> String {
        process.logTail(lines: lines)
    }

    /// Stops the registry and removes its storage.
    public func stop() async {
        await process.stop()
        directory.remove()
    }

    /// A docker-registry config, from the template the demo uses too
    /// (`DaemonTemplates`): filesystem storage under `storage`, listening on
    /// `address:port`, with TLS when `tls` names a certificate and key.
    public static func configuration(
        storage: String, address: String, port: Int, tls: (certificate: String, key: String)? = nil
    ) throws -> String {
        try DaemonTemplates.render(
            "docker-registry.yml",
            ["STORAGE": storage, "ADDRESS": "\(address):\(port)", "CERTIFICATE": tls?.certificate ?? "", "KEY": tls?.key ?? ""]
        ) { tls == nil && $0.hasSuffix("# tls") }
    }
}
