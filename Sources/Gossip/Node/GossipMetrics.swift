/// The names and `# HELP` texts of the gossip layer's metrics. The series
/// themselves are created and counted in `GossipCounters`, the node's one
/// counting path; the executable's metrics factory merges `descriptions`
/// with the other modules' so that every metric has a help line.
public enum GossipMetrics {
    static let sentPackets = "gossip_mirror_gossip_sent_packets_total"
    static let sentBytes = "gossip_mirror_gossip_sent_bytes_total"
    static let receivedPackets = "gossip_mirror_gossip_received_packets_total"
    static let receivedBytes = "gossip_mirror_gossip_received_bytes_total"
    static let sendFailures = "gossip_mirror_gossip_send_failures_total"
    static let streamsOpened = "gossip_mirror_gossip_streams_opened_total"
    static let streamsAccepted = "gossip_mirror_gossip_streams_accepted_total"
    static let streamsRefused = "gossip_mirror_gossip_streams_refused_total"
    static let streamsFailed = "gossip_mirror_gossip_streams_failed_total"
    static let socketReopens = "gossip_mirror_gossip_socket_reopens_total"
    /// One series per `Rejection.Reason`, in the `reason` dimension.
    static let rejected = "gossip_mirror_gossip_rejected_messages_total"
    /// One series per `SWIM.Status`, in the `state` dimension.
    static let members = "gossip_mirror_gossip_members"
    static let localHealthScore = "gossip_mirror_gossip_local_health_score"

    /// The `# HELP` text of each metric, by name.
    public static let descriptions: [String: String] = [
        sentPackets: "Gossip datagrams sent.",
        sentBytes: "Bytes of sealed gossip sent: datagrams and stream frames.",
        receivedPackets: "Gossip datagrams received.",
        receivedBytes: "Bytes of sealed gossip received: datagrams and stream frames.",
        sendFailures: "Datagrams the kernel refused to send (a firewall rule, no route); each is one lost packet.",
        streamsOpened: "Gossip stream exchanges this node opened (joins, push/pull, payload requests).",
        streamsAccepted: "Inbound gossip streams admitted under the caps.",
        streamsRefused: "Inbound gossip streams closed on accept, over a cap.",
        streamsFailed: "Gossip stream exchanges that failed, either way (timeout, refused, no valid answer).",
        socketReopens: "Times the gossip UDP socket was reopened after an error closed it.",
        rejected:
            "Gossip messages dropped: unauthenticated (wrong key or label), replayed, malformed, implausible, or over the members cap (capacity).",
        members: "Members by state, as this node sees them.",
        localHealthScore:
            "Lifeguard's local health multiplier: 0 is healthy; rising means this node is slow to process gossip.",
    ]
}
