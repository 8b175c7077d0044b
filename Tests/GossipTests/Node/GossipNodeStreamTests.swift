import TestSupport
import Testing

@testable import Gossip

/// Inbound streams of a real node over the in-memory transport: caps,
/// first-frame deadline, chunks refused and counted, and an answer read the
/// way a member reads it. Also the timer loop: asleep while idle, woken by
/// an event that brings its deadline forward.
@Suite struct GossipNodeStreamTests {
    static let stranger = InMemoryCluster.endpoint(50)

    /// Reads frames until the node closes the connection.
    static func readUntilClosed(_ connection: any GossipConnection) async throws -> [[UInt8]] {
        try await connection.withFrames { frames in
            var received: [[UInt8]] = []
            while let frame = try await frames.receive() { received.append(frame) }
            return received
        }
    }

    @Test func inboundStreamsAreCappedAndSilentOnesClosedAtTheFirstFrameDeadline() async throws {
        var cluster = InMemoryCluster()
        cluster.streamLimits = .init(maximumInbound: 4, maximumPerAddress: 2, firstFrameTimeout: .milliseconds(200))
        // Far longer than the test waits: only the first-frame deadline can close them.
        cluster.streamTimeout = .seconds(60)
        let a = try cluster.node("node-a", at: 1)
        try await cluster.running([a]) {
            let connections = try (0..<3).map { _ in try cluster.network.connect(from: Self.stranger, to: a.advertisedEndpoint) }
            try await withThrowingTaskGroup(of: [[UInt8]].self) { group in
                for c in connections { group.addTask { try await Self.readUntilClosed(c) } }
                for try await frames in group { #expect(frames.isEmpty) }
            }
            try #require(await poll(timeout: .seconds(5)) {
                let s = await a.statistics
                return s.streamsRefused == 1 && s.streamsAccepted == 2 && s.streamsFailed == 2
            } != nil, "the node counts what it did")
            // The slots are free again.
            #expect(await a.admission.open == 0)
        }
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var what: String
        var frames: @Sendable (InMemoryCluster) -> [[UInt8]]
        var reason: Rejection.Reason
        var testDescription: String { what }
    }

    static let refusals: [Refused] = [
        Refused(what: "bytes no key opens", frames: { _ in [[UInt8](repeating: 7, count: 100)] }, reason: .unauthenticated),
        Refused(
            what: "an answer chunk sent as a request",
            frames: { c in StreamChunk.split([1, 2, 3], direction: .answer, streamID: 1).map(c.sealed) }, reason: .malformed),
        Refused(
            what: "a whole message in the old single-frame format",
            frames: { c in [c.sealed(WireCodec.encode(SWIM.StreamMessage.payloadRequest(owner: "node-a", generation: 0)))] },
            reason: .malformed),
        Refused(
            what: "a request that does not decode",
            frames: { c in StreamChunk.split([9, 9, 9], direction: .request, streamID: 1).map(c.sealed) }, reason: .malformed),
    ]

    @Test(arguments: refusals) func chunksThatDoNotOpenOrFitAreRefusedAndCounted(_ refused: Refused) async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        try await cluster.running([a]) {
            let connection = try cluster.network.connect(from: Self.stranger, to: a.advertisedEndpoint)
            let answer = try await connection.withFrames { frames in
                try await frames.send(refused.frames(cluster))
                return try await frames.receive()
            }
            #expect(answer == nil, "no answer, the node closes the stream")
            try #require(await poll(timeout: .seconds(5)) {
                let s = await a.statistics
                return s.rejected == 1 && Self.count(of: refused.reason, in: s) == 1
            } != nil, "the refusal is counted")
        }
    }

    static func count(of reason: Rejection.Reason, in s: GossipStatistics) -> Int {
        switch reason {
        case .unauthenticated: s.rejectedUnauthenticated
        case .replayed: s.rejectedReplayed
        case .malformed: s.rejectedMalformed
        case .implausible: s.rejectedImplausible
        case .capacity: s.rejectedCapacity
        }
    }

    /// A request in chunks gets the instance's answer in chunks of the same
    /// exchange (the interpreter's `.replyStream`).
    @Test func aRequestIsAnsweredInChunksOfTheSameExchange() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let payload = SWIM.Payload(generation: 3, bytes: [UInt8](repeating: 5, count: 40_000))
        try await cluster.running([a]) {
            await a.publish(payload, delta: nil)
            let request = WireCodec.encode(SWIM.StreamMessage.payloadRequest(owner: "node-a", generation: 3))
            let connection = try cluster.network.connect(from: Self.stranger, to: a.advertisedEndpoint)
            let frames = try await connection.withFrames { frames in
                try await frames.send(StreamChunk.split(request, direction: .request, streamID: 99).map(cluster.sealed))
                var received: [[UInt8]] = []
                while let frame = try await frames.receive() { received.append(frame) }
                return received
            }
            #expect(frames.count == 3, "40 KB answer in 16 KiB chunks")
            var reader = MessageSecurity(
                label: "gossip-mirror", keyring: try Keyring([cluster.key]), replayWindowMilliseconds: 120_000, notBefore: 0)
            var assembler = StreamAssembler(direction: .answer, streamID: 99)
            var message: [UInt8]?
            for frame in frames { message = try assembler.add(try reader.open(frame, at: GossipNode.wallClockMilliseconds)) }
            let answer = try WireCodec.decodeStreamMessage(try #require(message))
            #expect(answer == .payloadResponse(owner: "node-a", payload: payload))
            #expect(await a.pendingAnswers.isEmpty)
        }
    }

    /// Timers an hour apart: after joining, nothing is due for an hour.
    static let idle: SWIM.Settings = {
        var s = InMemoryCluster.fast
        s.probeInterval = .seconds(3600)
        s.pushPullInterval = .seconds(3600)
        s.reconnectInterval = .seconds(3600)
        s.seedRefreshInterval = .seconds(3600)
        return s
    }()

    /// Waits until `node` has nothing to gossip and its timer sleeps until
    /// a deadline more than a minute away.
    static func waitUntilIdle(_ node: GossipNode) async throws {
        try #require(await poll(timeout: .seconds(5)) {
            let pending = await node.instance.pendingBroadcasts
            let (target, now) = (await node.timerTarget, await node.now)
            return pending == 0 && target > now + .seconds(60)
        } != nil, "\(node.configuration.name) idle")
    }

    @Test func anIdleNodeSleepsUntilItsNextDeadlineAndAnEarlierOneWakesIt() async throws {
        var cluster = InMemoryCluster()
        cluster.settings = Self.idle
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        try await cluster.running([a, b]) {
            try await cluster.waitUntilAlive([a, b])
            for node in [a, b] { try await Self.waitUntilIdle(node) }

            // Idle: not one wake-up in a second (the 25 ms loop woke 40 times).
            let before = (await a.timerWakeups, await b.timerWakeups)
            try await Task.sleep(for: .seconds(1))
            #expect(await a.timerWakeups == before.0)
            #expect(await b.timerWakeups == before.1)

            // A new payload brings a's gossip deadline forward to 40 ms: the
            // timer must wake for it, or b would hear of it in an hour.
            let payload = SWIM.Payload(generation: 2, bytes: [1, 2, 3])
            await a.publish(payload, delta: nil)
            try #require(await poll(timeout: .seconds(5)) { await b.payload(of: "node-a") == payload } != nil, "b holds a's new payload")
        }
    }
}
