import Testing

@testable import Gossip

@Suite struct WireCodecTests {
    static let a = SWIM.Sender(name: "node-a", endpoint: .init(host: "10.0.0.1", port: 7946))
    static let b = SWIM.Sender(name: "node-b", endpoint: .init(host: "fd00::2", port: 7000))
    static let state = SWIM.MemberState(
        name: "node-c", endpoint: .init(host: "10.0.0.3", port: 7946), incarnation: 7, status: .alive,
        metadata: ["registry": "10.0.0.3:5000"], payloadGeneration: 42, publicKey: Array(repeating: 3, count: 32),
        signature: Array(repeating: 4, count: 64))
    static let signature = [UInt8](repeating: 5, count: 64)

    static let packets: [SWIM.Packet] = [
        .init(.ping(sequence: 1, target: "node-b", targetKey: 0x0102_0304_0506_0708, from: a), updates: [.alive(state)]),
        .init(.pingRequest(sequence: 2, target: b, targetKey: 9, from: a, wantsNack: true)),
        .init(.ack(sequence: 3, from: "node-b"), updates: [.suspect(name: "node-c", incarnation: 7, from: "node-a")]),
        .init(.nack(sequence: 4, from: "node-b"), updates: [.dead(name: "node-c", incarnation: 8, from: "node-c", signature: signature)]),
        .init(.nack(sequence: 5, from: "node-b"), updates: [.dead(name: "node-c", incarnation: 8, from: "node-b")]),
        .init(
            .gossip(from: "node-a"),
            updates: [.payloadDelta(owner: "node-a", base: 1, generation: 2, delta: [1, 2, 3], signature: signature)]),
    ]

    @Test func packetsRoundTrip() throws {
        for packet in Self.packets {
            let bytes = WireCodec.encode(packet)
            #expect(try WireCodec.decodePacket(bytes) == packet)
            let expected = WireCodec.encodedSize(of: packet.message) + packet.updates.map(WireCodec.encodedSize(of:)).reduce(0, +)
            #expect(bytes.count == expected, "encodedSize must be exact so packets stay within budget")
        }
    }

    @Test func streamMessagesRoundTrip() throws {
        let messages: [SWIM.StreamMessage] = [
            .pushPull(join: true, from: Self.a, members: [Self.state], payload: .init(generation: 3, bytes: [9, 9], signature: Self.signature)),
            .pushPull(join: false, from: Self.b, members: [], payload: nil),
            .payloadRequest(owner: "node-a", generation: 5),
            .payloadResponse(owner: "node-a", payload: .init(generation: 5, bytes: Array(repeating: 7, count: 300_000), signature: Self.signature)),
            .payloadResponse(owner: "node-a", payload: nil),
        ]
        for m in messages { #expect(try WireCodec.decodeStreamMessage(WireCodec.encode(m)) == m) }
    }

    @Test func everyTruncationIsRejected() {
        for packet in Self.packets {
            let bytes = WireCodec.encode(packet)
            for length in 0..<bytes.count {
                let prefix = Array(bytes.prefix(length))
                // A prefix may end exactly between updates and still be a valid,
                // shorter packet; it must never decode to the full packet or crash.
                if let decoded = try? WireCodec.decodePacket(prefix) { #expect(decoded != packet) }
            }
        }
        let stream = WireCodec.encode(SWIM.StreamMessage.pushPull(join: true, from: Self.a, members: [Self.state], payload: nil))
        for length in 0..<stream.count {
            #expect(throws: WireError.self) { try WireCodec.decodeStreamMessage(Array(stream.prefix(length))) }
        }
    }

    @Test func randomCorruptionNeverCrashes() {
        var rng = SWIM.Random(seed: 1)
        var decoded = 0
        for packet in Self.packets {
            let bytes = WireCodec.encode(packet)
            for _ in 0..<2_000 {
                var tampered = bytes
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    tampered[Int.random(in: 0..<tampered.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if (try? WireCodec.decodePacket(tampered)) != nil { decoded += 1 }
            }
        }
        // Some flips land in values (sequence numbers, ports, keys and
        // signatures) and still decode; the point is that none trapped.
        #expect(decoded < Self.packets.count * 2_000)
        for _ in 0..<5_000 {
            let noise = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? WireCodec.decodePacket(noise)
            _ = try? WireCodec.decodeStreamMessage(noise)
        }
    }

    @Test func oversizedAndForgedLengthsAreRejected() {
        #expect(throws: WireError.tooLarge(WireCodec.maximumPacketSize + 1)) {
            try WireCodec.decodePacket([UInt8](repeating: 1, count: WireCodec.maximumPacketSize + 1))
        }
        // A push/pull claiming four billion members in a few bytes.
        var forged: [UInt8] = [WireCodec.version, 1, 0]
        forged += [6] + Array("node-a".utf8) + [1, UInt8(ascii: "x"), 0x1E, 0x9A]
        forged += [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: WireError.truncated) { try WireCodec.decodeStreamMessage(forged) }
        // A payload claiming more than the stream limit.
        var payload: [UInt8] = [WireCodec.version, 3, 6] + Array("node-a".utf8) + [1]
        payload += [UInt8](repeating: 0, count: 8) + [0x7F, 0xFF, 0xFF, 0xFF]
        #expect(throws: WireError.self) { try WireCodec.decodeStreamMessage(payload) }
    }

    @Test func invalidFieldsAreRejected() {
        // Unknown version, unknown kind, empty name, port zero.
        #expect(throws: WireError.unknownVersion(9)) { try WireCodec.decodePacket([9, 1]) }
        #expect(throws: WireError.unknownKind(77)) { try WireCodec.decodePacket([WireCodec.version, 77]) }
        #expect(throws: WireError.invalid("member name")) { try WireCodec.decodePacket([WireCodec.version, 5, 0]) }
        var zeroPort = WireCodec.encode(SWIM.Packet(.ping(sequence: 1, target: "b", targetKey: 0, from: Self.a)))
        zeroPort[zeroPort.count - 2] = 0
        zeroPort[zeroPort.count - 1] = 0
        #expect(throws: WireError.invalid("endpoint")) { try WireCodec.decodePacket(zeroPort) }
        // Invalid UTF-8 in a name (refused as a name before it becomes a string).
        #expect(throws: WireError.invalid("member name")) { try WireCodec.decodePacket([WireCodec.version, 5, 2, 0xC3, 0x28]) }
    }
}

/// Everything a decoded message carries is strict (issue 9, findings 3 and
/// 12): names and hosts from a safe character set, metadata printable,
/// incarnations and generations within `SWIM.Limits`. One row per case.
@Suite struct WireCodecStrictnessTests {
    static let a = WireCodecTests.a
    static let ceiling = SWIM.Limits.maximumIncarnation

    static func state(name: String = "node-c", host: String = "10.0.0.3", incarnation: UInt64 = 1, generation: UInt64 = 1)
        -> SWIM.MemberState
    {
        .init(
            name: name, endpoint: .init(host: host, port: 7946), incarnation: incarnation, status: .alive, metadata: [:],
            payloadGeneration: generation)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var what: String
        var packet: SWIM.Packet
        var error: WireError?
        var testDescription: String { what }
    }

    static let rows: [Row] = [
        Row(what: "a name with a newline", packet: .init(.gossip(from: "evil\nINFO forged line")), error: .invalid("member name")),
        Row(what: "a name with an escape sequence", packet: .init(.gossip(from: "a\u{1B}[2J")), error: .invalid("member name")),
        Row(what: "a name with a space", packet: .init(.gossip(from: "node 1")), error: .invalid("member name")),
        Row(what: "a name starting with '-'", packet: .init(.gossip(from: "-rf")), error: .invalid("member name")),
        Row(what: "a non-ASCII look-alike", packet: .init(.gossip(from: "nоde-1")), error: .invalid("member name")),
        Row(what: "a name of 254 characters", packet: .init(.gossip(from: String(repeating: "n", count: 254))), error: .invalid("member name")),
        Row(what: "a name of 253 characters", packet: .init(.gossip(from: String(repeating: "n", count: 253))), error: nil),
        Row(what: "a Kubernetes node name", packet: .init(.gossip(from: "ip-10-0-0-1.eu-west-1.compute.internal")), error: nil),
        Row(what: "a name with '_'", packet: .init(.gossip(from: "edge_site-3")), error: nil),
        Row(
            what: "a host with a newline", packet: .init(.ping(sequence: 1, target: "b", targetKey: 0, from: .init(name: "a", endpoint: .init(host: "10.0.0.1\nx", port: 1)))),
            error: .invalid("endpoint")),
        Row(what: "an IPv6 host with a zone", packet: .init(.ping(sequence: 1, target: "b", targetKey: 0, from: .init(name: "a", endpoint: .init(host: "fe80::1%eth0", port: 1)))), error: nil),
        Row(what: "a suspicion at UInt64.max", packet: .init(.gossip(from: "a"), updates: [.suspect(name: "b", incarnation: .max, from: "a")]), error: .invalid("incarnation above the ceiling")),
        Row(what: "a death above the ceiling", packet: .init(.gossip(from: "a"), updates: [.dead(name: "b", incarnation: ceiling + 1, from: "a")]), error: .invalid("incarnation above the ceiling")),
        Row(what: "a suspicion at the ceiling", packet: .init(.gossip(from: "a"), updates: [.suspect(name: "b", incarnation: ceiling, from: "a")]), error: nil),
        Row(what: "an alive state at UInt64.max", packet: .init(.gossip(from: "a"), updates: [.alive(state(incarnation: .max))]), error: .invalid("incarnation above the ceiling")),
        Row(what: "a payload generation at UInt64.max", packet: .init(.gossip(from: "a"), updates: [.alive(state(generation: .max))]), error: .invalid("payload generation above the ceiling")),
        Row(
            what: "a delta to UInt64.max", packet: .init(.gossip(from: "a"), updates: [.payloadDelta(owner: "b", base: 1, generation: .max, delta: [1])]),
            error: .invalid("payload generation above the ceiling")),
    ]

    @Test(arguments: rows) func decodedPacketsAreStrict(_ row: Row) throws {
        let bytes = WireCodec.encode(row.packet)
        if let error = row.error {
            #expect(throws: error) { try WireCodec.decodePacket(bytes) }
        } else {
            #expect(try WireCodec.decodePacket(bytes) == row.packet)
        }
    }

    @Test func streamMessagesAreStrict() {
        let pushPull = SWIM.StreamMessage.pushPull(join: false, from: Self.a, members: [Self.state(incarnation: .max)], payload: nil)
        #expect(throws: WireError.invalid("incarnation above the ceiling")) { try WireCodec.decodeStreamMessage(WireCodec.encode(pushPull)) }
        let payload = SWIM.StreamMessage.payloadResponse(owner: "node-a", payload: .init(generation: .max, bytes: [1]))
        #expect(throws: WireError.invalid("payload generation above the ceiling")) { try WireCodec.decodeStreamMessage(WireCodec.encode(payload)) }
        let request = SWIM.StreamMessage.payloadRequest(owner: "bad\nname", generation: 1)
        #expect(throws: WireError.invalid("member name")) { try WireCodec.decodeStreamMessage(WireCodec.encode(request)) }
    }

    @Test func metadataIsPrintableWithUniqueKeys() throws {
        let rows: [(raw: String, valid: Bool)] = [
            ("registry=10.0.0.3:5000", true),
            ("registry=10.0.0.3:5000\u{0}version=1.2 beta", true),
            ("registry=10.0.0.3:5000\nforged", false),
            ("registry=\u{1B}[31m", false),
            ("reg istry=x", false),
            ("=x", false),
            ("registry=é", false),
            ("a=1\u{0}a=2", false),
            ("novalue", false),
        ]
        for row in rows {
            let decoded = try? WireCodec.decodeMetadata(Array(row.raw.utf8))
            #expect((decoded != nil) == row.valid, "\(row.raw.debugDescription)")
        }
        #expect(throws: WireError.self) { try WireCodec.validate(metadata: ["registry": "a\nb"]) }
        try WireCodec.validate(metadata: ["registry": "10.0.0.3:5000"])
    }
}
