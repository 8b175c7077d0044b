import Catalog
import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// Two real nodes: A reads a real containerd (its own root, state and
/// socket), B holds nothing. What A pulls, B can locate.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(TestEnvironment.containerdTools + TestEnvironment.registryTools, needsRoot: true),
        "needs root, containerd, ctr, docker-registry and skopeo"))
struct CatalogGossipProcessTests {
    @Test func anImagePulledOnAIsLocatedOnBWithinTwoSeconds() async throws {
        try await RegistryProcess.with { registry in
            try await ContainerdProcess.with(namespace: "k8s.io") { containerd in
                let dir = try ScratchDirectory()
                let image = try await TestImageBuilder(layerSizes: [4096, 200_000]).write(to: "\(dir.path)/image", tag: "v1")
                let reference = try await registry.push(image, repository: "e2e/app")
                let manifest = try #require(image.hostImage?.manifest.digest)

                let key = try LoopbackCluster.writeKey(dir, "cluster.key")
                let subnet = LoopbackCluster.subnet(3)
                let a = try MirrorProcess(
                    name: "node-a", host: "\(subnet).1", keyFiles: [key], join: [], directory: dir.path,
                    store: [
                        "--store", "containerd", "--containerd-sock", containerd.socketPath,
                        "--containerd-namespace", "k8s.io", "--containerd-content-root", containerd.root,
                    ])
                let b = try MirrorProcess(
                    name: "node-b", host: "\(subnet).2", keyFiles: [key], join: ["\(subnet).1:7946"], directory: dir.path)
                defer { for n in [a, b] { kill(n.pid, SIGKILL) } }

                let joined = await poll(timeout: .seconds(10)) {
                    let seen = await b.status()?.state(of: "node-a") == "alive"
                    let ready = await a.status()?.catalog?.available ?? false
                    return seen && ready
                }
                try #require(joined != nil, "nodes did not join\n\(LoopbackCluster.logs([a, b]))")
                #expect(await b.locate(reference)?.holders == [])

                try await containerd.pull(reference)
                let pulled = ContinuousClock.now
                let located = await poll(timeout: .seconds(2), every: .milliseconds(20)) {
                    guard let report = await b.locate(reference), let digest = await b.locate(manifest.description) else { return false }
                    return report.holders == ["node-a"] && !report.local && digest.holders == ["node-a"]
                }
                #expect(located != nil, "B did not locate the image on A within 2 s\n\(LoopbackCluster.logs([a, b]))")
                print("pulled on A, located from B after \(ContinuousClock.now - pulled)")

                let onA = await a.locate(reference)
                #expect(onA?.local == true)
                #expect(onA?.digest == image.root.digest.description)
            }
        }
    }
}
