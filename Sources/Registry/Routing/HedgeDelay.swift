import Synchronization

/// How long to wait for a holder's response head before asking the next
/// holder too: a high quantile of recently observed head latencies, never
/// below a floor (see `PeerRouterSettings` for the defaults and why).
///
/// Observations are kept in a ring; the quantile is computed on demand by
/// sorting a copy (a few hundred values, once per peer request: microseconds).
final class HedgeDelay: Sendable {
    private struct Ring {
        var samples: [Duration] = []
        var next = 0
    }

    private let ring = Mutex(Ring())
    private let quantile: Double
    private let floor: Duration
    private let initial: Duration
    private let capacity: Int
    private let minimumSamples: Int

    init(settings: PeerRouterSettings) {
        quantile = min(1, max(0, settings.hedgeQuantile))
        floor = settings.hedgeFloor
        initial = settings.hedgeInitialDelay
        capacity = max(1, settings.hedgeSamples)
        minimumSamples = max(1, settings.hedgeMinimumSamples)
    }

    /// A holder's response head arrived `latency` after its request started.
    func observe(_ latency: Duration) {
        ring.withLock { ring in
            if ring.samples.count < capacity {
                ring.samples.append(latency)
            } else {
                ring.samples[ring.next] = latency
            }
            ring.next = (ring.next + 1) % capacity
        }
    }

    /// The delay now.
    var current: Duration {
        let samples = ring.withLock { $0.samples }
        guard samples.count >= minimumSamples else { return max(floor, initial) }
        let sorted = samples.sorted()
        let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * quantile).rounded(.up)))
        return max(floor, sorted[index])
    }
}
