import Metrics

/// The gossip layer's metrics, created once (swift-metrics handlers are
/// looked up by label on creation).
public struct GossipMetrics: Sendable {
    /// The `# HELP` text of each metric, by name.
    public static let descriptions: [String: String] = [
        "gossip_mirror_gossip_sent_packets_total": "Gossip datagrams and stream frames sent.",
        "gossip_mirror_gossip_sent_bytes_total": "Bytes of sealed gossip sent.",
        "gossip_mirror_gossip_received_packets_total": "Gossip datagrams and stream frames received.",
        "gossip_mirror_gossip_received_bytes_total": "Bytes of sealed gossip received.",
        "gossip_mirror_gossip_rejected_messages_total":
            "Gossip messages dropped: unauthenticated (wrong key or label), replayed, malformed, or implausible.",
        "gossip_mirror_gossip_streams_refused_total": "Inbound gossip streams closed on accept, over a cap.",
        "gossip_mirror_gossip_members": "Members by state, as this node sees them.",
        "gossip_mirror_gossip_local_health_score":
            "Lifeguard's local health multiplier: 0 is healthy; rising means this node is slow to process gossip.",
        "gossip_mirror_gossip_send_failures_total":
            "Datagrams the kernel refused to send (a firewall rule, no route); each is one lost packet.",
    ]

    private let packetsSent = Counter(label: "gossip_mirror_gossip_sent_packets_total")
    private let bytesSent = Counter(label: "gossip_mirror_gossip_sent_bytes_total")
    private let packetsReceived = Counter(label: "gossip_mirror_gossip_received_packets_total")
    private let bytesReceived = Counter(label: "gossip_mirror_gossip_received_bytes_total")
    private let rejectedUnauthenticated = Counter(
        label: "gossip_mirror_gossip_rejected_messages_total", dimensions: [("reason", "unauthenticated")])
    private let rejectedReplayed = Counter(label: "gossip_mirror_gossip_rejected_messages_total", dimensions: [("reason", "replayed")])
    private let rejectedMalformed = Counter(label: "gossip_mirror_gossip_rejected_messages_total", dimensions: [("reason", "malformed")])
    private let rejectedImplausible = Counter(
        label: "gossip_mirror_gossip_rejected_messages_total", dimensions: [("reason", "implausible")])
    private let streamsRefused = Counter(label: "gossip_mirror_gossip_streams_refused_total")
    private let membersByStatus: [SWIM.Status: Gauge] = Dictionary(
        uniqueKeysWithValues: SWIM.Status.allCases.map {
            ($0, Gauge(label: "gossip_mirror_gossip_members", dimensions: [("state", "\($0)")]))
        })
    private let health = Gauge(label: "gossip_mirror_gossip_local_health_score")
    private let sendFailures = Counter(label: "gossip_mirror_gossip_send_failures_total")

    init() {}

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
