import Catalog

/// Cluster single-flight for cold pulls (see `docs/architecture.md`, "Cold
/// pulls"): the settings and why each default is what it is. The command
/// line names them `--cold-pull*` (`docs/configuration.md`).
public struct ColdPullSettings: Hashable, Sendable {
    /// Off: a blob no member holds gets a 404 at once, as without this
    /// feature, and this node coordinates, fetches for and serves nobody's
    /// cold pulls (it still answers claim requests with "no claim").
    public var enabled: Bool

    /// How long a claim lives at its coordinator without being renewed.
    /// The fetcher renews every third of it while its ingest grows, so a
    /// claim survives two lost renewals; a fetcher that dies silently holds
    /// its digests at most this long (SWIM usually declares it dead sooner,
    /// which ends its claims at once).
    public var claimTTL: Duration

    /// How long a follower waits for the fetcher's ingest to grow before
    /// its stream fails (and containerd retries, from the mirror with
    /// `Range`, then the upstream). containerd writes an ingest in steps of at
    /// least 1 MiB, so this must exceed one step at the slowest upstream
    /// expected: 1 MiB at 1 Mbit/s takes 8.4 s; 30 s allows 300 kbit/s.
    public var stallTimeout: Duration

    /// How long a fetcher's mirror waits for its containerd's ingest to
    /// appear when a follower asks for it. containerd opens the ingest
    /// before it asks the mirror, so it is normally there at once; this
    /// covers a follower told of a fetch whose containerd has not yet
    /// started it. Afterwards the follower gets a 404 and its containerd
    /// fetches from the upstream itself.
    public var ingestWait: Duration

    /// How long a completed fetch is still pointed to (its fetcher holds the
    /// blob but advertises it only once containerd records the image).
    public var completedRetention: Duration

    /// Claims a coordinator holds at once; beyond that askers fetch
    /// without a claim (bounds memory against a flood of digests).
    public var maximumClaims: Int

    /// Members asked, in rendezvous order, before an asker gives up on
    /// coordination and fetches by itself.
    public var coordinatorAttempts: Int

    public init(
        enabled: Bool = true, claimTTL: Duration = .seconds(10), stallTimeout: Duration = .seconds(30),
        ingestWait: Duration = .seconds(5), completedRetention: Duration = .seconds(60), maximumClaims: Int = 4096,
        coordinatorAttempts: Int = 3
    ) {
        self.enabled = enabled
        self.claimTTL = claimTTL
        self.stallTimeout = stallTimeout
        self.ingestWait = ingestWait
        self.completedRetention = completedRetention
        self.maximumClaims = maximumClaims
        self.coordinatorAttempts = coordinatorAttempts
    }

    /// How often a fetcher renews its claim.
    public var renewInterval: Duration { claimTTL / 3 }

    var claimTable: ClaimTable.Settings {
        ClaimTable.Settings(ttl: claimTTL, completedRetention: completedRetention, capacity: maximumClaims)
    }

    var follower: IngestFollower.Settings {
        IngestFollower.Settings(stallTimeout: stallTimeout)
    }
}
