extension SWIM {
    /// A probe sequence number; acks and nacks name the probe they answer.
    public typealias SequenceNumber = UInt32

    /// The sender of a packet, so the receiver can answer it (and learn the
    /// advertised address of a node it has not heard of yet).
    public struct Sender: Sendable, Hashable {
        public var name: String
        public var endpoint: Endpoint

        public init(name: String, endpoint: Endpoint) {
            self.name = name
            self.endpoint = endpoint
        }
    }

    /// A piece of news spread by piggybacking (SWIM §4.1, "infection-style").
    public enum Update: Sendable, Hashable {
        /// The member is alive at this incarnation, reachable at this address.
        case alive(MemberState)
        /// `from` suspects `name` at `incarnation`. Suspicions from distinct
        /// members are the independent confirmations of Lifeguard §4.2.
        case suspect(name: String, incarnation: Incarnation, from: String)
        /// `from` declared `name` dead; `from == name` means the member left,
        /// and then `signature` is its signed word (`RecordSignature`).
        case dead(name: String, incarnation: Incarnation, from: String, signature: [UInt8] = [])
        /// The owner's payload changed from `base` to `generation` by `delta`,
        /// which only the application understands (see `PayloadMerge`);
        /// `signature` is the owner's signature of the resulting payload.
        case payloadDelta(owner: String, base: UInt64, generation: UInt64, delta: [UInt8], signature: [UInt8] = [])

        /// The member the news is about; newer news about the same member and
        /// kind replaces older news in the broadcast queue.
        public var subject: String {
            switch self {
            case .alive(let s): s.name
            case .suspect(let name, _, _), .dead(let name, _, _, _): name
            case .payloadDelta(let owner, _, _, _, _): owner
            }
        }
    }

    /// What a UDP packet asks for. Every kind carries piggybacked updates.
    public enum Message: Sendable, Hashable {
        /// A direct probe of `target` (SWIM §3.1). `target` and `targetKey`
        /// (`MemberIdentity.keyID` of the key pinned to it) let a restarted
        /// node that reuses an address or name refuse probes meant for its
        /// predecessor, so that the old life is declared dead and replaced.
        case ping(sequence: SequenceNumber, target: String, targetKey: UInt64, from: Sender)
        /// Asks the receiver to probe `target` on `from`'s behalf (SWIM §3.1).
        /// `wantsNack` asks for a nack if the target stays silent (Lifeguard §4.3).
        case pingRequest(sequence: SequenceNumber, target: Sender, targetKey: UInt64, from: Sender, wantsNack: Bool)
        /// The answer to a ping, sent or relayed to the prober.
        case ack(sequence: SequenceNumber, from: String)
        /// An intermediary did not hear from the target in time (Lifeguard §4.3).
        case nack(sequence: SequenceNumber, from: String)
        /// Nothing but piggybacked updates (the periodic gossip of memberlist).
        case gossip(from: String)
    }

    /// One UDP datagram's content, before sealing.
    public struct Packet: Sendable, Hashable {
        public var message: Message
        public var updates: [Update]

        public init(_ message: Message, updates: [Update] = []) {
            self.message = message
            self.updates = updates
        }
    }

    /// Messages over a TCP stream: anti-entropy and payload transfer.
    public enum StreamMessage: Sendable, Hashable {
        /// Full state exchange (memberlist "push/pull"): every member's record
        /// and the sender's own payload. `join` marks a first contact.
        case pushPull(join: Bool, from: Sender, members: [MemberState], payload: Payload?)
        /// Asks the owner (or anyone) for `owner`'s payload at `generation` or newer.
        case payloadRequest(owner: String, generation: UInt64)
        /// A payload, or none if the responder does not hold it.
        case payloadResponse(owner: String, payload: Payload?)
    }

    /// An opaque, versioned blob per member: the application decides what it
    /// is (the catalog puts a Bloom filter there).
    public struct Payload: Sendable, Hashable {
        public var generation: UInt64
        public var bytes: [UInt8]
        /// The owner's signature of owner, generation and the hash of `bytes`
        /// (`RecordSignature`); the instance signs its own when published.
        public var signature: [UInt8]

        public init(generation: UInt64, bytes: [UInt8], signature: [UInt8] = []) {
            self.generation = generation
            self.bytes = bytes
            self.signature = signature
        }
    }

    /// How the application applies a delta to a payload; returns nil when the
    /// delta does not fit (the instance then fetches the whole payload).
    /// Must be pure: the instance calls it while handling an event.
    public typealias PayloadMerge = @Sendable (_ base: [UInt8], _ delta: [UInt8]) -> [UInt8]?
}
