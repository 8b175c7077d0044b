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
    /// Caps and the first-frame deadline of inbound streams.
    public var streamLimits: StreamLimits
    public var merge: SWIM.PayloadMerge?

    /// What inbound TCP streams may hold before they authenticate (issue 9,
    /// finding 2); see `StreamAdmission` and `StreamChunk`.
    public struct StreamLimits: Sendable, Hashable {
        /// Streams served at once; more are closed on accept. 64 is several
        /// times what a cluster of a few hundred members opens to one node
        /// (a push/pull every 30 s per member, payload fetches after a change).
        public var maximumInbound: Int
        /// Streams served at once from one source address: 8, twice what one
        /// member opens to another at most (push/pull, reconnect, join,
        /// payload fetch).
        public var maximumPerAddress: Int
        /// Time from accepting a connection to its first authenticated frame
        /// (one sealed chunk of at most about 16 KiB): 2 s, many round trips
        /// even on an edge link, short enough that a silent connection holds
        /// its slot briefly.
        public var firstFrameTimeout: Duration

        public init(maximumInbound: Int = 64, maximumPerAddress: Int = 8, firstFrameTimeout: Duration = .seconds(2)) {
            self.maximumInbound = maximumInbound
            self.maximumPerAddress = maximumPerAddress
            self.firstFrameTimeout = firstFrameTimeout
        }
    }

    public static let defaultPort: UInt16 = 7946
    /// 120 s: clock skew between members, kept short so that a captured
    /// message cannot be replayed for long.
    public static let defaultReplayWindowMilliseconds: UInt64 = 120_000
    /// 10 s: connect, request and answer, even for a 16 MiB push/pull.
    public static let defaultStreamTimeout: Duration = .seconds(10)

    public init(
        name: String, bindAddress: SWIM.Endpoint = .init(host: "0.0.0.0", port: defaultPort),
        advertiseAddress: SWIM.Endpoint? = nil, seeds: [String] = [], settings: SWIM.Settings = .lan,
        keyring: Keyring, label: String = "gossip-mirror", metadata: SWIM.Metadata = [:],
        replayWindowMilliseconds: UInt64 = defaultReplayWindowMilliseconds, streamTimeout: Duration = defaultStreamTimeout,
        leaveTimeout: Duration = .seconds(2), streamLimits: StreamLimits = StreamLimits(), merge: SWIM.PayloadMerge? = nil
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
        self.streamLimits = streamLimits
        self.merge = merge
    }
}
