import Catalog
import Foundation
import Logging
import TestSupport

@testable import Gossip

/// The harness of the scale benchmark: many lightweight members in one
/// process, each a real `SWIM.Instance` with its own address, around one real
/// `gossip-mirror run` node.
///
/// What crosses the network is exactly what members exchange: between a
/// harness member and the real node, sealed datagrams and sealed chunked
/// streams on the member's own UDP socket and TCP listener (`NIOTransport`,
/// `MessageSecurity`, `StreamChunk`: the node's own code for them). Among
/// harness members, the same `SWIM.Packet`s and `StreamMessage`s are handed
/// over in memory, unsealed, and payloads fetched from one another share
/// their storage: that traffic is not what is measured, and this is what
/// lets 999 members, each holding everyone's 24 KiB summary, fit in one
/// process on a machine that also runs the node.
///
/// One actor owns every instance; a timer loop ticks each when its
/// `nextDeadline` passes (as `GossipNode` does), and a queue carries the
/// in-memory deliveries, so that no instance is handled re-entrantly.
actor LightCluster {
    struct Member {
        var instance: SWIM.Instance
        let endpoint: SWIM.Endpoint
        var summary: LightSummary
    }

    /// Work waiting in memory: an event for a member, or a stream exchange
    /// between two members.
    enum Delivery {
        case event(Int, SWIM.Event)
        case exchange(client: Int, server: Int, SWIM.StreamMessage)
    }

    /// Traffic with the real node, as the harness saw it.
    struct Traffic: Sendable {
        var datagramsSent = 0, datagramBytesSent = 0, datagramsReceived = 0, datagramBytesReceived = 0
        var streamsOpened = 0, streamsServed = 0, streamBytesSent = 0, streamBytesReceived = 0
        var rejected = 0, streamsFailed = 0
    }

    let settings: SWIM.Settings
    let real: SWIM.Endpoint
    private(set) var members: [Member] = []
    private var index: [SWIM.Endpoint: Int] = [:]
    private var transports: [NIOTransport] = []
    private var security: MessageSecurity
    private var queue: [Delivery] = []
    private var answers: [UInt64: SWIM.StreamMessage?] = [:]
    private var nextStreamID: UInt64 = 0
    private let origin = ContinuousClock.now
    private(set) var traffic = Traffic()
    private(set) var stopped = false
    let logger: Logger

    init(settings: SWIM.Settings, real: SWIM.Endpoint, keyring: Keyring, logger: Logger) {
        self.settings = settings
        self.real = real
        self.logger = logger
        self.security = MessageSecurity(
            label: "gossip-mirror", keyring: keyring, replayWindowMilliseconds: 120_000,
            notBefore: GossipNode.wallClockMilliseconds)
    }

    var now: SWIM.Instant { SWIM.Instant(nanoseconds: UInt64(max(0, (ContinuousClock.now - origin).nanoseconds))) }

    /// Adds a member at `endpoint` advertising `summary`; member 0 is the seed of the others.
    func add(endpoint: SWIM.Endpoint, summary: LightSummary, merge: @escaping SWIM.PayloadMerge, seed: UInt64) {
        let i = members.count
        var instance = SWIM.Instance(
            settings: settings, name: String(format: "light-%04d", i), endpoint: endpoint,
            metadata: ["registry": "\(endpoint.host):5000"], identity: .generate(), hasSeeds: i > 0, merge: merge, seed: seed, now: now)
        _ = instance.handle(.localPayload(summary.payload, delta: nil), at: now)
        members.append(Member(instance: instance, endpoint: endpoint, summary: summary))
        index[endpoint] = i
        transports.append(NIOTransport(bindAddress: endpoint, logger: logger))
        handle(i, .tick)
    }

    func transport(_ i: Int) -> NIOTransport { transports[i] }

    func stop() { stopped = true }

    // MARK: Driving

    /// Ticks every member whose deadline has passed, then empties the queue.
    func step() {
        let t = now
        for i in members.indices where members[i].instance.nextDeadline <= t { handle(i, .tick) }
        drain()
    }

    private func drain() {
        var k = 0
        while k < queue.count {
            switch queue[k] {
            case .event(let i, let event): handle(i, event)
            case .exchange(let client, let server, let message): exchange(client: client, server: server, message)
            }
            k += 1
        }
        queue.removeAll(keepingCapacity: true)
    }

    /// Hands one event to member `i` and carries out what it asks for.
    func handle(_ i: Int, _ event: SWIM.Event) {
        let directives = members[i].instance.handle(event, at: now)
        for directive in directives { carryOut(directive, from: i) }
    }

    private func carryOut(_ directive: SWIM.Directive, from i: Int) {
        switch directive {
        case .sendPacket(let packet, let endpoint):
            if let j = index[endpoint] {
                queue.append(.event(j, .packet(packet, from: members[i].endpoint)))
            } else if endpoint == real {
                sendToReal(WireCodec.encode(packet), from: i)
            }
        case .openStream(let message, let endpoint):
            if let j = index[endpoint] {
                queue.append(.exchange(client: i, server: j, message))
            } else if endpoint == real {
                traffic.streamsOpened += 1
                let request = sealChunks(WireCodec.encode(message), direction: .request)
                Task { await self.exchangeWithReal(request, message, from: i) }
            } else {
                queue.append(.event(i, .streamFailed(message, to: endpoint)))
            }
        case .replyStream(let id, let message):
            if answers.keys.contains(id) { answers[id] = .some(message) }
        case .resolveSeeds:
            queue.append(.event(i, .join([members[0].endpoint])))
        case .notify:
            break
        }
    }

    /// A stream between two harness members, answered at once.
    private func exchange(client: Int, server: Int, _ message: SWIM.StreamMessage) {
        let id = newStreamID()
        answers[id] = .some(nil)
        handle(server, .streamRequest(id: id, message, from: members[client].endpoint))
        if let reply = answers.removeValue(forKey: id) ?? nil {
            queue.append(.event(client, .streamReply(reply, from: members[server].endpoint)))
        } else {
            queue.append(.event(client, .streamFailed(message, to: members[server].endpoint)))
        }
    }

    private func newStreamID() -> UInt64 {
        nextStreamID += 1
        return nextStreamID
    }

    // MARK: Application events

    /// Member `i` adds one digest (random, from `seed`) to its summary and
    /// publishes it (the delta, as `SummaryBridge` does); returns the digest.
    func addDigest(to i: Int, seed: UInt64) -> Digest {
        var generator = SplitMix64(seed: seed)
        let key = LightSummary.randomKey(&generator)
        let (payload, delta) = members[i].summary.add(key)
        handle(i, .localPayload(payload, delta: delta))
        drain()
        return Digest(sha256: key.bytes)!
    }

    /// Whether every member sees every other alive and holds every other's summary.
    func formed(expecting count: Int) -> Bool {
        members.allSatisfy { m in m.instance.activeMemberCount >= count - 1 && m.instance.payloads.count >= count - 1 }
    }

    func name(of i: Int) -> String { members[i].instance.myself.name }

    // MARK: The real node: datagrams

    private func sendToReal(_ body: [UInt8], from i: Int) {
        let sealed = security.seal(body, at: GossipNode.wallClockMilliseconds)
        guard transports[i].send(sealed, to: real) == nil else { return }
        traffic.datagramsSent += 1
        traffic.datagramBytesSent += sealed.count
    }

    /// A datagram that reached member `i` from the network.
    func received(_ datagram: [UInt8], by i: Int, from source: SWIM.Endpoint) {
        traffic.datagramsReceived += 1
        traffic.datagramBytesReceived += datagram.count
        guard let body = try? security.open(datagram, at: GossipNode.wallClockMilliseconds),
            let packet = try? WireCodec.decodePacket(body)
        else {
            traffic.rejected += 1
            return
        }
        handle(i, .packet(packet, from: source))
        drain()
    }

    // MARK: The real node: streams

    /// `message` as sealed chunks of a new exchange (nil if it is over the limit).
    func sealChunks(_ message: [UInt8], direction: StreamChunk.Direction, streamID: UInt64 = .random(in: .min ... .max))
        -> (streamID: UInt64, frames: [[UInt8]])?
    {
        guard let frames = security.sealChunks(message, direction: direction, streamID: streamID, at: GossipNode.wallClockMilliseconds)
        else { return nil }
        traffic.streamBytesSent += frames.reduce(0) { $0 + $1.count }
        return (streamID, frames)
    }

    /// Opens one received chunk (nil, and counted, if it does not open or is not fresh).
    func openChunk(_ sealed: [UInt8]) -> [UInt8]? {
        traffic.streamBytesReceived += sealed.count
        guard let chunk = try? security.open(sealed, at: GossipNode.wallClockMilliseconds) else {
            traffic.rejected += 1
            return nil
        }
        return chunk
    }

    /// The real node's stream request to member `i`, answered by its instance.
    func answer(_ request: [UInt8], to i: Int, from source: SWIM.Endpoint, streamID: UInt64) -> [[UInt8]]? {
        guard let message = try? WireCodec.decodeStreamMessage(request) else {
            traffic.rejected += 1
            return nil
        }
        traffic.streamsServed += 1
        let id = newStreamID()
        answers[id] = .some(nil)
        handle(i, .streamRequest(id: id, message, from: source))
        drain()
        guard let reply = answers.removeValue(forKey: id) ?? nil else { return nil }
        return sealChunks(WireCodec.encode(reply), direction: .answer, streamID: streamID)?.frames
    }

    /// An answer (or the failure) of an exchange member `i` opened with the real node.
    func exchangeEnded(_ answer: [UInt8]?, for request: SWIM.StreamMessage, member i: Int) {
        if let answer, let reply = try? WireCodec.decodeStreamMessage(answer) {
            handle(i, .streamReply(reply, from: real))
        } else {
            traffic.streamsFailed += 1
            handle(i, .streamFailed(request, to: real))
        }
        drain()
    }
}
