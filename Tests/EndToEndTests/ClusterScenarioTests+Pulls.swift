import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// Scenarios 1, 2, 5 and 6: pulls served by peers while the upstream is
/// blocked, a holder killed mid-pull, Docker-style requests, moved tags.
extension ClusterScenarioTests {
    // MARK: 1

    @Test func pullsSucceedFromPeersWhileTheUpstreamIsBlocked() async throws {
        try await Cluster.run("1 upstream blocked", hosts: 4) { c in
            let image = try await c.image("app", layerSizes: [4096, 300_000, 1_500_000])
            let ref = try await c.push(image, as: "e2e/app")
            try await c.pull(ref, on: c[1], label: "upstream open")
            for host in c.hosts.dropFirst() {
                try c.require(await c.waitForHolder(host, ref, holder: "host-1"), "\(host.name) never learned that host-1 holds \(ref)")
            }
            let upstreamBefore = c.upstream.pullRequests()
            try await c.blockUpstream()

            // Hosts 2..4 pull at the same time, as pods of a rollout would.
            let pullers = Array(c.hosts.dropFirst())
            let before = await Self.counts(pullers)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for host in pullers {
                    group.addTask { try await c.pull(ref, on: host, label: "upstream blocked") }
                }
                try await group.waitForAll()
            }
            for host in pullers {
                let digest = try await host.imageDigest(ref)
                c.check(digest == image.root.digest.description, "\(host.name) has \(digest ?? "nothing") for \(ref)")
                let counts = await host.status()?.counts ?? .init()
                let peer = counts.requests("peer") - (before[host.name]?.requests("peer") ?? 0)
                let bytes = counts.peerBytes - (before[host.name]?.peerBytes ?? 0)
                c.check(peer >= image.pulledDescriptors.count, "\(host.name)'s mirror served only \(peer) requests from peers")
                c.check(bytes >= Self.blobBytes(image), "\(host.name) got \(bytes) bytes from peers, the image has \(Self.blobBytes(image))")
                c.check(counts.verificationFailures == 0, "\(host.name) saw \(counts.verificationFailures) verification failures")
                let drops = await c.upstreamDrops(host)
                c.check(drops == 0, "\(host.name)'s containerd tried the blocked upstream (\(drops) packets dropped)")
            }
            c.check(c.upstream.pullRequests() == upstreamBefore, "the upstream served requests while blocked")
        }
    }

    // MARK: 2

    @Test func aHolderKilledMidPullDoesNotFailThePull() async throws {
        try await Cluster.run("2 holder killed mid-pull", hosts: 3) { c in
            let large = 32_000_000
            let image = try await c.image("large", layerSizes: [2048, large], multiPlatform: false)
            let ref = try await c.push(image, as: "e2e/large")
            try await c.pull(ref, on: c[1], label: "first holder")
            try await c.pull(ref, on: c[2], label: "second holder")
            let puller = c[3]
            for holder in ["host-1", "host-2"] {
                try c.require(await c.waitForHolder(puller, ref, holder: holder), "host-3 never learned that \(holder) holds \(ref)")
            }
            // Both holders send at 16 Mbit/s: the 32 MB layer takes about 16 s from either.
            for holder in [c[1], c[2]] { try await c.shape(holder, rate: "16mbit") }
            var baseline: [String: Int64] = [:]
            for holder in [c[1], c[2]] { baseline[holder.name] = await holder.status()?.counts.localBytes ?? 0 }
            let upstreamBefore = c.upstream.pullRequests(matching: image.hostImage!.layers[1].digest.hex)

            let pull = Task { try await c.pull(ref, on: puller, deadline: .seconds(120), label: "a holder killed mid-transfer") }
            // The holder that answered for the large layer, once host-3 has relayed 4 MB of it.
            var victim: ClusterHost?
            var relayedAtKill: Int64 = 0
            let found = await poll(timeout: .seconds(60), every: .milliseconds(20)) {
                guard let relayed = await puller.status()?.counts.peerBytes, relayed >= 4_000_000 else { return false }
                for holder in [c[1], c[2]] {
                    let served = (await holder.status()?.counts.localBytes ?? 0) - (baseline[holder.name] ?? 0)
                    if served >= Int64(large) {
                        victim = holder
                        relayedAtKill = relayed
                        return true
                    }
                }
                return false
            }
            guard found != nil, let victim else {
                pull.cancel()
                _ = try? await pull.value
                try c.require(false, "no holder was seen serving the large layer to host-3")
                return
            }
            await victim.killMirror()
            let survivor = victim.index == 1 ? c[2] : c[1]
            c.note("SIGKILL \(victim.name) after host-3 relayed \(relayedAtKill.megabytes) of \(Int64(large).megabytes)")
            try await c.unshape(survivor)

            let took = try await pull.value
            let digest = try await puller.imageDigest(ref)
            c.check(digest == image.root.digest.description, "host-3 has \(digest ?? "nothing") for \(ref)")
            c.check(relayedAtKill < Int64(large), "the kill did not land mid-transfer (\(relayedAtKill) bytes relayed)")
            let counts = await puller.status()?.counts ?? .init()
            let fromUpstream = c.upstream.pullRequests(matching: image.hostImage!.layers[1].digest.hex) - upstreamBefore
            let resumed = puller.mirrorLogContains("resuming elsewhere")
            c.check(resumed || fromUpstream > 0, "host-3 neither resumed from \(survivor.name) nor fell back to the upstream")
            c.check(counts.verificationFailures == 0, "host-3 saw \(counts.verificationFailures) verification failures")
            c.note(
                "pull completed in \(took.short): "
                    + (resumed ? "resumed from \(survivor.name) (peer failures \(counts.peerFailures))" : "")
                    + (fromUpstream > 0 ? " upstream served the layer \(fromUpstream)x" : ""))
        }
    }

    // MARK: 5

    @Test func aDockerStyleRequestWithoutNamespaceMeansDockerHub() async throws {
        try await Cluster.run("5 docker.io without ns", hosts: 2) { c in
            let image = try await c.image("dockerish", layerSizes: [4096, 300_000])
            let upstreamRef = try await c.push(image, as: "e2e/dockerish")
            try await c.pull(upstreamRef, on: c[1])
            // host-1 also holds it as Docker Hub's library/dockerish:v1 (as `docker pull dockerish:v1` would name it).
            let hubRef = "docker.io/library/dockerish:v1"
            try await c[1].ctr(["images", "tag", upstreamRef, hubRef])
            try c.require(await c.waitForHolder(c[2], hubRef, holder: "host-1"), "host-2 never learned that host-1 holds \(hubRef)")
            let accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"

            // Docker Engine's request: no ?ns=, so the mirror resolves it against docker.io.
            let head = try await c.curl(
                on: c[2], ["-I", "-H", "Accept: \(accept)", "http://127.0.0.1:5000/v2/library/dockerish/manifests/v1"])
            c.check(head.stdout.hasPrefix("HTTP/1.1 200"), "HEAD without ns: \(head.stdout)")
            c.check(
                head.stdout.lowercased().contains("docker-content-digest: \(image.root.digest)"),
                "HEAD without ns did not name the image's digest:\n\(head.stdout)")
            // The whole image, Docker-style (skopeo sends no ns either), byte for byte.
            let copy = "\(c.directory)/copied"
            let copied = try await c.network.run(
                in: 2,
                [
                    "skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false", "--preserve-digests",
                    "docker://127.0.0.1:5000/library/dockerish:v1", "oci:\(copy):v1",
                ], deadline: .seconds(60), check: false)
            c.check(copied.succeeded, "skopeo copy through host-2 failed: \(copied.stderr)")
            for descriptor in image.hostImage!.descriptors {
                let path = "\(copy)/blobs/sha256/\(descriptor.digest.hex)"
                c.check(FileManager.default.fileExists(atPath: path), "the copy lacks \(descriptor.digest)")
            }
            let counts = await c[2].status()?.counts ?? .init()
            c.check(counts.requests("peer") >= image.hostImage!.descriptors.count, "host-2 served \(counts.requests("peer")) from peers")
            // The same repository without ns is not the upstream's: docker.io/e2e/dockerish is nobody's.
            let other = try await c.curl(
                on: c[2], ["-o", "/dev/null", "-w", "%{http_code}", "-H", "Accept: \(accept)", "http://127.0.0.1:5000/v2/e2e/dockerish/manifests/v1"])
            c.check(other.stdout == "404", "docker.io/e2e/dockerish:v1 (held only under the upstream's name) answered \(other.stdout)")
        }
    }

    // MARK: 6

    @Test func aTagMovedUpstreamIsNotServedStaleWherePolicySaysSo() async throws {
        try await Cluster.run("6 moved tag", hosts: 2) { c in
            // Two ways to say "tags come from the upstream": host-3's hosts.toml
            // (configure-containerd --no-resolve-tags: containerd resolves tags
            // upstream), host-4's mirror (run --no-resolve-tags: it never asks peers for a tag).
            try await c.addHost(resolveTags: false)
            try await c.addHost(mirrorArguments: ["--no-resolve-tags"])
            try c.require(
                await c.converged(c.hosts, names: ["host-1", "host-2", "host-3", "host-4"], timeout: .seconds(20)) != nil,
                "host-3 and host-4 did not join")
            c.check(!c[3].hostsToml.contains("\"resolve\""), "host-3's hosts.toml still offers resolve:\n\(c[3].hostsToml)")
            let old = try await c.image("moving-old", layerSizes: [4096, 200_000])
            let new = try await c.image("moving-new", layerSizes: [4096, 200_000])
            let latest = try await c.push(old, as: "e2e/moving", tag: "latest")
            let stable = try await c.push(old, as: "e2e/moving", tag: "stable")
            try await c.pull(latest, on: c[1], label: ":latest, before the move")
            try await c.pull(stable, on: c[1], label: ":stable, before the move")
            for host in [c[2], c[3], c[4]] {
                try c.require(await c.waitForHolder(host, stable, holder: "host-1"), "\(host.name) never learned host-1 holds \(stable)")
                try c.require(await c.waitForHolder(host, latest, holder: "host-1"), "\(host.name) never learned host-1 holds \(latest)")
            }

            // The tags move upstream.
            try await c.push(new, as: "e2e/moving", tag: "latest")
            try await c.push(new, as: "e2e/moving", tag: "stable")
            let newDigest = new.root.digest.description, oldDigest = old.root.digest.description

            // :latest is never resolved through peers (the default policy): host-2 gets the new image.
            try await c.pull(latest, on: c[2], label: ":latest after the move")
            let got = try await c[2].imageDigest(latest)
            c.check(got == newDigest, "host-2 got \(got ?? "nothing") for :latest, stale \(oldDigest), fresh \(newDigest)")
            // Other tags are resolved through peers by default (what keeps pulls
            // working with the upstream down): host-2 gets host-1's answer. The
            // documented trade-off, stated here so a policy change shows up.
            try await c.pull(stable, on: c[2], label: ":stable after the move, resolve on")
            let peerStable = try await c[2].imageDigest(stable)
            c.check(peerStable == oldDigest, "host-2 (default policy) got \(peerStable ?? "nothing") for :stable, host-1's answer is \(oldDigest)")
            // Where the policy says tags come from the upstream, the moved :stable arrives.
            try await c.pull(stable, on: c[3], label: ":stable after the move, hosts.toml without resolve")
            let gotStable = try await c[3].imageDigest(stable)
            c.check(gotStable == newDigest, "host-3 (hosts.toml: no resolve) got \(gotStable ?? "nothing") for :stable, fresh \(newDigest)")
            let before = await c[4].status()?.counts ?? .init()
            try await c.pull(stable, on: c[4], label: ":stable after the move, run --no-resolve-tags")
            let gotStable4 = try await c[4].imageDigest(stable)
            c.check(gotStable4 == newDigest, "host-4 (run --no-resolve-tags) got \(gotStable4 ?? "nothing") for :stable, fresh \(newDigest)")
            let after = await c[4].status()?.counts ?? .init()
            c.check(after.requests("miss") > before.requests("miss"), "host-4's mirror did not decline the tag (no miss counted)")
            // The holder itself re-pulling :latest should see the move too, but its
            // mirror answers tag requests from its own containerd before any
            // policy applies, so containerd is told the old digest.
            try await c.pull(latest, on: c[1], label: ":latest re-pulled by its holder")
            let holderLatest = try await c[1].imageDigest(latest)
            c.note("host-1 re-pulled :latest and has \(holderLatest == newDigest ? "the new" : "the OLD") digest")
            // The tag policy applies to the node's own content too: `latest` is
            // answered by the upstream, and only its digest by the mirror.
            #expect(holderLatest == newDigest, "host-1 re-pulled :latest and kept \(holderLatest ?? "nothing"), stale \(oldDigest)")
        }
    }
}
