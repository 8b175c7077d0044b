import Synchronization

/// How one attempt at a holder ended, and what it says about the holder.
public enum AttemptOutcome: Sendable, Hashable {
    /// It answered and delivered what it was asked for.
    case served
    /// It answered 404: a Bloom-filter false positive or content deleted a
    /// moment ago. Not its fault.
    case absent
    /// We stopped it (a hedge that lost, a client that went away). Not its fault.
    case cancelled
    /// Refused, timed out, stalled, broke, answered unsealed or with an
    /// unusable status: counts against it, decaying (`failureHalfLife`).
    case failed(PeerFetchError)
    /// It served bytes that do not match their digest: not asked again for
    /// `banDuration`.
    case lied
}

/// One attempt at one holder, counted in flight from `PeerDirectory.lease`
/// until `end`: begin and end are paired by construction. `end` takes
/// effect once (later calls do nothing); a lease dropped without one ends
/// as `.cancelled` (a streamed body whose client went away), so in-flight
/// counts always return to zero.
public final class AttemptLease: Sendable {
    public let peer: PeerCandidate
    private let ended = Atomic<Bool>(false)
    private let settle: @Sendable (PeerCandidate, AttemptOutcome) -> Void

    init(peer: PeerCandidate, settle: @escaping @Sendable (PeerCandidate, AttemptOutcome) -> Void) {
        self.peer = peer
        self.settle = settle
    }

    deinit { end(.cancelled) }

    public var name: String { peer.name }

    /// Ends the attempt with `outcome` (only the first call counts).
    public func end(_ outcome: AttemptOutcome) {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        settle(peer, outcome)
    }

    public var isEnded: Bool { ended.load(ordering: .acquiring) }
}
