import Foundation
import TestSupport

/// The cluster's upstream: `docker-registry serve` (distribution 2.8) bound to
/// the bridge's address, so every host reaches it across the network, with
/// TLS from a CA of its own (as real upstreams have).
///
/// TLS, not plain HTTP, because that is the common case and it exercises
/// more: `configure-containerd` writes `server = "https://<registry>"`, and
/// containerd trusts the CA because the CA file lies in the registry's
/// hosts.toml directory, where `configure-containerd` finds and names it
/// (`ca = [...]`). A plain-HTTP upstream (`--plain-http-registry`) is covered
/// by `PeerRoutingProcessTests.configureContainerdReachesAPlainHTTPUpstream`.
final class UpstreamRegistry: @unchecked Sendable {
    // @unchecked: `process` is replaced only by start/stop, which tests call in sequence.
    let address: String
    let directory: String
    /// The CA's certificate, alone in a folder (skopeo's `--dest-cert-dir`).
    let trustDirectory: String
    var caCertificate: String { directory + "/ca.crt" }
    var logPath: String { directory + "/registry.log" }
    private let ledger: ClusterLedger
    private var process: RunningProcess?

    init(network: ClusterNetwork, ledger: ClusterLedger) async throws {
        let port = 5000
        address = "\(network.gateway):\(port)"
        directory = ledger.directory + "/upstream"
        trustDirectory = directory + "/trust"
        self.ledger = ledger
        try FileManager.default.createDirectory(atPath: trustDirectory, withIntermediateDirectories: true)
        try await makeCertificates(ip: network.gateway)
        try RegistryProcess.configuration(
            storage: directory + "/storage", address: network.gateway, port: port,
            tls: (certificate: directory + "/server.crt", key: directory + "/server.key")
        ).write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        try await start()
    }

    /// The CA and server certificate, made by the script the demo uses too.
    private func makeCertificates(ip: String) async throws {
        try await Subprocess.run([Repository.root + "/scripts/cluster/make-certificates.sh", directory, ip])
    }

    /// Starts the registry (again, after `stop`: same storage) and waits until it answers.
    func start() async throws {
        let process = try Subprocess.launch(["docker-registry", "serve", directory + "/config.yml"], logPath: logPath)
        ledger.record(.pid, "\(process.pid)")
        self.process = process
        let url = "https://\(address)/v2/"
        try await process.waitUntil("docker-registry to answer \(url)", every: .milliseconds(100)) {
            let probe = try await Subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "--cacert", caCertificate, url],
                deadline: .seconds(5), check: false)
            return probe.stdout == "200"
        }
    }

    func stop() async {
        await process?.stop(grace: .seconds(5))
        process = nil
    }

    /// Copies an OCI layout's tag here as `REPOSITORY:TAG` (every platform,
    /// digests kept); returns the reference `SUBNET.1:5000/REPOSITORY:TAG`.
    @discardableResult
    func push(_ image: TestImage, repository: String, tag: String? = nil) async throws -> String {
        let reference = "\(address)/\(repository):\(tag ?? image.tag)"
        try await Subprocess.run([
            "skopeo", "--insecure-policy", "copy", "--all", "--preserve-digests", "--quiet",
            "--dest-cert-dir", trustDirectory, "oci:\(image.layoutDirectory):\(image.tag)", "docker://\(reference)",
        ])
        return reference
    }

    /// GETs of manifests and blobs the registry has answered so far (from its
    /// access log); `matching` narrows them to paths containing a string.
    func pullRequests(matching: String? = nil) -> Int {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { line in
            guard line.contains("\"GET /v2/"), line.contains("/blobs/") || line.contains("/manifests/") else { return false }
            return matching.map { line.contains($0) } ?? true
        }.count
    }

    func logTail(lines: Int = 40) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
