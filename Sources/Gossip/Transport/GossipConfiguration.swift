/// Everything a `GossipNode` needs to start.
public struct GossipConfiguration: Sendable {
    /// This member's unique name (default in the CLI: the host name).
    public var name: String
    /// Where to listen for UDP and TCP (`0.0.0.0:7946` by default).
    public var bindAddress: SWIM.Endpoint
    /// What other members dial; derived from `bindAddress` when nil (the
    /// first non-loopback IPv4 address when bound to 0.0.0.0). Separate from
    /// the bind address for bridge networks and NAT.
    public var advertiseAddress: SWIM.Endpoint?
    /// Seeds: `host:port`, or DNS names that may resolve to many addresses
    /// (a headless Service, Consul or Nomad service DNS); port 7946 if absent.
    public var seeds: [String]
    public var settings: SWIM.Settings
    public var keyring: Keyring
    /// Bound into every sealed message: clusters with different labels never
    /// talk even under the same key.
    public var label: String
    public var metadata: SWIM.Metadata
    /// Accepted clock difference between members for sealed timestamps.
    public var replayWindowMilliseconds: UInt64
    /// Time to connect, send and receive one stream exchange.
    public var streamTimeout: Duration
    /// How long a graceful leave waits for its news to spread.
    public var leaveTimeout: Duration
    public var merge: SWIM.PayloadMerge?

    public static let defaultPort: UInt16 = 7946

    public init(
        name: String, bindAddress: SWIM.Endpoint = .init(host: "0.0.0.0", port: defaultPort),
        advertiseAddress: SWIM.Endpoint? = nil, seeds: [String] = [], settings: SWIM.Settings = .lan,
        keyring: Keyring, label: String = "gossip-mirror", metadata: SWIM.Metadata = [:],
        replayWindowMilliseconds: UInt64 = 120_000, streamTimeout: Duration = .seconds(10),
        leaveTimeout: Duration = .seconds(2), merge: SWIM.PayloadMerge? = nil
    ) {
        self.name = name
        self.bindAddress = bindAddress
        self.advertiseAddress = advertiseAddress
        self.seeds = seeds
        self.settings = settings
        self.keyring = keyring
        self.label = label
        self.metadata = metadata
        self.replayWindowMilliseconds = replayWindowMilliseconds
        self.streamTimeout = streamTimeout
        self.leaveTimeout = leaveTimeout
        self.merge = merge
    }
}
