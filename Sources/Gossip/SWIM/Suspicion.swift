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
    public struct Suspicion: Sendable, Hashable {
        public let incarnation: Incarnation
        public let startedAt: Instant
        public let minimum: Duration
        public let maximum: Duration
        public let expectedConfirmations: Int
        public private(set) var accusers: Set<String>

        public init(
            incarnation: Incarnation, from accuser: String, startedAt: Instant,
            minimum: Duration, maximum: Duration, expectedConfirmations: Int
        ) {
            self.incarnation = incarnation
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
    }
}
