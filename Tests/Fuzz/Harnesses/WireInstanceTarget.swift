import Catalog
import Gossip

/// The wire codec of every message, into `SWIM.Instance`: what a member
/// holding the cluster key can make a node do.
///
/// The input is a script of events (see `WireInstanceFuzzing.Operation`).
/// Packets and stream messages are given as bytes and decoded with
/// `WireCodec`; whatever decodes is fed to one instance with
/// `handle(_:at:)`, between ticks at fuzzer-chosen times and local changes
/// (payload, metadata, leave, join). Properties:
/// - every decoded message encodes back to exactly the bytes it came from;
/// - everything the instance sends decodes back to what it sent, and each
///   packet fits the packet budget once sealed;
/// - the instance's own incarnation never decreases;
/// - and nothing traps.
extension FuzzTarget {
    static let wireInstance = FuzzTarget(
        name: "wire-instance",
        summary: "WireCodec packets and stream messages into SWIM.Instance.handle with ticks and local events",
        seeds: WireInstanceFuzzing.seeds,
        run: WireInstanceFuzzing.run)
}

enum WireInstanceFuzzing {
    enum Operation: UInt8, CaseIterable {
        case packet, streamRequest, streamReply, streamFailed, tick, localPayload, localMetadata, leave, join
    }

    static let myself = SWIM.Endpoint(host: "10.0.0.1", port: 7946)
    static let endpoints = [
        myself, SWIM.Endpoint(host: "10.0.0.2", port: 7946), SWIM.Endpoint(host: "10.0.0.3", port: 7946),
        SWIM.Endpoint(host: "fd00::4", port: 7000),
    ]

    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        var now = SWIM.Instant(nanoseconds: 1_000_000_000)
        // A small members cap, so that inputs reach it (`SWIM.Limits`).
        var settings = SWIM.Settings.lan
        settings.limits.maximumMembers = 8
        var instance = SWIM.Instance(
            settings: settings, name: "node-0", endpoint: myself, metadata: ["registry": "10.0.0.1:5000"],
            hasSeeds: true, merge: { base, delta in SummaryDelta.apply(delta, to: base) }, seed: 1, now: now)
        var streamID: UInt64 = 0
        while !input.isExhausted {
            let event: SWIM.Event
            let operation = Operation(rawValue: input.byte() % UInt8(Operation.allCases.count))!
            switch operation {
            case .packet:
                let chunk = input.chunk(maximum: WireCodec.maximumPacketSize)
                guard let packet = try? WireCodec.decodePacket(chunk) else { continue }
                let encoded = WireCodec.encode(packet)
                try require(encoded == chunk, "packet re-encodes to other bytes: \(packet)")
                event = .packet(packet, from: input.pick(endpoints))
            case .streamRequest, .streamReply, .streamFailed:
                let chunk = input.chunk()
                guard let message = try? WireCodec.decodeStreamMessage(chunk) else { continue }
                try require(WireCodec.encode(message) == chunk, "stream message re-encodes to other bytes: \(message)")
                let peer = input.pick(endpoints)
                streamID += 1
                switch operation {
                case .streamRequest: event = .streamRequest(id: streamID, message, from: peer)
                case .streamReply: event = .streamReply(message, from: peer)
                default: event = .streamFailed(message, to: peer)
                }
            case .tick:
                now = now + .milliseconds(Int64(input.integer(UInt32.self)))
                event = .tick
            case .localPayload:
                // The catalog's generations (wall-clock microseconds) stay
                // far below the wire's ceiling; the harness keeps to it.
                let generation = input.integer(UInt64.self) % (SWIM.Limits.maximumGeneration + 1)
                let payload = input.chunk(maximum: 4096)
                let delta = input.bool() ? input.chunk(maximum: 1024) : nil
                event = .localPayload(SWIM.Payload(generation: generation, bytes: payload), delta: delta)
            case .localMetadata:
                event = .localMetadata(metadata(&input))
            case .leave:
                event = .leave
            case .join:
                event = .join(endpoints.filter { _ in input.bool() })
            }
            let incarnation = instance.myself.incarnation
            let directives = instance.handle(event, at: now)
            try require(instance.myself.incarnation >= incarnation,
                    "own incarnation went from \(incarnation) to \(instance.myself.incarnation)")
            for directive in directives { try check(directive, settings: instance.settings) }
            try require(instance.allMembers.count <= settings.limits.maximumMembers,
                    "\(instance.allMembers.count) members known, over the cap of \(settings.limits.maximumMembers)")
        }
    }

    /// Metadata within the instance's contract: at most 512 bytes encoded,
    /// keys of lower-case letters (a key with `=` or NUL would not survive
    /// the `key=value` encoding), values of printable ASCII.
    private static func metadata(_ input: inout FuzzInput) -> SWIM.Metadata {
        var metadata: SWIM.Metadata = [:]
        for _ in 0..<input.byte() % 4 {
            let key = String(decoding: input.chunk(maximum: 16).map { 0x61 + $0 % 26 }, as: UTF8.self)
            let value = String(decoding: input.chunk(maximum: 100).map { 0x20 + $0 % 95 }, as: UTF8.self)
            if !key.isEmpty { metadata[key] = value }
        }
        return metadata
    }

    private static func check(_ directive: SWIM.Directive, settings: SWIM.Settings) throws(PropertyViolation) {
        switch directive {
        case .sendPacket(let packet, _):
            let encoded = WireCodec.encode(packet)
            try require((try? WireCodec.decodePacket(encoded)) == packet, "a sent packet decodes to something else: \(packet)")
            try require(encoded.count + Envelope.overhead <= settings.packetBudget,
                    "a sent packet takes \(encoded.count + Envelope.overhead) bytes sealed, over the budget")
        case .openStream(let message, _), .replyStream(_, let message):
            let encoded = WireCodec.encode(message)
            try require(encoded.count <= WireCodec.maximumStreamMessageSize, "a stream message of \(encoded.count) bytes")
            try require((try? WireCodec.decodeStreamMessage(encoded)) == message,
                    "a sent stream message decodes to something else: \(message)")
        case .resolveSeeds, .notify:
            break
        }
    }

    // MARK: Seeds

    static func seeds() -> [[UInt8]] {
        let a = SWIM.Sender(name: "node-a", endpoint: endpoints[1])
        let b = SWIM.Sender(name: "node-b", endpoint: endpoints[2])
        let stateA = SWIM.MemberState(
            name: "node-a", endpoint: endpoints[1], incarnation: 3, status: .alive,
            metadata: ["registry": "10.0.0.2:5000"], payloadGeneration: 1)
        let stateC = SWIM.MemberState(
            name: "node-c", endpoint: endpoints[3], incarnation: 1, status: .suspect, metadata: [:], payloadGeneration: 0)
        var base = BloomFilter(expectedCount: 10, generation: 1)
        base.insert(SummaryKey(tagKey: "docker.io/library/ubuntu:latest"))
        var next = base
        next.generation = 2
        next.insert(SummaryKey(tagKey: "docker.io/library/alpine:3"))
        let delta = SummaryDelta(from: base, to: next)!.serialized()

        func packet(_ message: SWIM.Message, _ updates: [SWIM.Update], from source: UInt8 = 1) -> [UInt8] {
            var builder = FuzzInput.Builder()
            builder.byte(Operation.packet.rawValue)
            builder.chunk(WireCodec.encode(SWIM.Packet(message, updates: updates)))
            builder.byte(source)
            return builder.bytes
        }
        func stream(_ operation: Operation, _ message: SWIM.StreamMessage, from source: UInt8 = 1) -> [UInt8] {
            var builder = FuzzInput.Builder()
            builder.byte(operation.rawValue)
            builder.chunk(WireCodec.encode(message))
            builder.byte(source)
            return builder.bytes
        }
        func tick(milliseconds: UInt32) -> [UInt8] {
            var builder = FuzzInput.Builder()
            builder.byte(Operation.tick.rawValue)
            builder.integer(milliseconds)
            return builder.bytes
        }
        let join = stream(.streamRequest, .pushPull(join: true, from: a, members: [stateA, stateC], payload: .init(generation: 1, bytes: base.serialized())))
        return [
            join + packet(.ping(sequence: 1, target: "node-0", from: a), [.alive(stateA)]) + tick(milliseconds: 1500),
            join + packet(.gossip(from: "node-a"), [.payloadDelta(owner: "node-a", base: 1, generation: 2, delta: delta)]),
            join + packet(.pingRequest(sequence: 9, target: b, from: a, wantsNack: true), []) + tick(milliseconds: 600),
            join + packet(.ack(sequence: 1, from: "node-a"), [.suspect(name: "node-0", incarnation: 0, from: "node-a")]),
            join + tick(milliseconds: 1000) + packet(.nack(sequence: 1, from: "node-a"), [.dead(name: "node-c", incarnation: 1, from: "node-a")]),
            stream(.streamReply, .pushPull(join: false, from: b, members: [stateA], payload: nil), from: 2)
                + stream(.streamReply, .payloadResponse(owner: "node-a", payload: .init(generation: 2, bytes: next.serialized())))
                + stream(.streamRequest, .payloadRequest(owner: "node-0", generation: 0)),
            [Operation.localPayload.rawValue, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 7, 1, 0, 1, 9, Operation.leave.rawValue]
                + tick(milliseconds: 30_000),
        ]
    }
}
