import Foundation
import Registry
import Testing
import TestSupport

/// The container image, run by a real containerd: imported from the OCI
/// archive with `ctr images import`, started with `ctr run` on the host
/// network with containerd's socket and content directory mounted read-only
/// (as the DaemonSet mounts them), next to a node run from the host binary.
///
/// The archive is `GM_IMAGE_ARCHIVE` (scripts/test.sh builds the release
/// image and sets it); without it the test assembles one with
/// `scripts/release/image.sh` from the binary under test.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(TestEnvironment.containerdTools + ["runc", "python3", "skopeo", "curl", "ldd"], needsRoot: true),
        "needs root, containerd, ctr, runc, python3, skopeo, curl and ldd"))
struct ContainerImageTests {
    /// The image archive to test, and the name it carries.
    static func archive(in dir: ScratchDirectory) async throws -> String {
        if let given = ProcessInfo.processInfo.environment["GM_IMAGE_ARCHIVE"], !given.isEmpty { return given }
        let output = try await Subprocess.run(
            ["\(Repository.root)/scripts/release/image.sh", "--binary", MirrorProcess.binary, "--out", "\(dir.path)/image"],
            deadline: .seconds(300))
        print(output.stdout)
        // "  archive PATH (SIZE bytes)"
        let line = try #require(output.stdout.split(separator: "\n").first { $0.contains("archive ") })
        let words = line.split(separator: " ")
        let path = try #require(words.firstIndex(of: "archive").map { $0 + 1 }.flatMap { words.indices.contains($0) ? words[$0] : nil })
        return String(path)
    }

    @Test func theImageJoinsServesAPeersBlobAndStopsOnSIGTERM() async throws {
        let dir = try ScratchDirectory()
        let archive = try await Self.archive(in: dir)
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let subnet = LoopbackCluster.subnet(12)
        // The host node holds the image; the container holds nothing of it.
        let image = try await TestImageBuilder(layerSizes: [4000, 1_500_000], seed: 77).write(to: "\(dir.path)/image-src", tag: "v1")
        try await LoopbackCluster.serve(image, as: "docker.io/e2e/in-image:v1", at: "\(dir.path)/host-layout")
        let hostNode = try LoopbackCluster.node(
            "host-node", "\(subnet).2", key: key, join: [], layout: "\(dir.path)/host-layout", dir: dir)
        defer { kill(hostNode.pid, SIGKILL) }

        try await ContainerdProcess.with(namespace: "default", runsContainers: true) { containerd in
            let imported = try await containerd.ctr(["images", "import", "--snapshotter", "native", archive], deadline: .seconds(180))
            let name = try #require(
                try await containerd.imageNames().first { $0.hasSuffix("gossip-mirror:\(Repository.version)") },
                "no gossip-mirror image after import: \(imported.stdout) \(imported.stderr)")

            let id = "gm-image-\(UUID().uuidString.prefix(6).lowercased())"
            let content = containerd.root + "/io.containerd.content.v1.content"
            let keyDirectory = (key as NSString).deletingLastPathComponent
            let command = [
                "ctr", "-a", containerd.socketPath, "-n", "default", "run", "--net-host", "--snapshotter", "native", "--read-only",
                "--mount", "type=bind,src=\(containerd.socketPath),dst=/run/containerd/containerd.sock,options=rbind:ro",
                "--mount", "type=bind,src=\(content),dst=/var/lib/containerd/io.containerd.content.v1.content,options=rbind:ro",
                "--mount", "type=bind,src=\(keyDirectory),dst=/etc/gossip-mirror/key,options=rbind:ro",
                name, id,
                "/usr/local/bin/gossip-mirror", "run", "--name", "in-container",
                "--gossip-addr", "\(subnet).1:7946", "--registry-addr", "\(subnet).1:5000", "--status-addr", "\(subnet).1:9090",
                "--key-file", "/etc/gossip-mirror/key/cluster.key", "--join", "\(subnet).2:7946",
                "--store", "containerd", "--containerd-sock", "/run/containerd/containerd.sock", "--containerd-namespace", "default",
                "--containerd-content-root", "/var/lib/containerd/io.containerd.content.v1.content",
            ]
            let container = try Subprocess.launch(command, logPath: "\(dir.path)/container.log")
            func logs() -> String { "--- container\n\(container.logTail())\n--- host node\n\(hostNode.log.suffix(3000))" }
            do {
                // It joins: both see each other alive.
                let status = "http://\(subnet).1:9090/status.json"
                let joined = await poll(timeout: .seconds(30), every: .milliseconds(200)) {
                    guard container.isRunning else { return true }
                    guard let report = await HTTPGet.json(URL(string: status)!, as: StatusSnapshot.self) else { return false }
                    let hostView = await hostNode.status()
                    return report.alive == ["in-container", "host-node"] && hostView?.alive == ["in-container", "host-node"]
                }
                try #require(joined != nil && container.isRunning, "the container did not join\n\(logs())")
                // It read containerd through the read-only socket: its own image is in its catalog
                // (the catalog's first read may finish after the join).
                var catalog: StatusSnapshot.Catalog?
                let read = await poll(timeout: .seconds(30), every: .milliseconds(200)) {
                    catalog = await HTTPGet.json(URL(string: status)!, as: StatusSnapshot.self)?.catalog
                    return catalog?.available == true && (catalog?.blobs ?? 0) >= 3
                }
                #expect(read != nil, "catalog: \(String(describing: catalog))")

                // It serves a blob only the host node holds, relayed and verified.
                let layer = try #require(image.hostImage?.layers[1])
                let located = await poll(timeout: .seconds(15)) {
                    let url = URL(string: "http://\(subnet).1:9090/locate?ref=\(layer.digest)")!
                    return await HTTPGet.json(url, as: LocateReport.self)?.holders.contains("host-node") == true
                }
                try #require(located != nil, "the container never learnt that host-node holds the layer\n\(logs())")
                let fetched = "\(dir.path)/fetched"
                let get = try await Subprocess.run(
                    ["curl", "-s", "-o", fetched, "-w", "%{http_code}", "http://\(subnet).1:5000/v2/e2e/in-image/blobs/\(layer.digest)"])
                #expect(get.stdout == "200")
                let original = try Data(contentsOf: URL(fileURLWithPath: "\(image.layoutDirectory)/blobs/sha256/\(layer.digest.hex)"))
                #expect((try? Data(contentsOf: URL(fileURLWithPath: fetched))) == original, "the relayed blob differs")
                let counts = try #require(await HTTPGet.json(URL(string: status)!, as: StatusSnapshot.self)?.counts)
                #expect(counts.requests("peer") >= 1 && counts.peerBytes >= Int64(layer.size))

                // SIGTERM: it leaves the cluster and exits 0.
                try await containerd.ctr(["tasks", "kill", "--signal", "SIGTERM", id])
                let exited = await container.waitForExit(deadline: .seconds(20))
                #expect(exited, "the container did not stop within 20 s of SIGTERM\n\(logs())")
                #expect(container.terminationStatus == 0, "ctr run exited \(container.terminationStatus ?? -1)\n\(logs())")
                let left = await poll(timeout: .seconds(10)) { await hostNode.status()?.state(of: "in-container") == "left" }
                #expect(left != nil, "host-node does not see the container as left\n\(logs())")
            } catch {
                print(logs())
                throw error
            }
            await container.stop()
            _ = try? await containerd.ctr(["tasks", "delete", "--force", id])
            _ = try? await containerd.ctr(["containers", "delete", id])
        }
    }
}
