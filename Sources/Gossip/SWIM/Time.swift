extension SWIM {
    /// A point on a monotonic clock, in nanoseconds from an arbitrary origin.
    ///
    /// The instance never reads a clock; the shell passes `now` with every
    /// event, which makes virtual time in the simulator exact.
    public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
        public var nanoseconds: UInt64

        public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

        public static let zero = Instant(nanoseconds: 0)

        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

        /// Saturates at `zero` and at the largest instant instead of wrapping,
        /// so that a deadline far ahead stays far ahead.
        public static func + (lhs: Instant, rhs: Duration) -> Instant {
            let delta = rhs.nanoseconds
            guard delta < 0 else {
                let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(UInt64(delta))
                return Instant(nanoseconds: overflow ? .max : sum)
            }
            return Instant(nanoseconds: lhs.nanoseconds - min(lhs.nanoseconds, delta.magnitude))
        }

        /// Saturates at the bounds of `Duration`'s nanoseconds (about 292
        /// years either way) instead of trapping.
        public static func - (lhs: Instant, rhs: Instant) -> Duration {
            lhs >= rhs
                ? .nanoseconds(Int64(clamping: lhs.nanoseconds - rhs.nanoseconds))
                : .nanoseconds(-Int64(clamping: rhs.nanoseconds - lhs.nanoseconds))
        }

        public var description: String { "\(Double(nanoseconds) / 1e9)s" }
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating at the bounds of Int64.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return ns.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : ns + attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// This duration multiplied by a real factor.
    public func scaled(by factor: Double) -> Duration {
        .nanoseconds(Int64((Double(nanoseconds) * factor).rounded()))
    }
}
