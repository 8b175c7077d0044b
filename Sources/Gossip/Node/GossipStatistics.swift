/// Counters of a running node, for status pages and tests.
public struct GossipStatistics: Sendable, Hashable, Codable {
    public var packetsSent = 0
    public var packetsReceived = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var streamsOpened = 0
    public var streamsAccepted = 0
    public var streamsFailed = 0
    /// Datagrams and frames no installed key could open (wrong key or label, tampered).
    public var rejectedUnauthenticated = 0
    /// Sealed messages outside the clock window, stamped before the node
    /// started, or seen before.
    public var rejectedReplayed = 0
    /// Messages that opened but did not decode (or stream chunks that do not
    /// continue their stream).
    public var rejectedMalformed = 0
    /// Updates dropped for an incarnation beyond `SWIM.Limits`.
    public var rejectedImplausible = 0
    /// News of new members dropped over `SWIM.Limits.maximumMembers`.
    public var rejectedCapacity = 0
    /// Inbound streams closed on accept, over a cap of `StreamLimits`.
    public var streamsRefused = 0
    /// Times the UDP socket was reopened after an error closed it.
    public var socketReopens = 0
    /// Datagrams the kernel refused to send (a firewall rule, no route, a
    /// full send buffer); each is lost, the socket stays open.
    public var sendFailures = 0

    public init() {}

    /// Missing counters read as 0, so that `status` works against a node of
    /// an older version, which does not report the newer counters yet.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        packetsSent = try count(.packetsSent)
        packetsReceived = try count(.packetsReceived)
        bytesSent = try count(.bytesSent)
        bytesReceived = try count(.bytesReceived)
        streamsOpened = try count(.streamsOpened)
        streamsAccepted = try count(.streamsAccepted)
        streamsFailed = try count(.streamsFailed)
        rejectedUnauthenticated = try count(.rejectedUnauthenticated)
        rejectedReplayed = try count(.rejectedReplayed)
        rejectedMalformed = try count(.rejectedMalformed)
        rejectedImplausible = try count(.rejectedImplausible)
        rejectedCapacity = try count(.rejectedCapacity)
        streamsRefused = try count(.streamsRefused)
        socketReopens = try count(.socketReopens)
        sendFailures = try count(.sendFailures)
    }

    /// Everything rejected, whatever the reason.
    public var rejected: Int {
        rejectedUnauthenticated + rejectedReplayed + rejectedMalformed + rejectedImplausible + rejectedCapacity
    }
}
