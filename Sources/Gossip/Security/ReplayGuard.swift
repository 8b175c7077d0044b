/// Refuses sealed messages that are too old, too far in the future, stamped
/// before this node started, or seen before.
///
/// A message is fresh when its sealed timestamp lies within `window` of the
/// local clock (either side, for clock skew), is not before `notBefore`, and
/// its nonce was not seen. Seen nonces live in two generations rotated every
/// `2 × window`, so each is remembered for at least `2 × window` — as long
/// as any timestamp can stay acceptable — and memory stays bounded by the
/// traffic of `4 × window`.
///
/// `notBefore` is the node's start. Seen nonces live in memory only, so a
/// restarted node would otherwise accept again, for up to `window`, every
/// message captured during the last `window` of its previous life (issue 9,
/// finding 10). Nothing sent to this process can be stamped before it
/// started, except by a member whose clock is behind: such a member is not
/// heard for as long as its clock lags (with NTP, milliseconds), which
/// delays a restarted node's rejoin by the lag, never more than `window`
/// (beyond that its messages are stale anyway). The protection is exact up
/// to the clock skew between members: a message captured at most that skew
/// before the restart, from a member whose clock is ahead, can still be
/// replayed once.
///
/// Every comparison is made by subtraction after ordering, so a hostile
/// sealed timestamp (up to `UInt64.max`) cannot overflow the arithmetic.
public struct ReplayGuard: Sendable {
    public enum Verdict: Equatable, Sendable {
        case fresh
        /// Outside the clock window.
        case stale
        /// Stamped before `notBefore` (before this node started).
        case beforeStart
        case replayed
    }

    public let window: UInt64
    public let notBefore: UInt64
    /// `2 × window` and `4 × window`, saturating.
    private let rotationPeriod: UInt64
    private let forgetPeriod: UInt64
    private var current: Set<[UInt8]> = []
    private var previous: Set<[UInt8]> = []
    private var rotatedAt: UInt64?

    /// - Parameters:
    ///   - windowMilliseconds: accepted clock difference between nodes.
    ///   - notBefore: wall time (ms since the Unix epoch) before which no
    ///     message is accepted: the node's start.
    public init(windowMilliseconds: UInt64 = 120_000, notBefore: UInt64 = 0) {
        self.window = windowMilliseconds
        self.notBefore = notBefore
        let (twice, overflow2) = windowMilliseconds.multipliedReportingOverflow(by: 2)
        let (four, overflow4) = windowMilliseconds.multipliedReportingOverflow(by: 4)
        self.rotationPeriod = overflow2 ? .max : twice
        self.forgetPeriod = overflow4 ? .max : four
    }

    /// Checks and records a message seen at local wall time `now` (ms).
    public mutating func check(timestamp: UInt64, nonce: [UInt8], now: UInt64) -> Verdict {
        rotate(now: now)
        let skew = timestamp >= now ? timestamp - now : now - timestamp
        guard skew <= window else { return .stale }
        guard timestamp >= notBefore else { return .beforeStart }
        if previous.contains(nonce) || !current.insert(nonce).inserted { return .replayed }
        return .fresh
    }

    private mutating func rotate(now: UInt64) {
        guard let since = rotatedAt else {
            rotatedAt = now
            return
        }
        // A clock that went back waits until it passes the last rotation.
        guard now >= since, now - since >= rotationPeriod else { return }
        previous = now - since >= forgetPeriod ? [] : current
        current = []
        rotatedAt = now
    }

    /// Nonces currently remembered.
    public var remembered: Int { current.count + previous.count }
}
