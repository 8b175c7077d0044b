import Catalog
import Logging

/// The fetcher's side: after this node's mirror answered 404 under a claim,
/// its containerd fetches the blob from the upstream into an ingest. The
/// tracker watches that ingest, renews the claim while it grows, announces
/// the fetch in the gossiped state, and releases the claim when the ingest
/// completes, disappears or stalls.
actor FetchTracker {
    typealias Announce = @Sendable (_ fetching: [Digest]) async -> Void

    let settings: ColdPullSettings
    let ingests: any IngestSource
    let store: any ContentStore
    let client: ClaimClient
    let metrics: ColdPullMetrics
    let logger: Logger
    let announce: Announce

    /// Fetches watched now, oldest first (the announcement keeps the newest).
    private var watched: [Digest] = []
    private var tasks: [Digest: Task<Void, Never>] = [:]
    private let clock = ContinuousClock()
    /// How often the ingest is looked at while it is being fetched.
    static let checkInterval = Duration.milliseconds(200)

    init(
        settings: ColdPullSettings, ingests: any IngestSource, store: any ContentStore, client: ClaimClient, metrics: ColdPullMetrics,
        logger: Logger, announce: @escaping Announce
    ) {
        self.settings = settings
        self.ingests = ingests
        self.store = store
        self.client = client
        self.metrics = metrics
        self.logger = logger
        self.announce = announce
    }

    var fetching: [Digest] { watched }

    /// Whether this node's fetch of `digest` is being tracked (its ingest
    /// awaited or followed).
    func isWatching(_ digest: Digest) -> Bool { tasks[digest] != nil }

    /// This node was given the claim for `digest`: watch its ingest (once,
    /// however often the claim is given again).
    func claimed(_ digest: Digest) {
        guard tasks[digest] == nil else { return }
        metrics.fetchStarted()
        tasks[digest] = Task { await self.watch(digest) }
    }

    func stopAll() {
        for task in tasks.values { task.cancel() }
    }

    private func watch(_ digest: Digest) async {
        let outcome = await follow(digest)
        _ = await client.send(ClaimMessage(digest: digest, member: client.members.selfName, operation: .release(completed: outcome == nil)))
        if let outcome {
            logger.info("cold-pull fetch ended without the blob", metadata: ["digest": "\(digest)", "reason": "\(outcome)"])
        } else {
            logger.debug("cold-pull fetch completed", metadata: ["digest": "\(digest)"])
        }
        await finished(digest)
    }

    private func finished(_ digest: Digest) async {
        tasks[digest] = nil
        metrics.fetchEnded()
        if let index = watched.firstIndex(of: digest) {
            watched.remove(at: index)
            await announce(watched)
        }
    }

    /// Watches the ingest until the blob is complete (nil) or the fetch failed (why).
    private func follow(_ digest: Digest) async -> String? {
        let deadline = clock.now + settings.ingestWait
        var found: Ingest?
        while found == nil {
            if Task.isCancelled { return "stopped" }
            found = try? await ingests.ingest(of: digest)
            if found != nil { break }
            // A small blob may be committed before it is ever seen in flight.
            if let size = try? await store.size(of: digest), size > 0 { return nil }
            if clock.now >= deadline { return "no ingest appeared within \(settings.ingestWait)" }
            try? await Task.sleep(for: Self.checkInterval)
        }
        guard let ingest = found else { return "stopped" }
        watched.append(digest)
        await announce(watched)

        var size = ingest.offset
        var grewAt = clock.now
        var renewedAt = clock.now
        while !Task.isCancelled {
            guard let state = try? ingest.file.state() else { return "the ingest became unreadable" }
            if state.size >= ingest.total { return nil }
            if !state.linked { return "the ingest was removed at \(state.size) of \(ingest.total) bytes" }
            if state.size != size {
                size = state.size
                grewAt = clock.now
            } else if clock.now - grewAt >= settings.stallTimeout {
                return "the ingest stalled at \(size) of \(ingest.total) bytes"
            }
            if clock.now - renewedAt >= settings.renewInterval {
                renewedAt = clock.now
                let answer = await client.send(ClaimMessage(digest: digest, member: client.members.selfName, operation: .renew))
                if case .renewal(.superseded(let other))? = answer {
                    // Another member fetches it too (a view change): ours goes on, unannounced.
                    logger.info("cold-pull claim superseded", metadata: ["digest": "\(digest)", "fetcher": "\(other)"])
                    return "superseded by \(other)"
                }
            }
            try? await Task.sleep(for: Self.checkInterval)
        }
        return "stopped"
    }
}
