import Logging
import TestSupport
import Testing

@testable import Gossip

/// Real `GossipNode`s over the in-memory transport: everything the node does
/// between the wire and the instance (sealing and opening with the keyring,
/// refusing and counting replayed and forged messages, answering streams,
/// leaving, key rotation), without sockets.
@Suite struct GossipNodeTests {
    typealias Cluster = InMemoryCluster

    @Test func twoNodesJoinOverSealedStreamsAndSeeEachOtherAlive() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        try await cluster.running([a, b]) {
            try await cluster.waitUntilAlive([a, b])
            // The join made both alive over streams; probes follow.
            try await cluster.waitForTraffic(to: a)
            try await cluster.waitForTraffic(to: b)
            let (sa, sb) = (await a.statistics, await b.statistics)
            #expect(sb.streamsOpened >= 1, "b joined through a stream exchange")
            #expect(sa.streamsAccepted >= 1)
            #expect(sa.packetsReceived > 0 && sb.packetsReceived > 0)
            #expect(sa.rejected == 0)
            #expect(sb.rejected == 0)
            #expect(cluster.network.datagrams.allSatisfy { $0.bytes.count >= Envelope.overhead }, "every datagram is sealed")
        }
    }

    @Test func aNodeWithAnotherKeyIsRefusedAndCounted() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let intruder = try cluster.node("intruder", at: 9, seeds: [1], keyring: Keyring([ClusterKey.generate()]))
        try await cluster.running([a, intruder]) {
            try #require(await poll(timeout: .seconds(5)) {
                await a.statistics.rejectedUnauthenticated >= 1
            } != nil, "a counts the intruder's join as unauthenticated")
            #expect(await a.members.map(\.name) == ["node-a"])
            #expect(await intruder.members.map(\.name) == ["intruder"])
        }
    }

    @Test func replayedAndForgedDatagramsAreRefusedAndCounted() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        try await cluster.running([a, b]) {
            try await cluster.waitUntilAlive([a, b])
            try await cluster.waitForTraffic(to: a)
            let captured = try #require(cluster.network.datagrams.last { $0.to == a.advertisedEndpoint })
            let before = await a.statistics

            // The same sealed bytes again: refused as a replay.
            cluster.network.deliver(captured.bytes, from: captured.from, to: captured.to)
            try #require(await poll(timeout: .seconds(5)) {
                await a.statistics.rejectedReplayed == before.rejectedReplayed + 1
            } != nil, "the replay is counted")
            // One bit changed: no key opens it.
            var forged = captured.bytes
            forged[forged.count / 2] ^= 0x01
            cluster.network.deliver(forged, from: captured.from, to: captured.to)
            try #require(await poll(timeout: .seconds(5)) {
                await a.statistics.rejectedUnauthenticated == before.rejectedUnauthenticated + 1
            } != nil, "the forgery is counted")
            #expect(await a.members.filter { $0.status == .alive }.count == 2, "nothing refused changed the view")
        }
    }

    /// A node started after a datagram was sealed refuses it, although its
    /// replay guard has never seen it (issue 9, finding 10).
    @Test func aRestartedNodeRefusesWhatWasSentBeforeItStarted() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        let captured = try await cluster.running([a, b]) {
            try await cluster.waitUntilAlive([a, b])
            try await cluster.waitForTraffic(to: a)
            return try #require(cluster.network.datagrams.last { $0.to == a.advertisedEndpoint })
        }
        try await Task.sleep(for: .milliseconds(5))  // a wall-clock millisecond must pass
        let restarted = try cluster.node("node-a", at: 1)
        try await cluster.running([restarted]) {
            cluster.network.deliver(captured.bytes, from: captured.from, to: captured.to)
            try #require(await poll(timeout: .seconds(5)) {
                await restarted.statistics.rejectedReplayed == 1
            } != nil, "the old datagram is refused")
            #expect(await restarted.members.map(\.name) == ["node-a"])
        }
    }

    @Test func payloadsTravelInStreamAnswers() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        // Larger than one stream chunk, so the answer travels in several.
        let payload = SWIM.Payload(generation: 7, bytes: (0..<50_000).map { UInt8(truncatingIfNeeded: $0) })
        try await cluster.running([a, b]) {
            try await cluster.waitUntilAlive([a, b])
            await a.publish(payload, delta: nil)
            try #require(await poll(timeout: .seconds(5)) { await b.payload(of: "node-a")?.bytes == payload.bytes } != nil, "b holds a's payload")
            #expect(await a.statistics.streamsAccepted >= 2, "the payload came in an answer from a")
        }
    }

    @Test func aGracefulLeaveEndsRunAndIsSeenAsLeft() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        try await cluster.running([b]) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await a.run() }
                try await a.waitUntilBound()
                try await cluster.waitUntilAlive([a, b])
                await a.leave()
                // run() returns once the leave is done.
                try await group.next()
            }
            try #require(await poll(timeout: .seconds(5)) {
                await b.members.first { $0.name == "node-a" }?.status == .left
            } != nil, "b sees a left")
        }
    }

    /// Install, use, remove (`security.md`): the members keep talking at
    /// every step, and once the old key is removed, it opens nothing.
    @Test func keyRotationKeepsTheClusterTogether() async throws {
        let cluster = InMemoryCluster()
        let old = cluster.key
        let next = ClusterKey.generate()
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        try await cluster.running([a, b]) {
            try await cluster.waitUntilAlive([a, b])
            for node in [a, b] { await node.installKey(next) }
            try await a.useKey(next)
            try await cluster.waitForTraffic(to: b)
            try await b.useKey(next)
            try await cluster.waitForTraffic(to: a)
            for node in [a, b] { try await node.removeKey(old) }
            try await cluster.waitForTraffic(to: a)
            try await cluster.waitForTraffic(to: b)
            #expect(await a.keys == [next])
            #expect(await b.keys == [next])
            #expect(await a.statistics.rejected == 0)
            #expect(await b.statistics.rejected == 0)
            try await cluster.waitUntilAlive([a, b])

            // A node that holds only the old key is now refused.
            let late = try cluster.node("node-late", at: 3, seeds: [1], keyring: Keyring([old]))
            try await cluster.running([late]) {
                try #require(await poll(timeout: .seconds(5)) {
                    await a.statistics.rejectedUnauthenticated >= 1
                } != nil, "a refuses the old key")
            }
            #expect(await a.members.map(\.name) == ["node-a", "node-b"])
        }
    }
}
