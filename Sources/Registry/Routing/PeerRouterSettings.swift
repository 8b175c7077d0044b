/// Every tunable of the peer path in one place, each default with its
/// reason (as `SWIM.Settings` does for the protocol).
public struct PeerRouterSettings: Sendable {
    /// Blobs whose holder declares at most this many bytes are fetched whole
    /// and verified before the first byte goes out (an answer that is either
    /// complete and right or a 404, so containerd can still go upstream);
    /// larger ones stream, verified as they pass, and the client's connection
    /// is aborted on a mismatch. 1 MiB: configs and small layers fit, memory
    /// stays bounded (one buffer per concurrent small relay), and streaming
    /// costs one chunk of latency, which matters little beyond a megabyte.
    public var bufferedBlobLimit: Int = 1 << 20
    /// Largest manifest or index fetched from a peer. 4 MiB is what
    /// distribution itself accepts for a manifest.
    public var manifestLimit: Int = 4 << 20
    /// Holders asked for one request, the first included, resumes too. Three
    /// tolerate two bad holders while keeping a miss (everyone wrong) fast.
    public var maximumAttempts: Int = 3
    /// Holders that must name the same digest before a tag is answered
    /// through peers (see `--tag-quorum`). 1: the first holder's sealed word.
    public var tagQuorum: Int = 1

    /// Hedged first byte: when the chosen holder has not sent its response
    /// head within the hedge delay, the next holder is asked too and the
    /// first head wins (the other transfer is cancelled). The delay is this
    /// quantile of recently observed head latencies: 0.9 hedges the slowest
    /// tenth, so at most about one request in ten costs a second request
    /// (Dean and Barroso, "The Tail at Scale", 2013; Spegel hedges at its
    /// 80th-90th percentile).
    public var hedgeQuantile: Double = 0.9
    /// The delay is never shorter than this: a head on a LAN takes about a
    /// millisecond, and hedging below a few would double the load on noise.
    public var hedgeFloor: Duration = .milliseconds(5)
    /// The delay before `hedgeMinimumSamples` heads have been observed: long
    /// enough not to hedge a healthy LAN peer, short next to a dead one's
    /// connect timeout.
    public var hedgeInitialDelay: Duration = .milliseconds(50)
    /// Head latencies remembered (a ring): recent enough to follow load.
    public var hedgeSamples: Int = 256
    /// Observations needed before the quantile is trusted.
    public var hedgeMinimumSamples: Int = 16

    /// Time to establish a TCP connection to a holder: a dead or
    /// unreachable peer must cost milliseconds, not the tens of seconds of a
    /// default dial (what Spegel users reported); 200 ms is many LAN round
    /// trips. A refused connection fails at once, whatever this says.
    public var connectTimeout: Duration = .milliseconds(200)
    /// A transfer below this many bytes per second for `lowSpeedTime` is a
    /// stalled holder: given up, and resumed on the next.
    public var lowSpeedLimit: Int = 1024
    public var lowSpeedTime: Duration = .seconds(5)

    /// How long a holder that served bytes not matching their digest is not
    /// asked at all. Ten minutes: long enough that a corrupt store does not
    /// cost every pull an attempt, short enough that a repaired node returns.
    public var banDuration: Duration = .seconds(600)
    /// Failures (refused, timed out, broken, unsealed) push a holder down the
    /// ranking by 50 ms of round trip each, and count half as much every
    /// half-life: a flapping peer recovers within a minute or two.
    public var failureHalfLife: Duration = .seconds(30)

    /// The transfers' chunk sizes and shared buffer budget.
    public var fetcher = PeerFetcher.Configuration()

    public init() {}
}
