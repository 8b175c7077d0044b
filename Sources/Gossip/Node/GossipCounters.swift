import Metrics

/// What a node counts, in one place: each event is counted once, here, and
/// feeds both the status page's `GossipStatistics` and the swift-metrics
/// series (`gossip_*` on `/metrics`), so the two cannot disagree.
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
    /// label on creation).
    private struct Series: Sendable {
        let packetsSent = Counter(label: "gossip_packets_sent_total")
        let bytesSent = Counter(label: "gossip_bytes_sent_total")
        let packetsReceived = Counter(label: "gossip_packets_received_total")
        let bytesReceived = Counter(label: "gossip_bytes_received_total")
        let sendFailures = Counter(label: "gossip_send_failures_total")
        let streamsOpened = Counter(label: "gossip_streams_opened_total")
        let streamsAccepted = Counter(label: "gossip_streams_accepted_total")
        let streamsRefused = Counter(label: "gossip_streams_refused_total")
        let streamsFailed = Counter(label: "gossip_streams_failed_total")
        let socketReopens = Counter(label: "gossip_socket_reopens_total")
        let rejected: [Rejection.Reason: Counter] = Dictionary(
            uniqueKeysWithValues: Rejection.Reason.allCases.map {
                ($0, Counter(label: "gossip_rejected_total", dimensions: [("reason", $0.rawValue)]))
            })
        let membersByStatus: [SWIM.Status: Gauge] = Dictionary(
            uniqueKeysWithValues: SWIM.Status.allCases.map { ($0, Gauge(label: "gossip_members", dimensions: [("state", "\($0)")])) })
        let health = Gauge(label: "gossip_local_health_score")
    }
}
