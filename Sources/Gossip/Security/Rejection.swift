/// Why something from the network was refused: the one list behind the
/// `gossip_mirror_gossip_rejected_messages_total{reason}` series, the `rejected…` counters of
/// `GossipStatistics` and the node's debug log.
enum Rejection: Error, Sendable, CustomStringConvertible {
    /// No installed key opens it: another key or cluster label, or tampered.
    case unauthenticated(Envelope.OpenError)
    /// Its sealed timestamp is outside the clock window.
    case stale
    /// Stamped before this node started (see `ReplayGuard`).
    case beforeStart
    /// Its nonce was seen before.
    case replayed
    /// It opened but does not decode, or a stream chunk does not continue
    /// its stream; `why` is the decoder's description (no message bytes).
    case malformed(String)
    /// News at an incarnation beyond `SWIM.Limits`.
    case implausible(name: String, incarnation: SWIM.Incarnation)
    /// News of a new member while `SWIM.Limits.maximumMembers` are known.
    case capacity(name: String)

    /// The counter a rejection is counted under.
    enum Reason: String, Sendable, CaseIterable {
        case unauthenticated
        /// Stale, before the start, or seen before: replay protection.
        case replayed
        case malformed
        case implausible
        /// A new member over the members cap.
        case capacity
    }

    var reason: Reason {
        switch self {
        case .unauthenticated: .unauthenticated
        case .stale, .beforeStart, .replayed: .replayed
        case .malformed: .malformed
        case .implausible: .implausible
        case .capacity: .capacity
        }
    }

    var description: String {
        switch self {
        case .unauthenticated(let error): "\(error)"
        case .stale: "timestamp outside the clock window"
        case .beforeStart: "stamped before this node started"
        case .replayed: "nonce seen before"
        case .malformed(let why): why
        case .implausible(let name, let incarnation): "news about \(name) at incarnation \(incarnation), beyond SWIM.Limits"
        case .capacity(let name): "news of new member \(name), over the members cap"
        }
    }
}
