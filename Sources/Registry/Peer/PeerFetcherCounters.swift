import Synchronization

/// Fetcher-wide counters, updated by transfer and consumer threads alike.
final class PeerFetcherCounters: Sendable {
    private let bufferedBytes = Atomic<Int>(0)
    private let peakBufferedBytes = Atomic<Int>(0)
    private let transfersStarted = Atomic<Int>(0)
    private let transfersActive = Atomic<Int>(0)
    private let connectionsOpened = Atomic<Int>(0)

    func buffered(_ delta: Int) {
        guard delta != 0 else { return }
        let now = bufferedBytes.add(delta, ordering: .relaxed).newValue
        if delta > 0 { _ = peakBufferedBytes.max(now, ordering: .relaxed) }
    }

    func started() {
        transfersStarted.add(1, ordering: .relaxed)
        transfersActive.add(1, ordering: .relaxed)
    }

    func ended(newConnections: Int) {
        transfersActive.subtract(1, ordering: .relaxed)
        if newConnections > 0 { connectionsOpened.add(newConnections, ordering: .relaxed) }
    }

    /// Transfers running now (their bodies share the buffer budget).
    var activeTransfers: Int { transfersActive.load(ordering: .relaxed) }

    var snapshot: PeerFetcher.Statistics {
        PeerFetcher.Statistics(
            bufferedBytes: bufferedBytes.load(ordering: .relaxed),
            peakBufferedBytes: peakBufferedBytes.load(ordering: .relaxed),
            transfersStarted: transfersStarted.load(ordering: .relaxed),
            transfersActive: transfersActive.load(ordering: .relaxed),
            connectionsOpened: connectionsOpened.load(ordering: .relaxed))
    }
}
