import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// The product's promise, end to end on real software across real network
/// boundaries: hosts in network namespaces on a bridge, each with its own
/// containerd (pulling through `hosts.toml` written by `gossip-mirror
/// configure-containerd`) and gossip-mirror node, and a docker-registry
/// upstream on the bridge. See `Cluster/`.
///
/// Every scenario builds its own cluster and tears it down, also when it
/// fails; a failure prints the logs of the nodes. Waiting is always polling
/// against a deadline. Images are generated (`TestImageBuilder`), small except
/// in the holder-killed scenario, where `tc tbf` slows the holders so the kill
/// lands mid-transfer.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(
            TestEnvironment.containerdTools + TestEnvironment.registryTools + ["ip", "nft", "tc", "curl", "openssl"],
            needsRoot: true),
        "needs root, containerd, ctr, docker-registry, skopeo, iproute2, nftables, curl and openssl"))
struct ClusterScenarioTests {
    /// Manifest, config and layers of the host platform, and the index above them.
    static func blobBytes(_ image: TestImage) -> Int64 {
        image.pulledDescriptors.reduce(0) { $0 + $1.size }
    }

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

    // MARK: 3

    @Test func aHostWithTheWrongKeyNeverJoinsServesOrReceives() async throws {
        try await Cluster.run("3 wrong key", hosts: 3) { c in
            let image = try await c.image("cluster-app", layerSizes: [4096, 200_000])
            let ref = try await c.push(image, as: "e2e/cluster-app")
            try await c.pull(ref, on: c[1])
            let secret = try await c.image("intruder-app", layerSizes: [4096, 200_000])
            let secretRef = try await c.push(secret, as: "e2e/intruder-app")
            let good = c.hosts
            let rejectedBefore = await Self.rejected(good)

            var wrong = ClusterKey.generate()
            while wrong.id == c.key.id { wrong = ClusterKey.generate() }
            let intruder = try await c.addHost(keys: [wrong])  // joins host-1 like everyone else
            try await c.pull(secretRef, on: intruder, label: "the intruder's own image, from upstream")

            // It does try: its join attempts reach the cluster and are dropped unopened.
            let tried = await poll(timeout: .seconds(15), every: .milliseconds(100)) {
                await Self.rejected(good) > rejectedBefore
            }
            c.check(tried != nil, "the cluster never saw the intruder's sealed traffic (nothing to reject)")
            // An observation window of several join retries and a reconnect round:
            // nobody may ever list it, and it may never list anybody.
            let window = SWIM.Settings.lan.reconnectInterval + .seconds(2)
            let joined = await poll(timeout: window, every: .milliseconds(200)) {
                for host in good {
                    if await host.status()?.members.contains(where: { $0.name == intruder.name }) == true { return true }
                }
                return (await intruder.status()?.members.count ?? 1) > 1
            }
            c.check(joined == nil, "the intruder became a member of somebody's view")
            let rejectedDuring = await Self.rejected(good) - rejectedBefore
            c.note("intruder observed for \(window.short): no member listed it; the cluster dropped \(rejectedDuring) sealed messages it could not open")

            // Never receives: its mirror knows no holder of the cluster's image.
            let asked = try await c.curl(
                on: intruder,
                ["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:5000/v2/e2e/cluster-app/manifests/v1?ns=\(c.upstream.address)"])
            c.check(asked.stdout == "404", "the intruder's mirror answered \(asked.stdout) for the cluster's image")
            // Asking a member directly without a valid token is refused.
            let direct = try await c.curl(
                on: intruder,
                ["-o", "/dev/null", "-w", "%{http_code}", "http://\(c[1].address):5000/v2/e2e/cluster-app/manifests/v1?ns=\(c.upstream.address)"])
            c.check(direct.stdout == "401", "host-1 answered the intruder's direct request with \(direct.stdout)")
            c.check((await c[1].status()?.counts.rejectedTokens ?? 0) >= 1, "host-1 did not count a rejected token")
            // Never serves: the cluster does not learn what it holds, and its registry sees no peer request.
            let located = await c[2].locate(secretRef)
            c.check(located?.holders.isEmpty == true, "host-2 believes \(located?.holders ?? []) hold the intruder's image")
            let viaCluster = try await c.curl(
                on: c[2],
                ["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:5000/v2/e2e/intruder-app/manifests/v1?ns=\(c.upstream.address)"])
            c.check(viaCluster.stdout == "404", "host-2's mirror answered \(viaCluster.stdout) for the intruder's image")
            let intruderCounts = await intruder.status()?.counts ?? .init()
            c.check(intruderCounts.requests("peer") == 0, "the intruder's mirror got \(intruderCounts.requests("peer")) answers from peers")
            c.check(intruderCounts.requests("local") == 0, "the intruder's registry served \(intruderCounts.requests("local")) local requests")
        }
    }

    // MARK: 4

    @Test func aPartitionHealsIntoOneViewAndPullsCrossTheOldBoundary() async throws {
        try await Cluster.run("4 partition and heal", hosts: 4) { c in
            let left = [c[1], c[2]], right = [c[3], c[4]]
            try await c.partition([left, right])
            // Each side declares the other dead: two views.
            let bound = SWIM.Settings.lan.failureDetectionBound(members: 4) + .seconds(10)
            let split = await poll(timeout: bound, every: .milliseconds(100)) {
                for (side, other) in [(left, right), (right, left)] {
                    for host in side {
                        guard let status = await host.status() else { return false }
                        guard side.allSatisfy({ status.state(of: $0.name) == "alive" }),
                            other.allSatisfy({ status.state(of: $0.name) == "dead" })
                        else { return false }
                    }
                }
                return true
            }
            if split == nil {
                let views = await Self.views(c.hosts)
                try c.require(false, "the sides did not declare each other dead within \(bound.short): \(views)")
            }
            c.note("two views (each side sees the other dead) after \(split!.short)")

            // While split, each side pulls an image of its own from the upstream.
            let leftImage = try await c.image("left", layerSizes: [4096, 400_000])
            let rightImage = try await c.image("right", layerSizes: [4096, 400_000])
            let leftRef = try await c.push(leftImage, as: "e2e/left")
            let rightRef = try await c.push(rightImage, as: "e2e/right")
            c.note("images generated and pushed")
            try await c.pull(leftRef, on: c[1], label: "partitioned")
            try await c.pull(rightRef, on: c[3], label: "partitioned")

            try await c.heal()
            let all: Set = ["host-1", "host-2", "host-3", "host-4"]
            let healed = await c.converged(c.hosts, names: all, timeout: .seconds(60))
            try c.require(healed != nil, "the cluster did not become one view within 60 s of the heal")
            c.note("one view again \(healed!.short) after the heal")
            let views = await Self.views(c.hosts)
            c.check(Set(views.values).count == 1, "the hosts' views differ: \(views)")

            // Pulls route across the old boundary, with the upstream out of the picture.
            try c.require(await c.waitForHolder(c[2], rightRef, holder: "host-3"), "host-2 never learned that host-3 holds \(rightRef)")
            try c.require(await c.waitForHolder(c[4], leftRef, holder: "host-1"), "host-4 never learned that host-1 holds \(leftRef)")
            try await c.blockUpstream()
            try await c.pull(rightRef, on: c[2], label: "left pulls the right's image")
            try await c.pull(leftRef, on: c[4], label: "right pulls the left's image")
            c.check(try await c[2].imageDigest(rightRef) == rightImage.root.digest.description, "host-2 has the wrong image")
            c.check(try await c[4].imageDigest(leftRef) == leftImage.root.digest.description, "host-4 has the wrong image")
            for host in [c[2], c[4]] {
                let counts = await host.status()?.counts ?? .init()
                c.check(counts.requests("peer") >= rightImage.pulledDescriptors.count, "\(host.name) served \(counts.requests("peer")) from peers")
            }
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

    // MARK: 7

    @Test func rotatingTheClusterKeyLosesNoMemberAndNoPull() async throws {
        try await Cluster.run("7 key rotation", hosts: 3) { c in
            var images: [(TestImage, String)] = []
            for i in 1...4 {
                let image = try await c.image("rotation-\(i)", layerSizes: [4096, 150_000])
                images.append((image, try await c.push(image, as: "e2e/rotation-\(i)")))
                try await c.pull(images[i - 1].1, on: c[1])
            }
            for (_, ref) in images {
                for host in [c[2], c[3]] {
                    try c.require(await c.waitForHolder(host, ref, holder: "host-1"), "\(host.name) never learned host-1 holds \(ref)")
                }
            }
            try await c.blockUpstream()
            let rejectedBefore = await Self.rejected(c.hosts)
            let names = Set(c.hosts.map(\.name))
            let watch = MembershipWatch(hosts: c.hosts, names: names)
            let watching = Task { await watch.run() }

            var next = ClusterKey.generate()
            while next.id == c.key.id { next = ClusterKey.generate() }
            func keyFile(_ host: ClusterHost, _ i: Int) -> String { host.keyFiles[i] }
            func reload(_ host: ClusterHost, expecting ids: [UInt8]) async throws {
                host.signalMirror(SIGHUP)
                let done = await poll(timeout: .seconds(10), every: .milliseconds(50)) { await host.status()?.keyIDs == ids }
                try c.require(done != nil, "\(host.name) did not reload its keys to \(ids)")
            }

            // Install: next.key gets the new key everywhere; every node opens both.
            for host in c.hosts {
                try Cluster.write(next, to: keyFile(host, 1))
                try await reload(host, expecting: [c.key.id, next.id])
            }
            c.note("installed key \(next.id) on every node")
            try await c.pull(images[0].1, on: c[2], label: "after install")

            // Use: the new key becomes primary, one node at a time; pull while the cluster is mixed.
            for host in c.hosts {
                try Cluster.write(next, to: keyFile(host, 0))
                try Cluster.write(c.key, to: keyFile(host, 1))
                try await reload(host, expecting: [next.id, c.key.id])
                if host.index == 1 { try await c.pull(images[1].1, on: c[3], label: "mixed: only host-1 seals with the new key") }
            }
            c.note("key \(next.id) is primary everywhere")
            try await c.pull(images[2].1, on: c[2], label: "after use")

            // Remove: the old key file goes away.
            for host in c.hosts {
                try FileManager.default.removeItem(atPath: keyFile(host, 1))
                try await reload(host, expecting: [next.id])
            }
            c.note("old key \(c.key.id) removed everywhere")
            try await c.pull(images[3].1, on: c[3], label: "after remove")
            try await c.pull(images[0].1, on: c[3], label: "after remove")

            // Keep watching for five probe rounds after the last step: a node
            // that cannot talk to another any more is suspected within that.
            let window = SWIM.Settings.lan.probeInterval * 5
            _ = await poll(timeout: window, every: .milliseconds(100)) { await !watch.anomalies.isEmpty }
            await watch.stop()
            await watching.value
            let lost = await watch.anomalies
            let rounds = await watch.observations - (await watch.unanswered) / c.hosts.count
            c.check(lost.isEmpty, "members were lost during the rotation: \(lost.prefix(10))")
            c.check(rounds >= 20, "the membership watch saw only \(rounds) rounds")
            let rejected = await Self.rejected(c.hosts) - rejectedBefore
            c.check(rejected == 0, "\(rejected) sealed messages could not be opened during the rotation")
            c.note("membership watched in \(rounds) rounds: \(lost.count) anomalies; \(rejected) messages rejected")
            for (image, ref) in images {
                for host in [c[2], c[3]] {
                    guard let digest = try await host.imageDigest(ref) else { continue }
                    c.check(digest == image.root.digest.description, "\(host.name) has the wrong \(ref)")
                }
            }
        }
    }

    // MARK: 8

    /// A firewall rule on host-1 refuses the datagrams it sends to host-2
    /// (EPERM from sendto). Each is one lost packet: the gossip socket stays
    /// open, host-1 keeps talking to the others, and probes through them keep
    /// host-2 alive in every view.
    @Test func aLocalFirewallRuleAgainstOnePeerCostsOnlyThosePackets() async throws {
        try await Cluster.run("8 local firewall against one peer", hosts: 3) { c in
            let all: Set = ["host-1", "host-2", "host-3"]
            try c.require(await c.converged(c.hosts, names: all, timeout: .seconds(30)) != nil, "the cluster did not form")
            let before = try #require(await c[1].status()?.gossip)
            try await c.blockGossip(from: c[1], to: c[2])
            let watch = MembershipWatch(hosts: c.hosts, names: all)
            let watching = Task { await watch.run() }
            // Several probe rounds' worth of refused datagrams.
            let refused = await poll(timeout: .seconds(30), every: .milliseconds(200)) {
                (await c[1].status()?.gossip.sendFailures ?? 0) >= before.sendFailures + 10
            }
            try c.require(refused != nil, "host-1 never reported refused datagrams")
            let sentBefore = try #require(await c[1].status()?.gossip.packetsSent)
            let sending = await poll(timeout: .seconds(10), every: .milliseconds(200)) {
                (await c[1].status()?.gossip.packetsSent ?? 0) > sentBefore + 10
            }
            c.check(sending != nil, "host-1 stopped sending to the others")
            await watch.stop()
            await watching.value
            let after = try #require(await c[1].status()?.gossip)
            c.check(after.socketReopens == before.socketReopens, "the socket was reopened \(after.socketReopens - before.socketReopens) times")
            let anomalies = await watch.anomalies
            c.check(anomalies.isEmpty, "members were not alive everywhere: \(anomalies.prefix(5))")
            let converged = await c.converged(c.hosts, names: all, timeout: .seconds(5))
            let views = await Self.views(c.hosts)
            c.check(converged != nil, "views differ: \(views)")
            c.note("\(after.sendFailures - before.sendFailures) datagrams refused, 0 reopens, every member alive throughout")
        }
    }

    // MARK: Helpers

    static func counts(_ hosts: [ClusterHost]) async -> [String: RegistryCounts] {
        var result: [String: RegistryCounts] = [:]
        for host in hosts { result[host.name] = await host.status()?.counts ?? .init() }
        return result
    }

    /// Sealed messages the hosts could not open, in total.
    static func rejected(_ hosts: [ClusterHost]) async -> Int {
        var total = 0
        for host in hosts { total += await host.status()?.gossip.rejectedUnauthenticated ?? 0 }
        return total
    }

    /// Each host's view: the sorted "name=state" list.
    static func views(_ hosts: [ClusterHost]) async -> [String: String] {
        var result: [String: String] = [:]
        for host in hosts {
            let members = await host.status()?.members ?? []
            result[host.name] = members.map { "\($0.name)=\($0.state)" }.sorted().joined(separator: ",")
        }
        return result
    }
}

/// Polls every host's view until stopped, recording any moment a host does not
/// see every member alive.
actor MembershipWatch {
    let hosts: [ClusterHost]
    let names: Set<String>
    private(set) var anomalies: [String] = []
    private(set) var observations = 0
    /// Status requests that got no answer in time (a busy machine, not a lost member).
    private(set) var unanswered = 0
    private var stopped = false

    init(hosts: [ClusterHost], names: Set<String>) {
        self.hosts = hosts
        self.names = names
    }

    func stop() { stopped = true }

    func run() async {
        let started = ContinuousClock.now
        while !stopped {
            for host in hosts {
                guard let status = await host.status() else {
                    unanswered += 1
                    continue
                }
                if status.alive != names {
                    let view = status.members.map { "\($0.name)=\($0.state)" }.sorted().joined(separator: ",")
                    anomalies.append("[\((ContinuousClock.now - started).short)] \(host.name) sees \(view)")
                }
            }
            observations += 1
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
