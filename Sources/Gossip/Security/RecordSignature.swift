/// What a member signs with its `MemberIdentity`: fixed layouts, each
/// behind its own domain-separation prefix, so that a signature of one kind
/// can never be replayed as another (docs/security.md, "Members speak only
/// for themselves").
///
/// - alive: name, endpoint, incarnation, metadata, payload generation and
///   the public key itself (so a record cannot be re-attributed to a key);
/// - payload: owner, generation and the BLAKE2b-256 hash of the bytes (a
///   delta is checked against the payload it produces);
/// - leave: name and incarnation (`dead` with `from == name`).
///
/// Suspicion and death of others stay unsigned: SWIM needs every member to
/// be able to say them about any other.
enum RecordSignature {
    static func aliveMessage(_ s: SWIM.MemberState) -> [UInt8] {
        var w = ByteWriter(capacity: 160)
        w.writeRaw("gossip-mirror alive v1\u{0}".utf8)
        w.writeShortString(s.name)
        w.writeShortString(s.endpoint.host)
        w.write(s.endpoint.port)
        w.write(s.incarnation)
        w.writeShortBlob(WireCodec.encodeMetadata(s.metadata))
        w.write(s.payloadGeneration)
        w.writeRaw(s.publicKey)
        return w.bytes
    }

    static func payloadMessage(owner: String, generation: UInt64, bytes: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.writeRaw("gossip-mirror payload v1\u{0}".utf8)
        w.writeShortString(owner)
        w.write(generation)
        w.writeRaw(Sodium.hash(bytes, length: 32))
        return w.bytes
    }

    static func leaveMessage(name: String, incarnation: SWIM.Incarnation) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.writeRaw("gossip-mirror leave v1\u{0}".utf8)
        w.writeShortString(name)
        w.write(incarnation)
        return w.bytes
    }

    /// Whether the alive record is signed by the key it carries.
    static func verifies(alive s: SWIM.MemberState) -> Bool {
        MemberIdentity.verify(s.signature, of: aliveMessage(s), by: s.publicKey)
    }

    static func verifies(payload p: SWIM.Payload, of owner: String, by key: [UInt8]) -> Bool {
        MemberIdentity.verify(p.signature, of: payloadMessage(owner: owner, generation: p.generation, bytes: p.bytes), by: key)
    }

    static func verifies(leaveOf name: String, incarnation: SWIM.Incarnation, signature: [UInt8], by key: [UInt8]) -> Bool {
        MemberIdentity.verify(signature, of: leaveMessage(name: name, incarnation: incarnation), by: key)
    }
}

extension MemberIdentity {
    /// `state` as this identity's alive record: its public key set and signed.
    public func signed(_ state: SWIM.MemberState) -> SWIM.MemberState {
        var s = state
        s.publicKey = publicKey
        s.signature = sign(RecordSignature.aliveMessage(s))
        return s
    }

    /// `payload` signed as `owner`'s.
    public func signed(_ payload: SWIM.Payload, owner: String) -> SWIM.Payload {
        var p = payload
        p.signature = sign(RecordSignature.payloadMessage(owner: owner, generation: p.generation, bytes: p.bytes))
        return p
    }

    /// The signature of `name`'s leave at `incarnation`.
    public func leaveSignature(name: String, incarnation: SWIM.Incarnation) -> [UInt8] {
        sign(RecordSignature.leaveMessage(name: name, incarnation: incarnation))
    }
}
