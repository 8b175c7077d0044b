extension SWIM {
    /// Bounds on what peers send: how much one instance will hold, and which
    /// counters it takes as plausible, so that no arithmetic on them can
    /// overflow and no single message can use them up. Held by
    /// `Settings.limits`; every bound, configurable or not, is listed in
    /// `documented` and in `docs/configuration.md` ("Limits"), in the manner
    /// of memberlist's `config.go`.
    ///
    /// The fields may be set per node (`--gossip-max-members`,
    /// `--gossip-max-payload-size`); the static members are invariants of
    /// the wire format or of the arithmetic and are not settings.
    public struct Limits: Sendable, Hashable {
        /// Members one instance knows at most, itself and the dead and left
        /// members it still retains included: 2048.
        ///
        /// Without a bound, a holder of the cluster key could gossip an
        /// endless stream of made-up members, each kept (and probed, and
        /// pushed to every peer) for `deadMemberRetention` after it fails.
        /// At the cap, news of a further new member is dropped and counted
        /// as `capacity`; news of members already known is still taken (a
        /// member at the cap can still refute, die or leave), and reaping
        /// dead and left members makes room again. 2048 is four times the
        /// largest cluster this mirror is meant for (a few hundred nodes)
        /// and keeps a full push/pull at about 2 MiB of member records.
        public var maximumMembers: Int

        /// The largest payload (the catalog's summary) accepted from a
        /// member: 1 MiB, a Bloom summary of about 850,000 entries at 1 %
        /// false positives. Larger payloads are dropped where they arrive (a
        /// push/pull's or a payload response's), so a member cannot make the
        /// others hold more than this per member. Set it alike on every
        /// node: a member's payload above another's bound never reaches it.
        public var maximumPayloadSize: Int

        public init(maximumMembers: Int = 2048, maximumPayloadSize: Int = 1 << 20) {
            self.maximumMembers = maximumMembers
            self.maximumPayloadSize = maximumPayloadSize
        }

        /// The defaults, documented above.
        public static let `default` = Limits()

        // MARK: Invariants (not settings)

        /// The largest incarnation accepted, here or from the wire: 2^62.
        ///
        /// A member raises its own incarnation by one per refutation, metadata
        /// change or full payload change, so real values stay far below (one
        /// change a minute for thirty years is about 2^24). Any incarnation a
        /// member holds is at most this, so `+ 1` never overflows.
        public static let maximumIncarnation: Incarnation = 1 << 62

        /// How far one update may move a known member's incarnation, ours
        /// included: 2^24 (16,777,216).
        ///
        /// Without it, a holder of the cluster key could push any member to
        /// the ceiling in one message, after which it can never refute again
        /// (it cannot outbid `maximumIncarnation`). With it, that takes
        /// 2^38 messages, each of which makes the victim refute and log it.
        /// Legitimate jumps are far smaller: a restarted member begins again
        /// at 0 and outbids what the others remember of its previous life by
        /// one, and its previous life made its incarnations one by one.
        /// News beyond the step is dropped (for news about ourselves:
        /// dropped, not refuted) and reported as `implausibleIncarnation`. A
        /// member whose previous life went further than the step is accepted
        /// again once the others have reaped it (`deadMemberRetention`).
        public static let maximumIncarnationStep: Incarnation = 1 << 24

        /// The largest payload generation accepted from the wire: 2^62.
        ///
        /// Generations are compared, never incremented, by the gossip layer;
        /// the catalog starts them at its wall clock in microseconds (about
        /// 2^51 today), so a restarted member legitimately jumps by its
        /// uptime and no step bound applies. The ceiling keeps the owner's
        /// own `+ 1` safe and refuses absurd values at the door.
        public static let maximumGeneration: UInt64 = 1 << 62

        /// Largest plaintext datagram accepted: 65,507 bytes, a UDP
        /// datagram's maximum over IPv4; what a member sends stays within its
        /// packet budget (1400 or 1232 bytes).
        public static let maximumPacketSize = 65_507

        /// Largest metadata map, encoded: 512 bytes. Metadata rides in every
        /// alive message and every push/pull record; a member's own (an
        /// address, a version) takes a few dozen bytes. A wire-format
        /// constant: members that disagreed would refuse each other.
        public static let maximumMetadataSize = 512

        /// Largest stream message (push/pull, payload response) accepted:
        /// 16 MiB, the hard ceiling the stream chunker announces and checks
        /// before anything is buffered. `validate()` keeps a full push/pull
        /// under the configured limits below it.
        public static let maximumStreamMessageSize = 16 << 20

        /// The largest encoded member record of a push/pull: a name, an
        /// endpoint (host of at most 255 bytes), incarnation, status,
        /// metadata, payload generation, and the member's public key and
        /// signature (wire version 2).
        public static let maximumMemberRecordSize =
            1 + MemberName.maximumLength + 1 + 255 + 2 + 8 + 1 + 2 + maximumMetadataSize + 8
            + MemberIdentity.publicKeyByteCount + MemberIdentity.signatureByteCount

        /// Bytes of a push/pull besides its member records and payload bytes
        /// (version, kind, join flag, sender, count, payload header), rounded
        /// up.
        static let pushPullOverhead = 1024

        /// The fewest members a cap may allow: this member and one other.
        public static let minimumMembers = 2
        /// The smallest payload bound: 1 KiB, a summary of a few hundred
        /// entries; anything lower would refuse a node's first summary.
        public static let minimumPayloadSize = 1 << 10

        /// The largest push/pull these limits let a member send: every
        /// member record and a full payload.
        public var maximumPushPullSize: Int {
            Self.pushPullOverhead + maximumMembers * Self.maximumMemberRecordSize + maximumPayloadSize
        }

        /// Why these limits cannot work, or nil: a cap below one other
        /// member or one small summary, or so high that a full push/pull
        /// would exceed `maximumStreamMessageSize` (and then be refused by
        /// every member).
        public func problem() -> String? {
            if maximumMembers < Self.minimumMembers {
                return "the members cap must be at least \(Self.minimumMembers) (this node and one other), not \(maximumMembers)"
            }
            if maximumPayloadSize < Self.minimumPayloadSize {
                return "the payload size must be at least \(Self.minimumPayloadSize) bytes, not \(maximumPayloadSize)"
            }
            let room = Self.maximumStreamMessageSize - Self.pushPullOverhead
            if maximumPayloadSize > room - Self.minimumMembers * Self.maximumMemberRecordSize {
                return "the payload size must be at most \(room - Self.minimumMembers * Self.maximumMemberRecordSize) bytes "
                    + "(a push/pull carries it in at most \(Self.maximumStreamMessageSize) bytes), not \(maximumPayloadSize)"
            }
            if maximumMembers > (room - maximumPayloadSize) / Self.maximumMemberRecordSize {
                return "with a payload size of \(maximumPayloadSize) bytes the members cap must be at most "
                    + "\(((room - maximumPayloadSize) / Self.maximumMemberRecordSize)) (a full push/pull must fit in "
                    + "\(Self.maximumStreamMessageSize) bytes), not \(maximumMembers)"
            }
            return nil
        }

        /// Whether `incarnation` may replace `known` (the incarnation held for
        /// that member, nil if unknown): within the ceiling and, for a known
        /// member, at most `maximumIncarnationStep` above what is held.
        public static func isPlausible(_ incarnation: Incarnation, known: Incarnation?) -> Bool {
            guard incarnation <= maximumIncarnation else { return false }
            guard let known, incarnation > known else { return true }
            return incarnation - known <= maximumIncarnationStep
        }
    }
}
