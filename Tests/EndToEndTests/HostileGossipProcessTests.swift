import Foundation
import Gossip
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Issue 13, hostile input at the gossip port of real `gossip-mirror run`
/// processes (three nodes on loopback addresses): a flood of random and of
/// replayed datagrams from a host without the key, and absurd counters and
/// payloads from a member with the key (`GossipImpostor`, which seals with
/// the real `Envelope` and encodes with the real `WireCodec`). Under each the
/// target stays up, under `rssLimitKiB`, counts every refusal by reason in
/// `/metrics`, and no real member is declared dead.
@Suite(.serialized) struct HostileGossipProcessTests {
    /// The documented bound (docs/security.md): the same as for the TCP
    /// abuse of `GossipPortAbuseTests`, for a debug build.
    static let rssLimitKiB = 100 << 10
    static let safetyCapKiB = 1 << 20
    static let names: Set<String> = ["target", "other-1", "other-2"]

    /// Three nodes on `subnet` .1 to .3, the others joined to the target;
    /// returned once every node sees all three alive.
    static func cluster(_ subnet: String, key: String, dir: ScratchDirectory) async throws -> [MirrorProcess] {
        let target = try MirrorProcess(
            name: "target", host: "\(subnet).1", keyFiles: [key], join: [], directory: dir.path, extra: ["--log-level", "info"])
        var nodes = [target]
        do {
            for i in 1...2 {
                nodes.append(
                    try MirrorProcess(
                        name: "other-\(i)", host: "\(subnet).\(i + 1)", keyFiles: [key], join: ["\(subnet).1:7946"],
                        directory: dir.path, extra: ["--log-level", "info"]))
            }
        } catch {
            for n in nodes { kill(n.pid, SIGKILL) }
            throw error
        }
        let formed = await poll(timeout: .seconds(15)) {
            for n in nodes { guard await n.status()?.alive == names else { return false } }
            return true
        }
        if formed == nil { for n in nodes { kill(n.pid, SIGKILL) } }
        try #require(formed != nil, "the three nodes did not form a cluster\n\(LoopbackCluster.logs(nodes))")
        return nodes
    }

    @Test func aFloodOfRandomAndReplayedDatagramsIsCountedAndChangesNothing() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let subnet = LoopbackCluster.subnet(21)
        let nodes = try await Self.cluster(subnet, key: key, dir: dir)
        defer { for n in nodes { kill(n.pid, SIGKILL) } }
        let target = nodes[0]
        let before = try #require(await MetricsScrape.fetch(from: target.statusAddress), "no /metrics")
        let rssBefore = RSSSampler.read(pid: target.pid, field: "VmRSS") ?? 0

        // The attacker sits on another loopback address. It holds the key
        // only to make the one datagram it replays: captured traffic, which
        // is what a host on the path without the key can send again.
        let attacker = try GossipImpostor(name: "replayer", host: "\(subnet).9", keyFile: key)
        let captured = attacker.sealedGossip([])
        let sampler = RSSSampler(pid: target.pid, killAboveKiB: Self.safetyCapKiB)
        let sampling = Task { await sampler.run(every: .milliseconds(50)) }
        let watch = MembershipWatch(hosts: nodes, names: Self.names)
        let watching = Task { await watch.run() }

        let flood = DatagramFlood(perSecond: 10_000, duration: .seconds(5))
        let sent = await Task.detached { flood.run(attacker, to: SWIM.Endpoint(host: target.host, port: 7946), replaying: captured) }
            .value
        // Two more seconds of watching: a member lost to the flood would be suspected by now.
        try await Task.sleep(for: .seconds(2))
        await watch.stop()
        await watching.value
        let samples = await { sampling.cancel(); return await sampling.value }()

        let after = try #require(await MetricsScrape.fetch(from: target.statusAddress), "no /metrics after the flood")
        let unauthenticated = after.rejected("unauthenticated") - before.rejected("unauthenticated")
        let replayed = after.rejected("replayed") - before.rejected("replayed")
        let anomalies = await watch.anomalies
        let rounds = await watch.observations
        print(
            "datagram flood: \(sent.random) random and \(sent.replayed) replayed datagrams in \(sent.took) (\(sent.dropped) not sent);"
                + " rejected \(unauthenticated) unauthenticated, \(replayed) replayed;"
                + " VmRSS \(rssBefore >> 10) MiB before, peak \(samples.peakKiB >> 10) MiB;"
                + " \(rounds) membership rounds, \(anomalies.count) views with a member suspected: \(anomalies.prefix(3))")
        // The kernel drops what the node cannot read in time, so not every
        // datagram sent is counted; thousands of each must be.
        #expect(unauthenticated >= 1000, "random datagrams were not counted as unauthenticated")
        #expect(replayed >= 1000, "replayed datagrams were not counted as replayed")
        #expect(after.rejected("malformed") == before.rejected("malformed"), "a random or replayed datagram was decoded")
        // A flood faster than the node opens datagrams makes the kernel drop
        // probes and acks with it, so a member may be suspected for a moment
        // (and refute); none may be declared dead.
        let losses = await watch.losses
        #expect(losses.isEmpty, "a member was declared dead during the flood: \(losses.prefix(5))")
        #expect(!samples.killed, "the node passed \(Self.safetyCapKiB >> 10) MiB and was killed")
        #expect(samples.peakKiB < Self.rssLimitKiB, "peak VmRSS \(samples.peakKiB) KiB is not under \(Self.rssLimitKiB) KiB")
        for n in nodes { #expect(n.isRunning, "\(n.name) died\n\(String(n.log.suffix(3000)))") }
        let (status, _) = try await HTTPGet.curl("http://\(target.registryAddress)/v2/")
        #expect(status == 200, "the registry port stopped answering")
    }

    @Test func absurdCountersAndPayloadsFromAMemberWithTheKeyAreRefused() async throws {
        // Mallory holds the key and is an honest-looking member: it answers probes.
        let cluster = try await MalloryCluster.start(subnet: 22)
        defer { cluster.stop() }
        let (nodes, target, to, mallory) = (cluster.nodes, cluster.target, cluster.to, cluster.mallory)
        mallory.gossip([.alive(mallory.state(incarnation: 1))], to: to)
        let joined = await poll(timeout: .seconds(10)) { await target.status()?.state(of: "mallory") == "alive" }
        try #require(joined != nil, "the target did not take mallory as a member\n\(LoopbackCluster.logs(nodes))")
        let view = try #require(await target.status())
        let before = try #require(await MetricsScrape.fetch(from: target.statusAddress))
        func incarnation(_ name: String, in view: StatusSnapshot) -> UInt64 { view.members.first { $0.name == name }?.incarnation ?? 0 }
        func state(_ name: String, incarnation: UInt64) -> SWIM.MemberState? {
            guard let member = view.members.first(where: { $0.name == name }),
                let endpoint = SWIM.Endpoint(parsing: member.address)
            else { return nil }
            return SWIM.MemberState(name: name, endpoint: endpoint, incarnation: incarnation, status: .alive, metadata: [:], payloadGeneration: 0)
        }

        let sampler = RSSSampler(pid: target.pid, killAboveKiB: Self.safetyCapKiB)
        let sampling = Task { await sampler.run(every: .milliseconds(50)) }
        let watch = MembershipWatch(hosts: nodes, names: Self.names, othersAllowed: true)
        let watching = Task { await watch.run() }

        // Refused by the wire codec (over the ceilings of `SWIM.Limits`): the whole packet is malformed.
        let step = SWIM.Limits.maximumIncarnationStep
        let ceiling = SWIM.Limits.maximumIncarnation
        var absurd: [SWIM.Update] = [
            .suspect(name: "other-1", incarnation: .max, from: "mallory"),
            .dead(name: "other-2", incarnation: .max, from: "mallory"),
            .suspect(name: "target", incarnation: .max, from: "mallory"),
            .alive(mallory.state(incarnation: .max)),
            .alive(mallory.state(incarnation: ceiling + 1)),
            .alive(mallory.state(incarnation: 2, generation: .max)),
            .payloadDelta(owner: "mallory", base: 0, generation: .max, delta: [UInt8](repeating: 7, count: 100)),
        ]
        if let o1 = state("other-1", incarnation: .max) { absurd.append(.alive(o1)) }
        // Plausible to the codec, but a jump beyond `maximumIncarnationStep`: dropped and counted as implausible.
        var implausible: [SWIM.Update] = [
            .suspect(name: "other-1", incarnation: incarnation("other-1", in: view) + step + 1, from: "mallory"),
            .suspect(name: "target", incarnation: incarnation("target", in: view) + step + 1, from: "mallory"),
            .dead(name: "target", incarnation: incarnation("target", in: view) + step + 1, from: "mallory"),
            .alive(mallory.state(incarnation: 1 + step + 1)),
        ]
        if let o2 = state("other-2", incarnation: incarnation("other-2", in: view) + step + 1) { implausible.append(.alive(o2)) }
        for update in absurd + implausible {
            mallory.gossip([update], to: to)
            try await Task.sleep(for: .milliseconds(20))
        }

        // A payload of 8 MiB, eight times what a member may hold
        // (`SWIM.Limits.maximumPayloadSize`), in a push/pull the codec
        // accepts: answered, but the payload is not kept.
        let huge = SWIM.Payload(generation: 7, bytes: (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let pushPull = SWIM.StreamMessage.pushPull(
            join: false, from: SWIM.Sender(name: "mallory", endpoint: mallory.endpoint),
            members: [mallory.state(incarnation: 1, generation: 7)], payload: huge)
        let answer = try await Task.detached { try mallory.exchange(pushPull, with: to) }.value
        #expect(answer != nil, "the target did not answer an honest-looking push/pull")
        // A stream announcing a message of 4 GiB: refused at its first chunk.
        var chunk = [UInt8(0x21)] + withUnsafeBytes(of: UInt64.random(in: 1 ... .max).bigEndian) { Array($0) }
        chunk += [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16 << 10)
        let closed = try await Task.detached { try mallory.sendChunks([chunk], to: to) }.value
        #expect(closed, "the target did not close a stream announcing 4 GiB")

        let expectedMalformed = absurd.count + 1
        let counted = await poll(timeout: .seconds(5)) {
            guard let now = await MetricsScrape.fetch(from: target.statusAddress) else { return false }
            return now.rejected("malformed") - before.rejected("malformed") >= expectedMalformed
                && now.rejected("implausible") - before.rejected("implausible") >= implausible.count
        }
        try await Task.sleep(for: .seconds(2))  // time for any wrong belief to show in a view
        await watch.stop()
        await watching.value
        let samples = await { sampling.cancel(); return await sampling.value }()
        let after = try #require(await MetricsScrape.fetch(from: target.statusAddress))
        let malformed = after.rejected("malformed") - before.rejected("malformed")
        let implausibleCount = after.rejected("implausible") - before.rejected("implausible")
        print(
            "absurd member: \(absurd.count) absurd updates and a 4 GiB stream -> \(malformed) malformed;"
                + " \(implausible.count) jumps beyond the step -> \(implausibleCount) implausible; 8 MiB payload sent;"
                + " VmRSS peak \(samples.peakKiB >> 10) MiB; mallory answered \(mallory.pingsAnswered) pings")
        #expect(counted != nil, "refusals not counted: \(malformed) malformed of \(expectedMalformed), \(implausibleCount) implausible of \(implausible.count)")

        // Views: every real member alive at (about) the incarnation it had,
        // mallory within a step of what it announced, its payload not kept.
        let end = try #require(await target.status())
        for name in Self.names {
            let was = incarnation(name, in: view)
            let now = incarnation(name, in: end)
            #expect(now >= was && now <= was + 10, "\(name) moved from incarnation \(was) to \(now) in the target's view")
        }
        #expect(incarnation("mallory", in: end) <= 10, "mallory's incarnation is \(incarnation("mallory", in: end))")
        #expect(end.gossip.rejectedImplausible >= implausible.count)
        let losses = await watch.losses
        #expect(losses.isEmpty, "a real member was declared dead: \(losses.prefix(5))")
        #expect(!samples.killed)
        #expect(samples.peakKiB < Self.rssLimitKiB, "peak VmRSS \(samples.peakKiB) KiB is not under \(Self.rssLimitKiB) KiB")
        for n in nodes { #expect(n.isRunning, "\(n.name) died\n\(String(n.log.suffix(3000)))") }
        for n in nodes.dropFirst() {
            let theirs = await n.status()
            #expect(incarnation("target", in: theirs ?? end) <= incarnation("target", in: view) + 10, "\(n.name) holds the target refuted far up")
        }
    }
}

/// Random datagrams and one captured sealed datagram sent again and again,
/// paced at `perSecond` of each, from the attacker's socket.
struct DatagramFlood: Sendable {
    var perSecond: Int
    var duration: Duration

    struct Outcome: Sendable {
        var random = 0
        var replayed = 0
        var dropped = 0
        var took = Duration.zero
    }

    func run(_ attacker: GossipImpostor, to target: SWIM.Endpoint, replaying captured: [UInt8]) -> Outcome {
        var generator = SystemRandomNumberGenerator()
        // Garbage of every length a datagram may have on a LAN, made in advance.
        let garbage: [[UInt8]] = (0..<512).map { _ in
            (0..<Int.random(in: 1...1400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        var outcome = Outcome()
        let slot = Duration.milliseconds(10)
        let perSlot = max(1, perSecond / 100)
        let start = ContinuousClock.now
        var next = start
        while ContinuousClock.now - start < duration {
            for i in 0..<perSlot {
                if attacker.send(garbage[(outcome.random + i) % garbage.count], to: target) { outcome.random += 1 } else { outcome.dropped += 1 }
                if attacker.send(captured, to: target) { outcome.replayed += 1 } else { outcome.dropped += 1 }
            }
            next += slot
            let wait = next - ContinuousClock.now
            if wait > .zero { usleep(UInt32(wait.components.attoseconds / 1_000_000_000_000)) }
        }
        outcome.took = ContinuousClock.now - start
        return outcome
    }
}
