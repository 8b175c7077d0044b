import Foundation

extension SWIM {
    /// A suspicion timer whose timeout shrinks as independent members confirm
    /// the suspicion (Lifeguard §4.2, memberlist `suspicion.go`):
    ///
    ///     timeout(c) = max(min, max − (max − min) · log(c + 1) / log(k + 1))
    ///
    /// where `c` counts confirmations from distinct members other than the
    /// first accuser, and `k` is how many are expected. With `k == 0` (small
    /// groups) the timeout is simply `min`.
    ///
    /// A suspicion nobody has confirmed by `min` is gossiped once more (see
    /// `reminderDue`).
    public struct Suspicion: Sendable, Hashable {
        public let incarnation: Incarnation
        /// The member whose accusation started the suspicion.
        public let accuser: String
        public let startedAt: Instant
        public let minimum: Duration
        public let maximum: Duration
        public let expectedConfirmations: Int
        public private(set) var accusers: Set<String>
        /// Whether the suspicion has been gossiped again (see `reminderDue`).
        public internal(set) var reminded = false

        public init(
            incarnation: Incarnation, from accuser: String, startedAt: Instant,
            minimum: Duration, maximum: Duration, expectedConfirmations: Int
        ) {
            self.incarnation = incarnation
            self.accuser = accuser
            self.startedAt = startedAt
            self.minimum = minimum
            self.maximum = max(minimum, maximum)
            self.expectedConfirmations = max(0, expectedConfirmations)
            self.accusers = [accuser]
        }

        /// Independent confirmations so far.
        public var confirmations: Int { accusers.count - 1 }

        /// Records an accuser; returns true if it is new and counts.
        public mutating func confirm(by accuser: String) -> Bool {
            guard confirmations < expectedConfirmations else { return false }
            return accusers.insert(accuser).inserted
        }

        /// The current timeout.
        public var timeout: Duration {
            guard expectedConfirmations > 0 else { return minimum }
            let fraction = log(Double(confirmations) + 1) / log(Double(expectedConfirmations) + 1)
            let span = (maximum - minimum).seconds
            let raw = maximum.seconds - fraction * span
            return max(minimum, .nanoseconds(Int64(raw * 1e9)))
        }

        /// When the suspect is to be declared dead unless it refutes.
        public var deadline: Instant { startedAt + timeout }

        /// When to gossip the suspicion once more, if nobody has confirmed it
        /// by the minimum timeout (nil once done, or when none is expected).
        ///
        /// A refutation spreads by gossip with a bounded number of
        /// retransmissions, so under loss a member now and then misses it;
        /// still holding the suspicion, with nobody left to confirm or
        /// refute it, it would declare a healthy member dead at the maximum
        /// timeout. Gossiped again, the stale suspicion reaches members that
        /// saw the refutation, and they answer its sender with the newer
        /// alive message (`Instance.correction(for:myself:members:)`). By the
        /// minimum timeout any refutation has long spread, and a real death
        /// is usually confirmed by then, so this costs little and delays
        /// nothing: the deadline is unchanged.
        ///
        /// "Once more" is one more round of gossip: the broadcast queue
        /// retransmits it up to its limit, as any update. The reminder is only
        /// safe together with those corrections: a member that missed both
        /// the suspicion and the refutation starts a stale suspicion from it,
        /// and it is the correction (from the suspect itself, answering the
        /// buddy-system ping, or from any member it gossips to) that ends it.
        public var reminderDue: Instant? {
            reminded || expectedConfirmations == 0 || confirmations > 0 ? nil : startedAt + minimum
        }
    }
}
