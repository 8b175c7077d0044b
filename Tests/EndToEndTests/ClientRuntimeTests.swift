import Foundation
import Registry
import Testing
import TestSupport

/// Every runtime pulls through the mirror: Debian's Docker Engine and Podman,
/// and containerd beside a site mirror it already had. Each scenario is a
/// two-node cluster where only host-1 holds the image and host-2, which
/// pulls, reaches no upstream (an nft drop, and no route to the internet).
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(
            TestEnvironment.containerdTools + TestEnvironment.registryTools + ["dockerd", "podman", "nsenter", "nft", "curl"],
            needsRoot: true),
        "needs root, containerd, docker-registry, skopeo, dockerd, podman, nsenter and nft"))
struct ClientRuntimeTests {
    /// host-1 pulls each image from the upstream and also names it as given
    /// (as `docker pull` or another registry would); host-2 learns it holds
    /// them, and loses the upstream.
    static func heldByHost1(_ c: Cluster, _ images: [(image: TestImage, name: String)]) async throws {
        for (index, held) in images.enumerated() {
            let upstreamRef = try await c.push(held.image, as: "e2e/held-\(index)")
            try await c.pull(upstreamRef, on: c[1])
            try await c[1].ctr(["images", "tag", upstreamRef, held.name])
            try c.require(await c.waitForHolder(c[2], held.name, holder: "host-1"), "host-2 never learned that host-1 holds \(held.name)")
        }
        try await c.blockUpstream([c[2]])
    }

    /// Requests host-2's mirror answered from a peer, so far.
    static func peerRequests(_ c: Cluster) async -> Int { await c[2].status()?.counts.requests("peer") ?? 0 }

    @Test func dockerEnginePullsADockerHubImageWithRegistryMirrors() async throws {
        try await Cluster.run("clients: dockerd registry-mirrors", hosts: 2) { c in
            let image = try await c.image("dockerhub", layerSizes: [4096, 600_000])
            let name = "docker.io/library/gm-dockerhub:v1"
            try await Self.heldByHost1(c, [(image, name)])
            let engine = try await DockerEngine.start(on: c[2], mirrors: ["http://127.0.0.1:5000"], ledger: c.ledger)
            do {
                let version = try await engine.docker(["version", "--format", "{{.Server.Version}}"]).stdout
                let info = try await engine.docker(["info", "--format", "{{.RegistryConfig.Mirrors}}"]).stdout
                c.note("dockerd \(version.trimmingCharacters(in: .whitespacesAndNewlines)) with registry-mirrors \(info.trimmingCharacters(in: .whitespacesAndNewlines))")
                let before = await Self.peerRequests(c)
                let pulled = try await engine.docker(["pull", name])
                c.check(pulled.succeeded, "docker pull \(name) failed:\n\(pulled.stdout)\n\(pulled.stderr)\n\(engine.logTail())")
                // Docker's image id is the config digest of this machine's platform.
                let id = try await engine.docker(["image", "inspect", "--format", "{{.Id}}", name]).stdout
                c.check(
                    id.trimmingCharacters(in: .whitespacesAndNewlines) == image.hostImage!.config.digest.description,
                    "docker has \(id) for \(name), not the image's config \(image.hostImage!.config.digest)")
                let peer = await Self.peerRequests(c) - before
                c.check(peer >= image.pulledDescriptors.count, "host-2's mirror answered only \(peer) requests from host-1")
                c.note("docker pulled \(name) through host-2's mirror: \(peer) requests answered from host-1")
            } catch {
                await engine.stop()
                throw error
            }
            await engine.stop()
        }
    }

    @Test func podmanPullsDockerHubAndAnotherRegistryThroughTheDropIn() async throws {
        try await Cluster.run("clients: podman registries.conf.d", hosts: 2) { c in
            // Two images, so that each pull fetches every blob through the mirror.
            let images = [
                (image: try await c.image("hub", layerSizes: [4096, 600_000]), name: "docker.io/library/gm-hub:v1"),
                (image: try await c.image("ghcr", layerSizes: [4096, 600_000]), name: "ghcr.io/e2e/gm-ghcr:v1"),
            ]
            try await Self.heldByHost1(c, images)
            let podman = try PodmanClient(on: c[2])
            let configure = try await Subprocess.run(
                [
                    MirrorProcess.binary, "configure-containers", "--registries-dir", podman.dropInDirectory,
                    "--registries-conf", podman.mainConfig, "--registry", "docker.io", "--registry", "ghcr.io",
                    "--mirror-url", "http://127.0.0.1:5000",
                ], environment: MirrorProcess.environment)
            c.note("configure-containers: \(configure.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
            let version = try await podman.podman(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let mirrors = try await podman.podman(["info", "--format", "{{json .Registries}}"])
            c.check(mirrors.stdout.contains("127.0.0.1:5000/ghcr.io"), "podman does not see the drop-in: \(mirrors.stdout)\(mirrors.stderr)")
            for (image, name) in images {
                let before = await Self.peerRequests(c)
                let pulled = try await podman.podman(["pull", name])
                c.check(pulled.succeeded, "podman pull \(name) failed:\n\(pulled.stderr)")
                let id = try await podman.podman(["image", "inspect", "--format", "{{.Id}}", name]).stdout
                c.check(
                    "sha256:" + id.trimmingCharacters(in: .whitespacesAndNewlines) == image.hostImage!.config.digest.description,
                    "podman has \(id) for \(name)")
                let peer = await Self.peerRequests(c) - before
                c.check(peer >= image.pulledDescriptors.count, "\(name): host-2's mirror answered only \(peer) requests from host-1")
                c.note("\(version) pulled \(name) through host-2's mirror: \(peer) requests answered from host-1")
            }
            // Cleanup removes the drop-in and nothing else.
            let cleanup = try await Subprocess.run(
                [MirrorProcess.binary, "cleanup", "--hosts-dir", c[2].directory + "/none", "--registries-dir", podman.dropInDirectory],
                environment: MirrorProcess.environment)
            c.check(cleanup.stdout.contains("removed \(podman.dropInDirectory)/zz-gossip-mirror.conf"), "cleanup said: \(cleanup.stdout)")
            c.check(DirectorySnapshot(podman.dropInDirectory).entries.isEmpty, "the drop-in directory is not empty after cleanup")
        }
    }

    /// A site that already mirrors through its own cache keeps it: the
    /// cache's entry follows gossip-mirror's, containerd pulls what only the
    /// cache holds, and cleanup leaves the hosts directory as it was.
    @Test func containerdKeepsASiteMirrorAndCleanupRestoresTheHostsDirectory() async throws {
        try await Cluster.run("clients: containerd keeps a site mirror", hosts: 2) { c in
            let image = try await c.image("peerheld", layerSizes: [4096, 600_000])
            let peerRef = try await c.push(image, as: "e2e/peerheld")
            try await c.pull(peerRef, on: c[1])
            try c.require(await c.waitForHolder(c[2], peerRef, holder: "host-1"), "host-2 never learned that host-1 holds \(peerRef)")
            try await RegistryProcess.with(address: c.network.gateway) { site in
                let siteImage = try await c.image("siteheld", layerSizes: [4096, 300_000])
                try await site.push(siteImage, repository: "e2e/siteheld")
                let siteRef = "\(c.upstream.address)/e2e/siteheld:v1"
                let host = c[2]
                // host-2 as the site had it: gossip-mirror's files gone, the site's own hosts.toml in place.
                try await Subprocess.run([MirrorProcess.binary, "cleanup", "--hosts-dir", host.hostsDirectory], environment: MirrorProcess.environment)
                let registryDirectory = "\(host.hostsDirectory)/\(c.upstream.address)"
                let siteToml = """
                    # The site's cache, tried before the upstream.
                    server = "https://\(c.upstream.address)"
                    ca = "upstream-ca.crt"

                    [host."http://\(site.host)"]
                      capabilities = ["pull", "resolve"]

                    """
                try siteToml.write(toFile: registryDirectory + "/hosts.toml", atomically: true, encoding: .utf8)
                chmod(registryDirectory + "/hosts.toml", 0o640)
                let before = DirectorySnapshot(host.hostsDirectory)

                let configured = try await host.configureContainerd(upstream: c.upstream)
                c.note("configure-containerd: \(configured.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
                let written = try String(contentsOfFile: registryDirectory + "/hosts.toml", encoding: .utf8)
                let mirrorAt = written.range(of: "[host.\"http://127.0.0.1:5000\"]")?.lowerBound
                let siteAt = written.range(of: "[host.\"http://\(site.host)\"]")?.lowerBound
                try c.require(mirrorAt != nil && siteAt != nil && mirrorAt! < siteAt!, "the mirror does not come before the site's cache:\n\(written)")

                try await c.blockUpstream([host])
                let before1 = await Self.peerRequests(c)
                try await c.pull(peerRef, on: host, label: "held by host-1")
                c.check(await Self.peerRequests(c) - before1 >= image.pulledDescriptors.count, "the peer-held image did not come from host-1")
                try await c.pull(siteRef, on: host, label: "held only by the site's cache")
                c.check(try await host.imageDigest(siteRef) == siteImage.root.digest.description, "host-2 has the wrong site-held image")
                c.check(site.logTail(lines: 400).contains("/v2/e2e/siteheld/manifests/"), "the site's cache was never asked")

                let cleaned = try await Subprocess.run(
                    [MirrorProcess.binary, "cleanup", "--hosts-dir", host.hostsDirectory], environment: MirrorProcess.environment)
                c.note("cleanup: \(cleaned.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
                let after = DirectorySnapshot(host.hostsDirectory)
                c.check(after == before, "the hosts directory differs after cleanup:\nbefore:\n\(before)\nafter:\n\(after)")
            }
        }
    }
}
