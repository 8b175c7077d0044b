extension SWIM {
    /// Bounds on the counters members gossip, so that no arithmetic on them
    /// can overflow and no single message can use them up.
    ///
    /// Incarnations used to be taken as sent: one sealed datagram suspecting a
    /// member at `UInt64.max` made it compute `UInt64.max + 1` to refute, and
    /// trap, again on every restart while the others re-gossiped the news
    /// (issue 9, finding 3).
    public enum Limits {
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
