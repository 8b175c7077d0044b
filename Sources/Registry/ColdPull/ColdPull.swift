import Catalog
import Gossip
import Logging

/// Cluster single-flight for blobs no member holds yet (issue 15): the
/// first member to ask fetches from the upstream, the others stream the
/// blob from its containerd's ingest while it arrives. See
/// `docs/architecture.md`, "Cold pulls".
///
/// This is the registry's one entry point to the feature: `route` for a
/// blob request that found no holder, `source` for a follower asking this
/// node for a blob it is fetching, `update` for membership changes. The
/// parts: `ColdPullMembers` (the view), `ClaimCoordinator` (the claims of
/// the digests this node coordinates), `ClaimClient` (asking coordinators),
/// `FetchTracker` (this node's own fetches).
public final class ColdPull: Sendable {
    public let settings: ColdPullSettings
    public let members: ColdPullMembers
    public let coordinator: ClaimCoordinator
    public let metrics: ColdPullMetrics
    let client: ClaimClient
    let router: PeerRouter
    let store: any ContentStore
    /// Nil when the store cannot show blobs in flight (an OCI layout, or no
    /// readable containerd content directory): this node then never fetches
    /// for others, but still coordinates, and follows announced fetches.
    let ingests: (any IngestSource)?
    let tracker: FetchTracker?
    let logger: Logger

    public init(
        settings: ColdPullSettings, store: any ContentStore, router: PeerRouter, metrics: ColdPullMetrics = ColdPullMetrics(),
        logger: Logger,
        announce: @escaping @Sendable (_ fetching: [Digest]) async -> Void = { _ in }
    ) {
        self.settings = settings
        self.metrics = metrics
        self.store = store
        self.router = router
        self.logger = logger
        let members = ColdPullMembers(selfName: router.credentials.nodeName)
        self.members = members
        let coordinator = ClaimCoordinator(settings: settings, members: members, metrics: metrics)
        self.coordinator = coordinator
        let client = ClaimClient(
            members: members, coordinator: coordinator, fetcher: router.fetcher, credentials: router.credentials,
            attempts: settings.coordinatorAttempts, logger: logger)
        self.client = client
        let ingests = store as? any IngestSource
        self.ingests = ingests
        self.tracker = ingests.map {
            FetchTracker(settings: settings, ingests: $0, store: store, client: client, metrics: metrics, logger: logger, announce: announce)
        }
    }

    /// Takes a new membership view; the claims of members gone from it end.
    public func update(members list: [SWIM.Member]) {
        coordinator.remove(members: members.update(list))
    }

    /// Where this node's request for `digest`, which no member holds, goes.
    public enum Route: Hashable, Sendable {
        /// Answer 404: containerd fetches from the upstream (under a claim,
        /// or uncoordinated when no coordinator answered).
        case fetch
        /// Stream it from this member, which is fetching it.
        case follow(ColdPullMembers.Member)
        /// Answer 404 without a claim (off, or this node cannot fetch for others).
        case none
    }

    /// Asks who fetches `digest`; `unreachable` names a fetcher this node
    /// just failed to reach, whose claim then passes on.
    public func route(_ digest: Digest, unreachable: String? = nil) async -> Route {
        guard settings.enabled else { return .none }
        if unreachable == nil, let announcer = members.announcer(of: digest, excluding: members.selfName),
            let member = followable(announcer)
        {
            metrics.decided("follow")
            return .follow(member)
        }
        // A node that cannot fetch for others follows announced fetches only:
        // its misses stay a local decision of microseconds, as without this
        // feature (the coordinator could only add a fetch not announced yet).
        guard tracker != nil else {
            metrics.decided("none")
            return .none
        }
        let message = ClaimMessage(digest: digest, member: members.selfName, operation: .ask(unreachable: unreachable))
        switch await client.send(message) {
        case .decision(.fetch)?:
            metrics.decided("fetch")
            await tracker?.claimed(digest)
            return .fetch
        case .decision(.follow(let name))?:
            if name == members.selfName {
                metrics.decided("fetch")
                await tracker?.claimed(digest)
                return .fetch
            }
            guard let member = followable(name) else {
                // A fetcher this node does not know (views differ) or has
                // banned for wrong bytes: treat it as unreachable, once.
                if unreachable == nil { return await route(digest, unreachable: name) }
                return .none
            }
            metrics.decided("follow")
            return .follow(member)
        case .decision(.none)?:
            metrics.decided("none")
            return .none
        case .renewal?, .released?:
            return .none
        case nil:
            metrics.decided("uncoordinated")
            return .fetch
        }
    }

    /// `name` as a member to follow: known, and not banned for wrong bytes.
    private func followable(_ name: String) -> ColdPullMembers.Member? {
        guard !router.directory.isBanned(name) else { return nil }
        return members.member(named: name)
    }

    /// What this node can serve a follower of `digest`: the committed blob,
    /// or the ingest as it grows (waiting up to `ingestWait` for it to
    /// appear while this node's fetch of it is tracked); nil otherwise
    /// (answer 404: the follower asks again, or its containerd goes to the
    /// upstream).
    public func source(for digest: Digest) async -> FollowSource? {
        guard settings.enabled, let ingests, let tracker else { return nil }
        let clock = ContinuousClock()
        let deadline = clock.now + settings.ingestWait
        while true {
            if let blob = try? await store.open(digest) { return .committed(blob) }
            if let ingest = try? await ingests.ingest(of: digest) {
                let follower = IngestFollower(file: ingest.file, total: ingest.total, settings: settings.follower)
                return .ingest(total: ingest.total, follower)
            }
            // Wait only for a fetch of ours whose ingest has not been seen yet.
            guard await tracker.isWatching(digest), clock.now < deadline, !Task.isCancelled else { return nil }
            try? await Task.sleep(for: FetchTracker.checkInterval)
        }
    }

    /// Blobs this node's containerd fetches from the upstream under a claim now.
    public var fetching: [Digest] {
        get async { await tracker?.fetching ?? [] }
    }

    /// Stops watching this node's fetches (shutdown).
    public func stop() async {
        await tracker?.stopAll()
    }
}

/// What a fetcher serves a follower from.
public enum FollowSource: Sendable {
    case committed(BlobSource)
    case ingest(total: Int64, IngestFollower)
}
