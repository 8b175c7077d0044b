import Metrics
import Synchronization

/// Cold-pull single-flight in numbers: Prometheus series through
/// swift-metrics (names in the `gossip_mirror_` scheme, units last, with
/// `descriptions` for the `# HELP` lines) and the same counts for
/// `/status.json` and the tests.
public final class ColdPullMetrics: Sendable {
    /// Counts since start (gauges: now).
    public struct Counts: Codable, Hashable, Sendable {
        /// Claims this node holds as a coordinator, fetching and completed.
        public var claimsFetching = 0
        public var claimsCompleted = 0
        /// Members told to follow the fetchers of those claims.
        public var claimFollowers = 0
        /// What this node's own cold requests were told: fetch, follow, none,
        /// or uncoordinated (no coordinator answered).
        public var decisions: [String: Int] = [:]
        /// Blobs this node's containerd fetches from the upstream under a claim now.
        public var fetchesInProgress = 0
        /// Followers this node streams an ingest to now.
        public var followersServed = 0
        /// Bytes this node received from a fetcher instead of the upstream.
        public var followedBytes: Int64 = 0
        /// Bytes this node served to followers from its ingests.
        public var ingestServedBytes: Int64 = 0
        /// Follows that failed (the fetcher unreachable, its ingest gone, a stall).
        public var followFailures = 0

        public init() {}
    }

    public static let descriptions: [String: String] = [
        "gossip_mirror_cold_pull_claims": "Claims this node holds as the coordinator of their digests, by phase (fetching, completed).",
        "gossip_mirror_cold_pull_claim_followers": "Members told to follow the fetchers of the claims this node holds.",
        "gossip_mirror_cold_pull_decisions_total":
            "Answers to this node's requests for blobs no member held: fetch (from the upstream), follow (a fetcher), none, uncoordinated (no coordinator answered).",
        "gossip_mirror_cold_pull_fetches": "Blobs this node's containerd is fetching from the upstream under a claim.",
        "gossip_mirror_cold_pull_followers_served": "Followers this node streams a blob to while its containerd fetches it.",
        "gossip_mirror_cold_pull_followed_bytes_total": "Bytes received from a fetcher instead of the upstream (upstream bytes saved).",
        "gossip_mirror_cold_pull_ingest_served_bytes_total": "Bytes served to followers from blobs still being fetched.",
        "gossip_mirror_cold_pull_follow_failures_total": "Follows that failed: fetcher unreachable, its ingest gone or stalled.",
    ]

    private let counts = Mutex(Counts())
    private let claimsFetching = Gauge(label: "gossip_mirror_cold_pull_claims", dimensions: [("phase", "fetching")])
    private let claimsCompleted = Gauge(label: "gossip_mirror_cold_pull_claims", dimensions: [("phase", "completed")])
    private let claimFollowers = Gauge(label: "gossip_mirror_cold_pull_claim_followers")
    private let decisions: [String: Counter] = Dictionary(
        uniqueKeysWithValues: ["fetch", "follow", "none", "uncoordinated"].map {
            ($0, Counter(label: "gossip_mirror_cold_pull_decisions_total", dimensions: [("decision", $0)]))
        })
    private let fetches = Gauge(label: "gossip_mirror_cold_pull_fetches")
    private let followersServed = Gauge(label: "gossip_mirror_cold_pull_followers_served")
    private let followedBytes = Counter(label: "gossip_mirror_cold_pull_followed_bytes_total")
    private let ingestServedBytes = Counter(label: "gossip_mirror_cold_pull_ingest_served_bytes_total")
    private let followFailures = Counter(label: "gossip_mirror_cold_pull_follow_failures_total")

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    func claims(_ claims: ClaimCounts) {
        claimsFetching.record(claims.fetching)
        claimsCompleted.record(claims.completed)
        claimFollowers.record(claims.followers)
        counts.withLock {
            $0.claimsFetching = claims.fetching
            $0.claimsCompleted = claims.completed
            $0.claimFollowers = claims.followers
        }
    }

    /// What a cold request of this node was told.
    func decided(_ decision: String) {
        decisions[decision]?.increment()
        counts.withLock { $0.decisions[decision, default: 0] += 1 }
    }

    func fetchStarted() { adjust(\.fetchesInProgress, by: 1, gauge: fetches) }
    func fetchEnded() { adjust(\.fetchesInProgress, by: -1, gauge: fetches) }
    func followerStarted() { adjust(\.followersServed, by: 1, gauge: followersServed) }
    func followerEnded() { adjust(\.followersServed, by: -1, gauge: followersServed) }

    private func adjust(_ field: WritableKeyPath<Counts, Int>, by delta: Int, gauge: Gauge) {
        let value = counts.withLock { counts in
            counts[keyPath: field] = max(0, counts[keyPath: field] + delta)
            return counts[keyPath: field]
        }
        gauge.record(value)
    }

    func followed(bytes: Int) {
        followedBytes.increment(by: bytes)
        counts.withLock { $0.followedBytes += Int64(bytes) }
    }

    func servedIngest(bytes: Int) {
        ingestServedBytes.increment(by: bytes)
        counts.withLock { $0.ingestServedBytes += Int64(bytes) }
    }

    func followFailed() {
        followFailures.increment()
        counts.withLock { $0.followFailures += 1 }
    }
}
