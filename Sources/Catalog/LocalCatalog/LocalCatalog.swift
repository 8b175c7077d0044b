#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Metrics

/// What this node holds, kept current: owns a content store, rescans it on
/// store events and periodically, and maintains the snapshot the registry
/// front serves from and the summary the gossip layer spreads.
///
/// If the store fails, the last snapshot stays in service and `storeStatus`
/// says why. Scans never overlap: requests that arrive while one runs are
/// served by the next one.
public actor LocalCatalog {
    public struct Configuration: Sendable {
        /// Rescan this often even without store events (containerd raises none
        /// for garbage-collected blobs).
        public var relistInterval: Duration
        /// Target false-positive rate of the summary.
        public var falsePositiveRate: Double
        /// The smallest number of entries a summary filter is sized for.
        public var minimumCapacity: Int
        /// A rebuilt filter is sized for `headroom` × its entries.
        public var capacityHeadroom: Double
        public var registryFilter: RegistryFilter
        public var walkLimits: ImageWalker.Limits
        /// The generation of the first (empty) summary. Nil: the wall clock in
        /// microseconds, so a restarted node continues above its previous
        /// generations and peers never mistake a new summary for an old one.
        public var initialGeneration: UInt64?

        public init(relistInterval: Duration = .seconds(60), falsePositiveRate: Double = 0.01,
                    minimumCapacity: Int = 1024, capacityHeadroom: Double = 2,
                    registryFilter: RegistryFilter = RegistryFilter(),
                    walkLimits: ImageWalker.Limits = ImageWalker.Limits(), initialGeneration: UInt64? = nil) {
            precondition(capacityHeadroom >= 1, "headroom below 1 would rebuild on every addition")
            self.relistInterval = relistInterval
            self.falsePositiveRate = falsePositiveRate
            self.minimumCapacity = minimumCapacity
            self.capacityHeadroom = capacityHeadroom
            self.registryFilter = registryFilter
            self.walkLimits = walkLimits
            self.initialGeneration = initialGeneration
        }
    }

    private let store: any ContentStore
    private let configuration: Configuration
    private let logger: Logger
    private var scanner: CatalogScanner
    private var nodeSummary: NodeSummary
    private var broadcaster = SummaryBroadcaster()

    /// The snapshot in service.
    public private(set) var snapshot = CatalogSnapshot.empty
    public private(set) var storeStatus = StoreStatus.starting

    /// What the store holds but cannot share, and why (for status pages and `locate`).
    public nonisolated func skippedImages() async -> [SkippedImage] { await store.skippedImages() }

    /// The scan waiting to start, which new requests join.
    private var pendingScan: Task<Void, Never>?
    /// The most recently created scan; the next one waits for it.
    private var latestScan: Task<Void, Never>?

    private let entriesGauge = Gauge(label: "gossip_mirror_catalog_entries")
    private let blobsGauge = Gauge(label: "gossip_mirror_catalog_blobs")
    private let tagsGauge = Gauge(label: "gossip_mirror_catalog_tags")
    private let scanFailures = Counter(label: "gossip_mirror_catalog_scan_failures_total")
    private let scanTimer = Metrics.Timer(label: "gossip_mirror_catalog_scan_duration_seconds")

    /// The `# HELP` text of each metric above, by name.
    public static let metricDescriptions: [String: String] = [
        "gossip_mirror_catalog_entries": "Keys in this node's summary (digests and tags).",
        "gossip_mirror_catalog_blobs": "Blobs (manifests, configs, layers) this node advertises.",
        "gossip_mirror_catalog_tags": "Tags this node advertises.",
        "gossip_mirror_catalog_scan_failures_total": "Scans of the content store that failed (the previous catalog stays in service).",
        "gossip_mirror_catalog_scan_duration_seconds": "Time to scan the content store.",
    ]

    public init(store: any ContentStore, configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "gossip-mirror.catalog")) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.scanner = CatalogScanner(walker: ImageWalker(limits: configuration.walkLimits, logger: logger),
                                      filter: configuration.registryFilter, logger: logger)
        self.nodeSummary = NodeSummary(
            sizing: .init(falsePositiveRate: configuration.falsePositiveRate,
                          minimumCapacity: configuration.minimumCapacity, headroom: configuration.capacityHeadroom),
            initialGeneration: configuration.initialGeneration ?? Self.wallClockMicroseconds())
    }

    // MARK: Serving

    /// The serialized summary (`BloomFilter`) of the snapshot in service.
    public var summary: [UInt8] { nodeSummary.serialized }

    /// The summary's generation; increases by one on every change of its entries.
    public var generation: UInt64 { nodeSummary.generation }

    /// The advertised descriptor of a blob this node holds.
    public func lookup(_ digest: Digest) -> Descriptor? { snapshot.blobs[digest] }

    /// The root descriptor of an advertised tag, by its normalised key
    /// `registry/repository:tag`.
    public func resolve(_ tagKey: String) -> Descriptor? { snapshot.tags[tagKey] }

    /// The descriptor a reference names here: by digest when it has one,
    /// else by tag.
    public func resolve(_ reference: ImageReference) -> Descriptor? {
        if let digest = reference.digest { return lookup(digest) }
        return reference.tagKey.flatMap { snapshot.tags[$0] }
    }

    /// Summary updates from now on, starting with `.full` of the current summary.
    public func summaryUpdates() -> AsyncStream<SummaryUpdate> {
        broadcaster.subscribe(current: nodeSummary.serialized) { [weak self] id in
            Task { await self?.unsubscribe(id) }
        }
    }

    private func unsubscribe(_ id: Int) { broadcaster.remove(id) }

    // MARK: Keeping current

    /// Scans once, then follows store events and rescans every
    /// `relistInterval` until the calling task is cancelled.
    public func run() async {
        let events = store.events()  // before the first scan, so no change slips between
        await refresh()
        let interval = configuration.relistInterval
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await event in events { await self.handle(event) }
            }
            group.addTask {
                while true {
                    do { try await Task.sleep(for: interval) } catch { return }
                    await self.refresh()
                }
            }
        }
        broadcaster.finishAll()
    }

    /// Rescans the store now and returns when a scan that started after this
    /// call has finished (a scan already waiting to start is joined).
    public func refresh() async {
        if let pending = pendingScan {
            await pending.value
            return
        }
        let previous = latestScan
        let scan = Task {
            await previous?.value
            await self.performScan()
        }
        pendingScan = scan
        latestScan = scan
        await scan.value
    }

    private func handle(_ event: StoreEvent) async {
        switch event {
        case .imagesChanged:
            await refresh()
        case .availability(available: false, let detail):
            logger.warning("content store unavailable; serving the last snapshot", metadata: ["detail": "\(detail)"])
            storeStatus = .unavailable(detail)
        case .availability(available: true, _):
            await refresh()
        }
    }

    private func performScan() async {
        pendingScan = nil  // from here on, a request needs a scan that starts later
        let started = ContinuousClock.now
        var scanner = self.scanner
        defer { self.scanner = scanner }
        let scanned: CatalogSnapshot
        do {
            scanned = try await scanner.scan(store)
        } catch {
            scanFailures.increment()
            logger.warning("scanning the content store failed; serving the last snapshot", metadata: ["error": "\(error)"])
            storeStatus = .unavailable("\(error)")
            return
        }
        scanTimer.recordInterval(since: started)
        storeStatus = .available
        install(scanned)
    }

    private func install(_ scanned: CatalogSnapshot) {
        snapshot = scanned
        blobsGauge.record(scanned.blobs.count)
        tagsGauge.record(scanned.tags.count)
        let keys = scanned.summaryKeys
        entriesGauge.record(keys.count)
        guard let update = nodeSummary.update(to: keys) else { return }
        logger.debug("summary changed", metadata: [
            "generation": "\(nodeSummary.generation)", "entries": "\(keys.count)",
            "update": "\(update.isDelta ? "delta" : "full")", "bytes": "\(update.bytes.count)",
        ])
        broadcaster.publish(update)
    }

    private static func wallClockMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}

extension SummaryUpdate {
    fileprivate var isDelta: Bool {
        if case .delta = self { return true }
        return false
    }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
