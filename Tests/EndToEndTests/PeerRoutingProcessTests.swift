import Catalog
import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// Pulls through a node that holds nothing, from peers that do — with real
/// skopeo, a real containerd and a real docker-registry upstream.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(TestEnvironment.containerdTools + TestEnvironment.registryTools + ["curl"], needsRoot: true),
        "needs root, containerd, ctr, docker-registry, skopeo and curl"))
struct PeerRoutingProcessTests {
    static func copy(from registry: String, _ path: String, to dir: String) async throws -> Subprocess.Output {
        try await Subprocess.run(
            [
                "skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false", "--preserve-digests",
                "docker://\(registry)/\(path)", "oci:\(dir):v1",
            ], check: false)
    }

    static func sameBytes(_ image: TestImage, copiedTo dir: String) throws -> Bool {
        for d in image.hostImage!.descriptors {
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(image.layoutDirectory)/blobs/sha256/\(d.digest.hex)"))
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/blobs/sha256/\(d.digest.hex)"))
            if a != b { return false }
        }
        return true
    }

    @Test func skopeoCopiesThroughAPeerByteForByteWithNoUpstream() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let image = try await TestImageBuilder(layerSizes: [3000, 3_000_000]).write(to: "\(dir.path)/image", tag: "v1")
        let (a, b, located) = try await LoopbackCluster.holderAndRelay(
            serving: image, as: "registry.example:5000/e2e/app:v1", subnet: LoopbackCluster.subnet(5), key: key, dir: dir,
            relayName: "empty")
        defer { for n in [a, b] { kill(n.pid, SIGKILL) } }
        #expect(located, "\(LoopbackCluster.logs([a, b]))")

        // Registry addressing with ?ns is what containerd does; skopeo uses plain
        // addressing, which the mirror maps to docker.io — so name the image there too.
        try await LoopbackCluster.serve(image, as: "docker.io/e2e/app:v1", at: "\(dir.path)/a")
        #expect(await LoopbackCluster.waitForHolder(b, "docker.io/e2e/app:v1", "holder"))
        let copied = try await Self.copy(from: b.registryAddress, "e2e/app:v1", to: "\(dir.path)/copy")
        #expect(copied.succeeded, "\(copied.stderr)\n\(LoopbackCluster.logs([a, b]))")
        #expect(try Self.sameBytes(image, copiedTo: "\(dir.path)/copy"))
        let counts = try #require(await b.status()?.registry)
        #expect(counts.requests["peer", default: 0] >= 4, "manifest, config and two layers come from the peer")
        #expect(counts.peerBytes >= 3_000_000)

        // The access logs say where each layer came from and how much was sent.
        for layer in image.hostImage!.layers {
            let path = "path=/v2/e2e/app/blobs/\(layer.digest)"
            let relayed = Self.accessLines(b, containing: [path, "method=GET"])
            #expect(
                relayed.contains { $0.contains("source=peer") && $0.contains("peer=holder") && $0.contains("status=200") && $0.contains("bytes=\(layer.size)") },
                "no access log line on B for \(layer.digest) from the peer: \(relayed)")
            let served = Self.accessLines(a, containing: [path, "method=GET"])
            #expect(
                served.contains { $0.contains("source=local") && $0.contains("status=200") && $0.contains("bytes=\(layer.size)") },
                "no access log line on A for \(layer.digest): \(served)")
        }
    }

    /// The node's access log lines (`request` at info) containing every fragment.
    static func accessLines(_ node: MirrorProcess, containing fragments: [String]) -> [Substring] {
        node.log.split(separator: "\n").filter { line in
            line.hasSuffix(" request") && fragments.allSatisfy { line.contains($0) }
        }
    }

    @Test func aPeerThatServesWrongBytesNeverGetsThemToTheClient() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let image = try await TestImageBuilder(layerSizes: [3000, 3_000_000]).write(to: "\(dir.path)/image", tag: "v1")
        try await LoopbackCluster.serve(image, as: "docker.io/e2e/liar:v1", at: "\(dir.path)/liar")
        // Corrupt both layers in the liar's store, keeping their sizes.
        for layer in image.hostImage!.layers {
            let path = "\(dir.path)/liar/blobs/sha256/\(layer.digest.hex)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let subnet = LoopbackCluster.subnet(6)
        let liar = try LoopbackCluster.node("liar", "\(subnet).1", key: key, join: [], layout: "\(dir.path)/liar", dir: dir)
        let b = try LoopbackCluster.node("client-side", "\(subnet).2", key: key, join: ["\(subnet).1"], layout: "\(dir.path)/b", dir: dir)
        defer { for n in [liar, b] { kill(n.pid, SIGKILL) } }
        #expect(await LoopbackCluster.waitForHolder(b, "docker.io/e2e/liar:v1", "liar"))

        // Only the liar holds it: every attempt is refused or aborted, never completed wrong.
        let small = image.hostImage!.layers[0].digest
        let large = image.hostImage!.layers[1].digest
        let largeFetch = try await Subprocess.run(
            ["curl", "-s", "-o", "\(dir.path)/large", "http://\(b.registryAddress)/v2/e2e/liar/blobs/\(large)"], check: false)
        #expect(largeFetch.status != 0, "a large blob streams and the connection is aborted: curl must see an error")
        let partial = (try? Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/large")))?.count ?? 0
        let fullSize = image.hostImage!.layers[1].size
        #expect(partial < fullSize, "the client must not receive the complete wrong blob (\(partial) of \(fullSize) bytes)")
        let counts = try #require(await b.status()?.registry)
        #expect(counts.verificationFailures >= 1)
        // B's access log records that response as aborted, not as served.
        let aborted = Self.accessLines(b, containing: ["path=/v2/e2e/liar/blobs/\(large)", "method=GET"])
        #expect(
            !aborted.isEmpty && aborted.allSatisfy { $0.contains("aborted=") && $0.contains("peer=liar") },
            "access log lines for the aborted GET: \(aborted)")
        // The liar is now penalised: it is not asked again, so the small blob misses.
        let smallFetch = try await Subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(b.registryAddress)/v2/e2e/liar/blobs/\(small)"],
            check: false)
        #expect(smallFetch.stdout == "404")

        // An honest holder appears: the next request is served by it (the liar is banned).
        try await LoopbackCluster.serve(image, as: "docker.io/e2e/liar:v1", at: "\(dir.path)/honest")
        let honest = try LoopbackCluster.node("honest", "\(subnet).3", key: key, join: ["\(subnet).1"], layout: "\(dir.path)/honest", dir: dir)
        defer { kill(honest.pid, SIGKILL) }
        #expect(await LoopbackCluster.waitForHolder(b, "docker.io/e2e/liar:v1", "honest"))
        let copied = try await Self.copy(from: b.registryAddress, "e2e/liar:v1", to: "\(dir.path)/copy")
        #expect(copied.succeeded, "\(copied.stderr)\n\(LoopbackCluster.logs([liar, b, honest]))")
        #expect(try Self.sameBytes(image, copiedTo: "\(dir.path)/copy"))
    }

    /// An upstream that speaks plain HTTP at an address that is not loopback
    /// (where containerd would use HTTPS): `configure-containerd` writes
    /// `server = "https://…"` by default, and the pull fails; with
    /// `--plain-http-registry` it writes `http://…`, and a real containerd
    /// pulls past the mirror's 404 from the upstream.
    @Test func configureContainerdReachesAPlainHTTPUpstream() async throws {
        // The namespace is only there to give this host a non-loopback address.
        try await NetworkNamespace.with { network in
            try await RegistryProcess.with(address: network.hostAddress) { upstream in
                try await ContainerdProcess.with(namespace: "k8s.io") { containerd in
                    let dir = try ScratchDirectory()
                    let key = try LoopbackCluster.writeKey(dir, "cluster.key")
                    let image = try await TestImageBuilder(layerSizes: [1000, 300_000], seed: 41).write(to: "\(dir.path)/image", tag: "v1")
                    let reference = try await upstream.push(image, repository: "e2e/plain")
                    let mirror = try LoopbackCluster.node(
                        "mirror", "\(LoopbackCluster.subnet(9)).1", key: key, join: [], layout: "\(dir.path)/m", dir: dir)
                    defer { kill(mirror.pid, SIGKILL) }
                    try #require(await poll(timeout: .seconds(10)) { await mirror.status() != nil } != nil, "\(mirror.log)")

                    let hosts = "\(dir.path)/hosts"
                    try FileManager.default.createDirectory(atPath: hosts, withIntermediateDirectories: true)
                    func configure(_ options: [String]) async throws {
                        try await Subprocess.run(
                            [MirrorProcess.binary, "configure-containerd", "--hosts-dir", hosts, "--mirror-url", "http://\(mirror.registryAddress)"]
                                + options)
                    }
                    let file = "\(hosts)/\(upstream.host)/hosts.toml"
                    try await configure(["--registry", upstream.host])
                    #expect(try String(contentsOfFile: file, encoding: .utf8).contains("server = \"https://\(upstream.host)\""))
                    await #expect(throws: (any Error).self, "containerd should not reach a plain-HTTP upstream over HTTPS") {
                        try await containerd.pull(reference, hostsDir: hosts, plainHTTP: false)
                    }

                    try await configure(["--registry", "docker.io", "--plain-http-registry", upstream.host])
                    #expect(try String(contentsOfFile: file, encoding: .utf8).contains("server = \"http://\(upstream.host)\""))
                    try await containerd.pull(reference, hostsDir: hosts, plainHTTP: false)
                    #expect(try await containerd.imageNames().contains(reference))
                    let counts = try #require(await mirror.status()?.registry)
                    #expect(counts.requests["miss", default: 0] >= 1, "containerd asked the mirror first")
                }
            }
        }
    }

    @Test func containerdPullsThroughTheMirrorAndFallsBackFast() async throws {
        try await RegistryProcess.with { upstream in
            try await ContainerdProcess.with(namespace: "k8s.io") { containerd in
                let dir = try ScratchDirectory()
                let key = try LoopbackCluster.writeKey(dir, "cluster.key")
                let held = try await TestImageBuilder(layerSizes: [2000, 2_000_000]).write(to: "\(dir.path)/held", tag: "v1")
                let other = try await TestImageBuilder(layerSizes: [1000, 500_000], seed: 99).write(to: "\(dir.path)/other", tag: "v2")
                let heldRef = try await upstream.push(held, repository: "e2e/held")
                let otherRef = try await upstream.push(other, repository: "e2e/other")
                let (a, b, located) = try await LoopbackCluster.holderAndRelay(
                    serving: held, as: heldRef, subnet: LoopbackCluster.subnet(7), key: key, dir: dir, relayName: "mirror")
                defer { for n in [a, b] { kill(n.pid, SIGKILL) } }
                #expect(located)

                // containerd uses B as its mirror for the upstream registry.
                let hosts = "\(dir.path)/hosts"
                try FileManager.default.createDirectory(atPath: "\(hosts)/\(upstream.host)", withIntermediateDirectories: true)
                try """
                server = "http://\(upstream.host)"

                [host."http://\(b.registryAddress)"]
                  capabilities = ["pull", "resolve"]
                """.write(toFile: "\(hosts)/\(upstream.host)/hosts.toml", atomically: true, encoding: .utf8)

                // Nobody holds `other`: the mirror answers 404 at once and containerd goes upstream.
                try await containerd.pull(otherRef, hostsDir: hosts)
                let afterMiss = try #require(await b.status()?.registry)
                #expect(afterMiss.requests["miss", default: 0] >= 1)
                #expect(afterMiss.slowestMissMicroseconds < 5_000, "slowest 404 took \(afterMiss.slowestMissMicroseconds) µs")

                // The upstream goes away; `held` still pulls, through B from A.
                await upstream.stop()
                try await containerd.pull(heldRef, hostsDir: hosts)
                let names = try await containerd.imageNames()
                #expect(names.contains(heldRef))
                let afterPeer = try #require(await b.status()?.registry)
                #expect(afterPeer.requests["peer", default: 0] >= 3)
                #expect(afterPeer.verificationFailures == 0)
            }
        }
    }
}
