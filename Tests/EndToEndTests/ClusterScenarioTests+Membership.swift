import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// Scenarios 3, 4, 7 and 8: who belongs to the cluster. A host with the
/// wrong key, a partition that heals, a key rotation, a firewall rule
/// against one peer.
extension ClusterScenarioTests {
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
}
