extension SWIM {
    /// An incarnation number: only the member itself increases it, to refute
    /// suspicion (SWIM §4.2). Higher incarnations override lower ones.
    public typealias Incarnation = UInt64

    /// What the group believes about a member.
    public enum Status: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case alive = 0
        case suspect = 1
        case dead = 2
        /// The member announced its own departure (graceful leave).
        case left = 3

        public var description: String {
            switch self {
            case .alive: "alive"
            case .suspect: "suspect"
            case .dead: "dead"
            case .left: "left"
            }
        }

        /// Alive and suspect members take part in probing and gossip.
        public var isActive: Bool { self == .alive || self == .suspect }
    }

    /// Small per-member metadata, such as the registry address. Gossiped with
    /// every alive message, so it is bounded by `Metadata.maximumEncodedSize`.
    public typealias Metadata = [String: String]

    /// One member as this node sees it.
    public struct Member: Sendable, Hashable {
        public var name: String
        public var endpoint: Endpoint
        public var incarnation: Incarnation
        public var status: Status
        public var metadata: Metadata
        /// Generation of the member's opaque payload as far as this node knows
        /// it exists (it may not hold that payload yet).
        public var payloadGeneration: UInt64
        /// When `status` last changed, on this node's clock.
        public var statusChangedAt: Instant
        /// Smoothed round-trip time of direct probes from this node, if any.
        public var roundTripTime: Duration?
        /// The member's public key, pinned to its name from the first
        /// verified record until the member is reaped (see `Instance.alive`).
        public var publicKey: [UInt8] = []
        /// The member's signature of its latest alive record (of its leave,
        /// once it has left), passed on with the record.
        public var signature: [UInt8] = []
        /// The payload generation in that signed record: `payloadGeneration`
        /// may have moved on through deltas, the signed record has not.
        public var signedGeneration: UInt64 = 0

        public init(
            name: String, endpoint: Endpoint, incarnation: Incarnation, status: Status,
            metadata: Metadata = [:], payloadGeneration: UInt64 = 0, statusChangedAt: Instant = .zero,
            roundTripTime: Duration? = nil
        ) {
            self.name = name
            self.endpoint = endpoint
            self.incarnation = incarnation
            self.status = status
            self.metadata = metadata
            self.payloadGeneration = payloadGeneration
            self.statusChangedAt = statusChangedAt
            self.roundTripTime = roundTripTime
        }

        /// The gossip-able part of this member: its signed record (with the
        /// status and incarnation this node holds).
        public var state: MemberState {
            MemberState(
                name: name, endpoint: endpoint, incarnation: incarnation, status: status,
                metadata: metadata, payloadGeneration: signedGeneration, publicKey: publicKey, signature: signature)
        }
    }

}

extension SWIM.Member {
    /// This node's own record, before signing: its payload generation is
    /// the current one (ours is always re-signed when it changes).
    var ownState: SWIM.MemberState {
        SWIM.MemberState(
            name: name, endpoint: endpoint, incarnation: incarnation, status: status,
            metadata: metadata, payloadGeneration: payloadGeneration, publicKey: publicKey)
    }
}

extension SWIM {
    /// A member's record as exchanged on the wire (push/pull, alive messages).
    public struct MemberState: Sendable, Hashable {
        public var name: String
        public var endpoint: Endpoint
        public var incarnation: Incarnation
        public var status: Status
        public var metadata: Metadata
        public var payloadGeneration: UInt64
        /// The member's Ed25519 public key (32 bytes on the wire).
        public var publicKey: [UInt8]
        /// The member's signature of this record as alive (64 bytes on the
        /// wire; see `RecordSignature`); of its leave when `status` is left.
        public var signature: [UInt8]

        public init(
            name: String, endpoint: Endpoint, incarnation: Incarnation, status: Status,
            metadata: Metadata, payloadGeneration: UInt64, publicKey: [UInt8] = [], signature: [UInt8] = []
        ) {
            self.name = name
            self.endpoint = endpoint
            self.incarnation = incarnation
            self.status = status
            self.metadata = metadata
            self.payloadGeneration = payloadGeneration
            self.publicKey = publicKey
            self.signature = signature
        }
    }
}
