extension SWIM {
    /// Something the instance wants done, for the shell to carry out.
    public enum Directive: Sendable, Hashable {
        /// Send a UDP datagram.
        case sendPacket(Packet, to: Endpoint)
        /// Open a TCP stream, send `message` and feed the answer back as
        /// `Event.streamReply` (or `Event.streamFailed`).
        case openStream(StreamMessage, to: Endpoint)
        /// Answer an inbound stream request identified by the shell's `id`.
        case replyStream(id: UInt64, StreamMessage)
        /// Resolve the configured seeds (DNS names may have changed) and feed
        /// them back as `Event.join`.
        case resolveSeeds
        /// Tell the application what changed.
        case notify(MembershipEvent)
    }

    /// Changes the application may want to react to (metrics, routing, logs).
    public enum MembershipEvent: Sendable, Hashable {
        case memberChanged(MemberState, previous: Status?)
        case memberRemoved(name: String)
        case payloadChanged(owner: String, generation: UInt64)
        /// Someone claims our name from another address, or two members share
        /// one name while both alive; the update was refused.
        case nameConflict(name: String, endpoint: Endpoint)
        /// We refuted a suspicion about ourselves with a new incarnation.
        case refuted(incarnation: Incarnation)
        /// News about `name` at an incarnation beyond `SWIM.Limits` (above
        /// the ceiling, or too far above the one held) was dropped.
        case implausibleIncarnation(name: String, incarnation: Incarnation)
        /// News of a new member `name` was dropped: this instance already
        /// knows `Limits.maximumMembers` members.
        case overCapacity(name: String)
    }

    /// Everything that can happen to an instance.
    public enum Event: Sendable {
        /// Time passed; fire whatever timers are due (see `nextDeadline`).
        case tick
        /// Contact these seed addresses (first join, or rejoin when isolated).
        case join([Endpoint])
        /// A UDP datagram arrived and was opened successfully.
        case packet(Packet, from: Endpoint)
        /// An inbound TCP stream request; answer with `.replyStream(id:)`.
        case streamRequest(id: UInt64, StreamMessage, from: Endpoint)
        /// The answer to an `.openStream` directive.
        case streamReply(StreamMessage, from: Endpoint)
        /// An `.openStream` failed (refused, timed out, undecodable).
        case streamFailed(StreamMessage, to: Endpoint)
        /// The application's payload changed; `delta` (if any) turns the
        /// previous generation into this one and is gossiped as is.
        case localPayload(Payload, delta: [UInt8]?)
        /// The application's metadata changed (bumps our incarnation).
        case localMetadata(Metadata)
        /// Leave the group gracefully.
        case leave
    }
}
