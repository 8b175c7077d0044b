/// The binary encoding of packets and stream messages (before sealing).
///
/// Layout: a version byte, a kind byte, then big-endian fixed-width integers,
/// strings with a one-byte length and blobs with a two- or four-byte length.
/// Piggybacked updates follow the message in a packet, each prefixed by its
/// own kind byte, so `encodedSize(of:)` is exact and the broadcast queue can
/// fill a packet up to its byte budget.
public enum WireCodec {
    public static let version: UInt8 = 1
    /// Largest plaintext datagram accepted (`SWIM.Limits`, with the reasons).
    public static let maximumPacketSize = SWIM.Limits.maximumPacketSize
    /// Largest metadata map, encoded (`SWIM.Limits`).
    public static let maximumMetadataSize = SWIM.Limits.maximumMetadataSize
    /// Largest stream message accepted (`SWIM.Limits`).
    public static let maximumStreamMessageSize = SWIM.Limits.maximumStreamMessageSize
    /// Bytes of a packet budget kept for sealing (version, key id, nonce,
    /// timestamp, authentication tag) so that sealed packets stay in budget.
    public static let envelopeReserve = 64

    private enum PacketKind: UInt8 { case ping = 1, pingRequest, ack, nack, gossip }
    private enum UpdateKind: UInt8 { case alive = 1, suspect, dead, payloadDelta }
    private enum StreamKind: UInt8 { case pushPull = 1, payloadRequest, payloadResponse }

    // MARK: Packets

    public static func encode(_ packet: SWIM.Packet) -> [UInt8] {
        var w = ByteWriter()
        w.write(version)
        switch packet.message {
        case .ping(let seq, let target, let from):
            w.write(PacketKind.ping.rawValue); w.write(seq); w.writeShortString(target); write(from, to: &w)
        case .pingRequest(let seq, let target, let from, let wantsNack):
            w.write(PacketKind.pingRequest.rawValue); w.write(seq); write(target, to: &w); write(from, to: &w)
            w.write(wantsNack)
        case .ack(let seq, let from):
            w.write(PacketKind.ack.rawValue); w.write(seq); w.writeShortString(from)
        case .nack(let seq, let from):
            w.write(PacketKind.nack.rawValue); w.write(seq); w.writeShortString(from)
        case .gossip(let from):
            w.write(PacketKind.gossip.rawValue); w.writeShortString(from)
        }
        for update in packet.updates { write(update, to: &w) }
        return w.bytes
    }

    public static func decodePacket(_ bytes: [UInt8]) throws(WireError) -> SWIM.Packet {
        guard bytes.count <= maximumPacketSize else { throw .tooLarge(bytes.count) }
        var r = ByteReader(bytes)
        let v = try r.readUInt8()
        guard v == version else { throw .unknownVersion(v) }
        let kindByte = try r.readUInt8()
        let message: SWIM.Message
        switch PacketKind(rawValue: kindByte) {
        case .ping:
            message = .ping(sequence: try r.readUInt32(), target: try readName(&r), from: try readSender(&r))
        case .pingRequest:
            message = .pingRequest(
                sequence: try r.readUInt32(), target: try readSender(&r), from: try readSender(&r),
                wantsNack: try r.readBool())
        case .ack:
            message = .ack(sequence: try r.readUInt32(), from: try readName(&r))
        case .nack:
            message = .nack(sequence: try r.readUInt32(), from: try readName(&r))
        case .gossip:
            message = .gossip(from: try readName(&r))
        case nil:
            throw .unknownKind(kindByte)
        }
        var updates: [SWIM.Update] = []
        while r.remaining > 0 {
            updates.append(try readUpdate(&r))
        }
        return SWIM.Packet(message, updates: updates)
    }

    /// Bytes that `update` adds to a packet.
    public static func encodedSize(of update: SWIM.Update) -> Int {
        switch update {
        case .alive(let s):
            return 1 + stateSize(s)
        case .suspect(let name, _, let from), .dead(let name, _, let from):
            return 1 + 1 + name.utf8.count + 8 + 1 + from.utf8.count
        case .payloadDelta(let owner, _, _, let delta):
            return 1 + 1 + owner.utf8.count + 16 + 2 + delta.count
        }
    }

    /// Bytes of a packet's message without updates (what `encode` writes
    /// for it, computed without encoding: the instance asks for every packet).
    public static func encodedSize(of message: SWIM.Message) -> Int {
        func short(_ s: String) -> Int { 1 + min(s.utf8.count, 255) }
        func sender(_ s: SWIM.Sender) -> Int { short(s.name) + short(s.endpoint.host) + 2 }
        switch message {
        case .ping(_, let target, let from): return 2 + 4 + short(target) + sender(from)
        case .pingRequest(_, let target, let from, _): return 2 + 4 + sender(target) + sender(from) + 1
        case .ack(_, let from), .nack(_, let from): return 2 + 4 + short(from)
        case .gossip(let from): return 2 + short(from)
        }
    }

    // MARK: Streams

    public static func encode(_ message: SWIM.StreamMessage) -> [UInt8] {
        var w = ByteWriter(capacity: 1024)
        w.write(version)
        switch message {
        case .pushPull(let join, let from, let members, let payload):
            w.write(StreamKind.pushPull.rawValue); w.write(join); write(from, to: &w)
            w.write(UInt32(members.count))
            for m in members { write(m, to: &w) }
            write(payload, to: &w)
        case .payloadRequest(let owner, let generation):
            w.write(StreamKind.payloadRequest.rawValue); w.writeShortString(owner); w.write(generation)
        case .payloadResponse(let owner, let payload):
            w.write(StreamKind.payloadResponse.rawValue); w.writeShortString(owner); write(payload, to: &w)
        }
        return w.bytes
    }

    /// A push/pull carrying more than `maximumMembers` member records is
    /// malformed, refused before a record beyond the cap is read.
    public static func decodeStreamMessage(
        _ bytes: [UInt8], maximumMembers: Int = SWIM.Limits.default.maximumMembers
    ) throws(WireError) -> SWIM.StreamMessage {
        guard bytes.count <= maximumStreamMessageSize else { throw .tooLarge(bytes.count) }
        var r = ByteReader(bytes)
        let v = try r.readUInt8()
        guard v == version else { throw .unknownVersion(v) }
        let kindByte = try r.readUInt8()
        let message: SWIM.StreamMessage
        switch StreamKind(rawValue: kindByte) {
        case .pushPull:
            let join = try r.readBool()
            let from = try readSender(&r)
            // A member record takes at least 1+1+1+2+8+1+2+8 bytes.
            let count = try r.readCount(minimumItemSize: 24)
            guard count <= maximumMembers else { throw .invalid("push/pull of \(count) members, over the cap of \(maximumMembers)") }
            var members: [SWIM.MemberState] = []
            members.reserveCapacity(count)
            for _ in 0..<count { members.append(try readState(&r)) }
            message = .pushPull(join: join, from: from, members: members, payload: try readPayload(&r))
        case .payloadRequest:
            message = .payloadRequest(owner: try readName(&r), generation: try readGeneration(&r))
        case .payloadResponse:
            message = .payloadResponse(owner: try readName(&r), payload: try readPayload(&r))
        case nil:
            throw .unknownKind(kindByte)
        }
        try r.expectEnd()
        return message
    }

    // MARK: Pieces

    private static func write(_ s: SWIM.Sender, to w: inout ByteWriter) {
        w.writeShortString(s.name)
        write(s.endpoint, to: &w)
    }

    private static func write(_ e: SWIM.Endpoint, to w: inout ByteWriter) {
        w.writeShortString(e.host)
        w.write(e.port)
    }

    private static func write(_ update: SWIM.Update, to w: inout ByteWriter) {
        switch update {
        case .alive(let s):
            w.write(UpdateKind.alive.rawValue); write(s, to: &w)
        case .suspect(let name, let inc, let from):
            w.write(UpdateKind.suspect.rawValue); w.writeShortString(name); w.write(inc); w.writeShortString(from)
        case .dead(let name, let inc, let from):
            w.write(UpdateKind.dead.rawValue); w.writeShortString(name); w.write(inc); w.writeShortString(from)
        case .payloadDelta(let owner, let base, let generation, let delta):
            w.write(UpdateKind.payloadDelta.rawValue); w.writeShortString(owner); w.write(base); w.write(generation)
            w.writeShortBlob(delta)
        }
    }

    private static func write(_ s: SWIM.MemberState, to w: inout ByteWriter) {
        w.writeShortString(s.name)
        write(s.endpoint, to: &w)
        w.write(s.incarnation)
        w.write(s.status.rawValue)
        w.writeShortBlob(encodeMetadata(s.metadata))
        w.write(s.payloadGeneration)
    }

    private static func stateSize(_ s: SWIM.MemberState) -> Int {
        1 + s.name.utf8.count + 1 + s.endpoint.host.utf8.count + 2 + 8 + 1 + 2 + encodeMetadata(s.metadata).count + 8
    }

    private static func write(_ p: SWIM.Payload?, to w: inout ByteWriter) {
        guard let p else { w.write(false); return }
        w.write(true)
        w.write(p.generation)
        w.writeBlob(p.bytes)
    }

    /// Metadata as sorted `key=value` pairs separated by NUL bytes.
    public static func encodeMetadata(_ m: SWIM.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        for key in m.keys.sorted() {
            if !out.isEmpty { out.append(0) }
            out.append(contentsOf: key.utf8)
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: m[key]!.utf8)
        }
        return out
    }

    /// Throws unless `m` encodes within `maximumMetadataSize` and decodes
    /// back to itself on every member (see `decodeMetadata`).
    public static func validate(metadata m: SWIM.Metadata) throws(WireError) {
        let encoded = encodeMetadata(m)
        guard try decodeMetadata(encoded) == m else { throw .invalid("metadata") }
    }

    /// Metadata: keys are 1 or more ASCII letters, digits, `-`, `.`, `_`
    /// and `/`; values printable ASCII (space to `~`), such as addresses and
    /// versions. Keys appear once. Nothing in it can break a log line or a
    /// status page.
    static func decodeMetadata(_ raw: [UInt8]) throws(WireError) -> SWIM.Metadata {
        guard raw.count <= maximumMetadataSize else { throw .tooLarge(raw.count) }
        var m: SWIM.Metadata = [:]
        guard !raw.isEmpty else { return m }
        for pair in raw.split(separator: 0, omittingEmptySubsequences: false) {
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")), eq > pair.startIndex,
                pair[..<eq].allSatisfy(isMetadataKeyByte), pair[(eq + 1)...].allSatisfy({ $0 >= 0x20 && $0 <= 0x7E })
            else { throw .invalid("metadata") }
            let key = String(decoding: pair[..<eq], as: UTF8.self)
            guard m.updateValue(String(decoding: pair[(eq + 1)...], as: UTF8.self), forKey: key) == nil else {
                throw .invalid("metadata key repeated")
            }
        }
        return m
    }

    private static func isMetadataKeyByte(_ b: UInt8) -> Bool {
        SWIM.MemberName.isLetterOrDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
            || b == UInt8(ascii: "/")
    }

    /// A member name, checked byte by byte before it becomes a string
    /// (`SWIM.MemberName`: nothing that could forge a log line gets in).
    private static func readName(_ r: inout ByteReader) throws(WireError) -> String {
        let raw = try r.readBytes(Int(try r.readUInt8()))
        guard SWIM.MemberName.isValid(utf8: raw) else { throw .invalid("member name") }
        return String(decoding: raw, as: UTF8.self)
    }

    private static func readEndpoint(_ r: inout ByteReader) throws(WireError) -> SWIM.Endpoint {
        let host = try r.readBytes(Int(try r.readUInt8()))
        let port = try r.readUInt16()
        guard SWIM.Endpoint.isValidHost(utf8: host), port != 0 else { throw .invalid("endpoint") }
        return SWIM.Endpoint(host: String(decoding: host, as: UTF8.self), port: port)
    }

    /// An incarnation, at most `SWIM.Limits.maximumIncarnation`.
    private static func readIncarnation(_ r: inout ByteReader) throws(WireError) -> SWIM.Incarnation {
        let incarnation = try r.readUInt64()
        guard incarnation <= SWIM.Limits.maximumIncarnation else { throw .invalid("incarnation above the ceiling") }
        return incarnation
    }

    /// A payload generation, at most `SWIM.Limits.maximumGeneration`.
    private static func readGeneration(_ r: inout ByteReader) throws(WireError) -> UInt64 {
        let generation = try r.readUInt64()
        guard generation <= SWIM.Limits.maximumGeneration else { throw .invalid("payload generation above the ceiling") }
        return generation
    }

    private static func readSender(_ r: inout ByteReader) throws(WireError) -> SWIM.Sender {
        SWIM.Sender(name: try readName(&r), endpoint: try readEndpoint(&r))
    }

    private static func readState(_ r: inout ByteReader) throws(WireError) -> SWIM.MemberState {
        let name = try readName(&r)
        let endpoint = try readEndpoint(&r)
        let incarnation = try readIncarnation(&r)
        let statusByte = try r.readUInt8()
        guard let status = SWIM.Status(rawValue: statusByte) else { throw .invalid("member status") }
        let metadata = try decodeMetadata(try r.readShortBlob())
        let generation = try readGeneration(&r)
        return SWIM.MemberState(
            name: name, endpoint: endpoint, incarnation: incarnation, status: status, metadata: metadata,
            payloadGeneration: generation)
    }

    private static func readUpdate(_ r: inout ByteReader) throws(WireError) -> SWIM.Update {
        let kindByte = try r.readUInt8()
        switch UpdateKind(rawValue: kindByte) {
        case .alive:
            let s = try readState(&r)
            guard s.status == .alive else { throw .invalid("alive update with status \(s.status)") }
            return .alive(s)
        case .suspect:
            return .suspect(name: try readName(&r), incarnation: try readIncarnation(&r), from: try readName(&r))
        case .dead:
            return .dead(name: try readName(&r), incarnation: try readIncarnation(&r), from: try readName(&r))
        case .payloadDelta:
            let owner = try readName(&r)
            let base = try readGeneration(&r)
            let generation = try readGeneration(&r)
            guard generation > base else { throw .invalid("payload delta generations") }
            return .payloadDelta(owner: owner, base: base, generation: generation, delta: try r.readShortBlob())
        case nil:
            throw .unknownKind(kindByte)
        }
    }

    private static func readPayload(_ r: inout ByteReader) throws(WireError) -> SWIM.Payload? {
        guard try r.readBool() else { return nil }
        let generation = try readGeneration(&r)
        return SWIM.Payload(generation: generation, bytes: try r.readBlob(maximum: maximumStreamMessageSize))
    }
}
