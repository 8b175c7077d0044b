import Metrics

/// What a node counts, in one place: each event is counted once, here, and
/// feeds both the status page's `GossipStatistics` and the swift-metrics
/// series (`gossip_mirror_gossip_*` on `/metrics`, named in `GossipMetrics`),
/// so the two cannot disagree.
struct GossipCounters: Sendable {
    enum Event: Sendable {
        case datagramSent(bytes: Int)
        case datagramReceived(bytes: Int)
        /// A datagram the kernel refused to send (see `DatagramSocket`).
        case sendFailed
        case streamOpened
        case streamAccepted
        /// Closed on accept, over a cap (`StreamAdmission`).
        case streamRefused
        case streamFailed
        case streamBytesSent(Int)
        case streamBytesReceived(Int)
        case rejected(Rejection.Reason)
        case socketReopened
    }

    private(set) var statistics = GossipStatistics()
    private let series = Series()

    mutating func count(_ event: Event) {
        switch event {
        case .datagramSent(let bytes):
            statistics.packetsSent += 1
            statistics.bytesSent += bytes
            series.packetsSent.increment()
            series.bytesSent.increment(by: bytes)
        case .datagramReceived(let bytes):
            statistics.packetsReceived += 1
            statistics.bytesReceived += bytes
            series.packetsReceived.increment()
            series.bytesReceived.increment(by: bytes)
        case .sendFailed:
            statistics.sendFailures += 1
            series.sendFailures.increment()
        case .streamOpened:
            statistics.streamsOpened += 1
            series.streamsOpened.increment()
        case .streamAccepted:
            statistics.streamsAccepted += 1
            series.streamsAccepted.increment()
        case .streamRefused:
            statistics.streamsRefused += 1
            series.streamsRefused.increment()
        case .streamFailed:
            statistics.streamsFailed += 1
            series.streamsFailed.increment()
        case .streamBytesSent(let bytes):
            statistics.bytesSent += bytes
            series.bytesSent.increment(by: bytes)
        case .streamBytesReceived(let bytes):
            statistics.bytesReceived += bytes
            series.bytesReceived.increment(by: bytes)
        case .rejected(let reason):
            switch reason {
            case .unauthenticated: statistics.rejectedUnauthenticated += 1
            case .replayed: statistics.rejectedReplayed += 1
            case .malformed: statistics.rejectedMalformed += 1
            case .implausible: statistics.rejectedImplausible += 1
            case .capacity: statistics.rejectedCapacity += 1
            }
            series.rejected[reason]?.increment()
        case .socketReopened:
            statistics.socketReopens += 1
            series.socketReopens.increment()
        }
    }

    /// The membership gauges (states, not events).
    func record(members: [SWIM.Member], health score: Int) {
        var counts: [SWIM.Status: Int] = [:]
        for m in members { counts[m.status, default: 0] += 1 }
        for (status, gauge) in series.membersByStatus { gauge.record(counts[status] ?? 0) }
        series.health.record(score)
    }

    /// The swift-metrics handles, created once (handlers are looked up by
    /// label on creation); names and help texts in `GossipMetrics`.
    private struct Series: Sendable {
        let packetsSent = Counter(label: GossipMetrics.sentPackets)
        let bytesSent = Counter(label: GossipMetrics.sentBytes)
        let packetsReceived = Counter(label: GossipMetrics.receivedPackets)
        let bytesReceived = Counter(label: GossipMetrics.receivedBytes)
        let sendFailures = Counter(label: GossipMetrics.sendFailures)
        let streamsOpened = Counter(label: GossipMetrics.streamsOpened)
        let streamsAccepted = Counter(label: GossipMetrics.streamsAccepted)
        let streamsRefused = Counter(label: GossipMetrics.streamsRefused)
        let streamsFailed = Counter(label: GossipMetrics.streamsFailed)
        let socketReopens = Counter(label: GossipMetrics.socketReopens)
        let rejected: [Rejection.Reason: Counter] = Dictionary(
            uniqueKeysWithValues: Rejection.Reason.allCases.map {
                ($0, Counter(label: GossipMetrics.rejected, dimensions: [("reason", $0.rawValue)]))
            })
        let membersByStatus: [SWIM.Status: Gauge] = Dictionary(
            uniqueKeysWithValues: SWIM.Status.allCases.map { ($0, Gauge(label: GossipMetrics.members, dimensions: [("state", "\($0)")])) })
        let health = Gauge(label: GossipMetrics.localHealthScore)
    }
}
