import Foundation
import Testing
import TestSupport

/// The deployment files, checked by `scripts/release/check-deploy.py` with
/// the real tools: every kustomize overlay rendered by `kubectl kustomize`
/// and validated against the Kubernetes 1.31 schemas (kubernetes-validate,
/// strict), ports and paths one setting, the optional PodMonitor; every
/// Nomad job parsed as HCL2 and its arguments accepted by `gossip-mirror run
/// --check-config`. The Python packages live in the virtual environment
/// `scripts/install-deps.sh` makes (`GM_PYTHON_TOOLS`, default
/// /opt/gossip-mirror-test-tools).
@Suite struct DeploymentFilesTests {
    static var python: String {
        let tools = ProcessInfo.processInfo.environment["GM_PYTHON_TOOLS"] ?? "/opt/gossip-mirror-test-tools"
        return "\(tools)/bin/python3"
    }

    @Test(
        .enabled(
            if: TestEnvironment.canRun(["kubectl", DeploymentFilesTests.python]),
            "needs kubectl and the Python tools of scripts/install-deps.sh"))
    func everyOverlayAndNomadJobChecksOut() async throws {
        let output = try await Subprocess.run(
            [Self.python, "\(Repository.root)/scripts/release/check-deploy.py", "--binary", MirrorProcess.binary],
            deadline: .seconds(600), check: false)
        #expect(output.succeeded, "\(output.stdout)\n\(output.stderr)")
        let lines = output.stdout.split(separator: "\n")
        for overlay in ["containerd", "containerd2", "k3s", "rke2", "talos"] {
            #expect(lines.contains { $0.hasPrefix("ok kubernetes overlay \(overlay):") && $0.contains("valid for Kubernetes 1.31") })
        }
        #expect(lines.contains { $0.hasPrefix("ok kubernetes overlay") && $0.contains("with the PodMonitor") })
        for job in ["gossip-mirror.nomad.hcl", "gossip-mirror-docker.nomad.hcl"] {
            #expect(lines.contains { $0.hasPrefix("ok nomad job \(job)") }, "\(output.stdout)")
        }
    }

    /// The checker itself fails on a broken file (it is not a rubber stamp):
    /// an unknown field in an overlay's rendering and a flag the binary does
    /// not know in a Nomad job.
    @Test(
        .enabled(
            if: TestEnvironment.canRun(["kubectl", DeploymentFilesTests.python]),
            "needs kubectl and the Python tools of scripts/install-deps.sh"))
    func theCheckerRejectsBrokenFiles() async throws {
        let dir = try ScratchDirectory()
        let root = Repository.root
        try await Subprocess.run(["cp", "-r", "\(root)/deploy", "\(root)/scripts", dir.path])
        let daemonset = "\(dir.path)/deploy/kubernetes/base/daemonset.yaml"
        try (try String(contentsOfFile: daemonset, encoding: .utf8)).replacingOccurrences(of: "hostNetwork: true", with: "hostNetwrk: true")
            .write(toFile: daemonset, atomically: true, encoding: .utf8)
        let broken = try await Subprocess.run(
            [Self.python, "\(dir.path)/scripts/release/check-deploy.py", "--binary", MirrorProcess.binary, "--only", "kubernetes"],
            deadline: .seconds(300), check: false)
        #expect(!broken.succeeded && broken.stdout.contains("hostNetwrk"), "\(broken.stdout)")

        try await Subprocess.run(["cp", "\(root)/deploy/kubernetes/base/daemonset.yaml", daemonset])
        let job = "\(dir.path)/deploy/nomad/gossip-mirror.nomad.hcl"
        try (try String(contentsOfFile: job, encoding: .utf8)).replacingOccurrences(of: "\"--store\", \"containerd\",", with: "\"--stroe\", \"containerd\",")
            .write(toFile: job, atomically: true, encoding: .utf8)
        let badFlag = try await Subprocess.run(
            [Self.python, "\(dir.path)/scripts/release/check-deploy.py", "--binary", MirrorProcess.binary, "--only", "nomad"],
            deadline: .seconds(300), check: false)
        #expect(!badFlag.succeeded && badFlag.stdout.contains("gossip-mirror.nomad.hcl"), "\(badFlag.stdout)")
    }
}
