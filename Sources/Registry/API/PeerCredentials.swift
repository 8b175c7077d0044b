import Foundation
import Gossip

/// How peers prove membership to each other's registry port.
///
/// A peer request carries `X-Gossip-Mirror-Token: v1.<unix seconds>.<mac>`,
/// where the MAC (keyed BLAKE2b under a key derived from the cluster key)
/// covers the version, the time, the method and the path with its query. The
/// registry port therefore does not hand images to anyone who can merely
/// reach it; a captured token is good only for the same request within the
/// clock window. Every installed key is accepted, so key rotation does not
/// interrupt pulls. Peer requests also carry `X-Gossip-Mirror-Hop: 1`: the
/// receiving node serves only what it holds and never forwards (no loops).
public struct PeerCredentials: Sendable {
    public static let tokenHeader = "X-Gossip-Mirror-Token"
    public static let hopHeader = "X-Gossip-Mirror-Hop"
    static let context = "gossip-mirror registry peer token v1"

    /// The installed keys, the first one primary (read on every use so that
    /// rotation takes effect at once).
    public let keys: @Sendable () async -> [ClusterKey]
    /// Accepted clock difference between nodes, in seconds.
    public let window: Int64

    public init(window: Int64 = 120, keys: @escaping @Sendable () async -> [ClusterKey]) {
        self.keys = keys
        self.window = window
    }

    private static func message(time: Int64, method: String, target: String) -> [UInt8] {
        Array("v1|\(time)|\(method)|\(target)".utf8)
    }

    /// A token for one request (`target` is the path with its query).
    public func token(method: String, target: String, now: Date = Date()) async -> String? {
        guard let key = await keys().first else { return nil }
        let time = Int64(now.timeIntervalSince1970)
        let mac = key.authenticate(Self.message(time: time, method: method, target: target), context: Self.context)
        return "v1.\(time).\(Data(mac).base64EncodedString())"
    }

    /// Whether `token` is valid for this request now.
    public func verify(_ token: String, method: String, target: String, now: Date = Date()) async -> Bool {
        let parts = token.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        // Strict: only the spelling `token` writes (no sign, no leading zero,
        // canonical base64), and a time difference computed without overflow
        // (`abs(now - Int64.min)` trapped: issue 9, finding 1).
        guard token.utf8.count <= 128, parts.count == 3, parts[0] == "v1", let time = Int64(parts[1]),
            time >= 0, String(time) == parts[1],
            let mac = Data(base64Encoded: String(parts[2])), mac.count == 32, mac.base64EncodedString() == parts[2]
        else { return false }
        let (difference, overflow) = Int64(now.timeIntervalSince1970).subtractingReportingOverflow(time)
        guard !overflow, difference.magnitude <= window.magnitude else { return false }
        let message = Self.message(time: time, method: method, target: target)
        for key in await keys() where key.verify(Array(mac), for: message, context: Self.context) {
            return true
        }
        return false
    }
}
