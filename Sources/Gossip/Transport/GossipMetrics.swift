import Metrics

/// The gossip layer's metrics, created once (swift-metrics handlers are
/// looked up by label on creation).
struct GossipMetrics: Sendable {
    private let packetsSent = Counter(label: "gossip_packets_sent_total")
    private let bytesSent = Counter(label: "gossip_bytes_sent_total")
    private let packetsReceived = Counter(label: "gossip_packets_received_total")
    private let bytesReceived = Counter(label: "gossip_bytes_received_total")
    private let rejectedUnauthenticated = Counter(label: "gossip_rejected_total", dimensions: [("reason", "unauthenticated")])
    private let rejectedReplayed = Counter(label: "gossip_rejected_total", dimensions: [("reason", "replayed")])
    private let rejectedMalformed = Counter(label: "gossip_rejected_total", dimensions: [("reason", "malformed")])
    private let rejectedImplausible = Counter(label: "gossip_rejected_total", dimensions: [("reason", "implausible")])
    private let streamsRefused = Counter(label: "gossip_streams_refused_total")
    private let membersByStatus: [SWIM.Status: Gauge] = Dictionary(
        uniqueKeysWithValues: SWIM.Status.allCases.map { ($0, Gauge(label: "gossip_members", dimensions: [("state", "\($0)")])) })
    private let health = Gauge(label: "gossip_local_health_score")
    private let sendFailures = Counter(label: "gossip_send_failures_total")

    func sent(bytes: Int) {
        packetsSent.increment()
        bytesSent.increment(by: bytes)
    }

    /// A datagram the kernel refused to send (see `DatagramSocket`).
    func sendFailed() {
        sendFailures.increment()
    }

    func received(bytes: Int) {
        packetsReceived.increment()
        bytesReceived.increment(by: bytes)
    }

    func rejected(_ reason: String) {
        switch reason {
        case "unauthenticated": rejectedUnauthenticated.increment()
        case "replayed": rejectedReplayed.increment()
        case "implausible": rejectedImplausible.increment()
        default: rejectedMalformed.increment()
        }
    }

    /// An inbound stream closed on accept, over a cap.
    func refusedStream() {
        streamsRefused.increment()
    }

    func update(members: [SWIM.Member], health score: Int) {
        var counts: [SWIM.Status: Int] = [:]
        for m in members { counts[m.status, default: 0] += 1 }
        for (status, gauge) in membersByStatus { gauge.record(counts[status] ?? 0) }
        health.record(score)
    }
}
