/// The health of the content store as the catalog last saw it, for status
/// pages and readiness. While unavailable the catalog keeps serving its last
/// snapshot.
public enum StoreStatus: Hashable, Sendable, CustomStringConvertible {
    /// No scan has finished yet.
    case starting
    /// The last scan succeeded.
    case available
    /// The last scan failed, or the store reported itself unreachable.
    case unavailable(String)

    public var isAvailable: Bool { self == .available }

    public var description: String {
        switch self {
        case .starting: "starting"
        case .available: "available"
        case .unavailable(let detail): "unavailable: \(detail) (serving the last known snapshot)"
        }
    }
}
