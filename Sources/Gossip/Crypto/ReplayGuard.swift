/// Refuses sealed messages that are too old, too far in the future, or seen
/// before.
///
/// A message is fresh when its sealed timestamp lies within `window` of the
/// local clock (either side, for clock skew) and its nonce was not seen. Seen
/// nonces live in two generations rotated every `2 × window`, so each is
/// remembered for at least `2 × window` — as long as any timestamp can stay
/// acceptable — and memory stays bounded by the traffic of `4 × window`.
public struct ReplayGuard: Sendable {
    public enum Verdict: Equatable, Sendable {
        case fresh
        case stale
        case replayed
    }

    public let window: UInt64
    private var current: Set<[UInt8]> = []
    private var previous: Set<[UInt8]> = []
    private var rotatedAt: UInt64?

    /// - Parameter windowMilliseconds: accepted clock difference between nodes.
    public init(windowMilliseconds: UInt64 = 120_000) {
        self.window = windowMilliseconds
    }

    /// Checks and records a message seen at local wall time `now` (ms).
    public mutating func check(timestamp: UInt64, nonce: [UInt8], now: UInt64) -> Verdict {
        if rotatedAt == nil { rotatedAt = now }
        // Differences, not sums: the sealed timestamp is any UInt64 a key holder
        // chooses, and `timestamp + window` would trap near the top.
        if now >= rotatedAt!, now - rotatedAt! >= 2 * window {
            previous = now - rotatedAt! >= 4 * window ? [] : current
            current = []
            rotatedAt = now
        }
        guard (timestamp > now ? timestamp - now : now - timestamp) <= window else { return .stale }
        if previous.contains(nonce) || !current.insert(nonce).inserted { return .replayed }
        return .fresh
    }

    /// Nonces currently remembered.
    public var remembered: Int { current.count + previous.count }
}
