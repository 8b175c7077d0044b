extension SWIM {
    /// Lifeguard's Local Health Multiplier (Lifeguard §4.1; memberlist
    /// "awareness"): a saturating counter in `0 ..< maximum` that rises when
    /// this node shows signs of being the slow one (missed nacks, having to
    /// refute a suspicion, failed probes with no nack-capable helpers) and
    /// falls with every successful probe. Probe intervals and timeouts are
    /// multiplied by `score + 1`, so an overloaded node slows its own failure
    /// detector instead of accusing healthy peers.
    public struct LocalHealth: Sendable, Hashable {
        public private(set) var score: Int
        public let maximum: Int

        public init(maximum: Int) {
            self.maximum = max(1, maximum)
            self.score = 0
        }

        /// Applies a change, saturating at `0` and `maximum - 1`.
        public mutating func apply(_ delta: Int) {
            score = min(max(score + delta, 0), maximum - 1)
        }

        /// `timeout × (score + 1)`.
        public func scale(_ timeout: Duration) -> Duration {
            timeout * (score + 1)
        }
    }
}
